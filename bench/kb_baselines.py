"""Retrieval baselines run beside the engine: jieba + BM25 and character TF-IDF."""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from knowledge.decide import Candidate, SearchResult
from knowledge.index import IndexDoc

_LOGGER = logging.getLogger(__name__)


class Baseline:
    """Ranks entry titles; ``answer`` when the top score reaches ``threshold`` (tuned on dev)."""

    threshold = float("inf")

    def build(self, docs: Sequence[IndexDoc]) -> None:
        """Index the entries' titles."""
        self.docs = list(docs)
        self._fit([d.title for d in self.docs])

    def search(self, query: str, top: int = 5) -> SearchResult:
        """The ``top`` titles by score; ``answer`` at or above the threshold, else ``none``."""
        scores = self._scores(query)
        order = np.argsort(-scores)[:top]
        cands = tuple(Candidate(self.docs[i].id, float(scores[i]), self.docs[i].title)
                      for i in order if scores[i] > 0)
        decision = "answer" if cands and cands[0].score >= self.threshold else "none"
        return SearchResult(query, decision, cands)


class Bm25Baseline(Baseline):
    """Plain jieba (own tokenizer, default dictionary) + ``rank_bm25.BM25Okapi`` over titles."""

    def _fit(self, titles: list[str]) -> None:
        import jieba
        from rank_bm25 import BM25Okapi

        self._tok = jieba.Tokenizer()
        self._bm25 = BM25Okapi([self._cut(t) for t in titles])

    def _cut(self, text: str) -> list[str]:
        return [w for w in self._tok.lcut(text.lower()) if w.strip()] or [""]

    def _scores(self, query: str) -> np.ndarray:
        return np.asarray(self._bm25.get_scores(self._cut(query[:2000])))


class TfidfBaseline(Baseline):
    """Character 1-2-gram TF-IDF cosine over titles (scikit-learn)."""

    def _fit(self, titles: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
        self._mat = self._vec.fit_transform(titles)

    def _scores(self, query: str) -> np.ndarray:
        return (self._mat @ self._vec.transform([query[:2000]]).T).toarray().ravel()


def tune_threshold(baseline: Baseline, dev: Sequence[dict]) -> float:
    """Pick the baseline's answer threshold on dev (same utility as ``tune_engine``)."""
    tops = [baseline.search(q["query"]) for q in dev]
    n_a = max(1, sum(bool(q["gold"]) for q in dev))
    best, best_u = float("inf"), -1e9
    for th in sorted({c.candidates[0].score for c in tops if c.candidates}):
        right = sum(1 for q, r in zip(dev, tops) if r.candidates and r.candidates[0].score >= th
                    and r.candidates[0].id in q["gold"])
        wrong = sum(1 for q, r in zip(dev, tops) if r.candidates and r.candidates[0].score >= th
                    and r.candidates[0].id not in q["gold"])
        u = (right - 4 * wrong) / n_a
        if u > best_u:
            best, best_u = th, u
    baseline.threshold = best
    return best


