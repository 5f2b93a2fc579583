"""In-memory multi-signal search index over published entries, with live upsert/remove."""
from __future__ import annotations

import gc
import logging
import re
import threading
from array import array
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from knowledge.decide import (LEXICAL_CONFIG, Candidate, RetrievalConfig, SearchResult,
                              calibrate, decide)
from knowledge.dense import DenseRows, run_beside
from knowledge.encoder import MAX_TOKENS, SentenceEncoder
from knowledge.normalize import (TermMap, clause_weights, normalize, question_types, split_clauses,
                                 to_simplified)
from knowledge.phonetic import bigrams
from knowledge.postings import ROW_CHANNELS, Postings, channel_terms, counts, query_terms
from knowledge.scoring import best_docs, bm25, coverage
from knowledge.segment import Segmenter
from knowledge.semantic import SemanticSpace

_LOGGER = logging.getLogger(__name__)

__all__ = ["IndexDoc", "Candidate", "SearchResult", "RetrievalConfig", "SearchIndex"]

ANSWER_PREFIX_CHARS = 200
"""Leading answer characters in the lexical answer channel (answers run to 14k characters)."""
SEMANTIC_ANSWER_CHARS = 600
"""Leading answer characters in the semantic space (the title counts three times there)."""
QUERY_MAX_CHARS = 240
"""Longer normalised queries keep their last clauses up to this length (the question is there)."""
QUERY_RAW_CHARS = 2 * QUERY_MAX_CHARS
"""Only the tail of a long raw query is normalised (fillers and punctuation rarely halve it)."""
QUERY_ENCODE_CHARS = 8 * MAX_TOKENS
"""The tail of the raw query given to the encoder, which keeps its last ``MAX_TOKENS`` tokens (a
token is one Chinese character, or a word piece of a few Latin letters or digits)."""
_JUNK_RUN_RE = re.compile(r"[\W_]{2,}")
_SHORT_TITLE = 10


def query_tail(query: str, chars: int) -> str:
    """The last ``chars`` characters of a long query, after runs of punctuation, symbols and
    emoji are collapsed to a space (so a tail of junk cannot push the question out)."""
    if len(query) <= chars:
        return query
    return _JUNK_RUN_RE.sub(" ", query)[-chars:]


@dataclass(frozen=True)
class IndexDoc:
    """One published entry as the index sees it (``keywords`` also feed the user dictionary)."""

    id: str
    title: str
    similar: tuple[str, ...]
    answer: str
    category: str = ""
    department: str = ""
    keywords: tuple[str, ...] = ()


@dataclass
class _Slot:
    doc: IndexDoc
    rows: list[int]  # one row per distinct question (title first)
    keys: list[str]  # the normalised questions, row order
    answer_terms: tuple[array, array]


class SearchIndex:
    """Multi-signal retrieval index; see docs/ARCHITECTURE.md "Retrieval contract".

    Every question of an entry (title and similar questions) is a row. Per channel (character
    unigrams, folded toneless-pinyin bigrams, optionally words and character bigrams) a row scores
    ``qcov**a * dcov**(1-a)``: the IDF-weighted share of the query found in the row and of the row
    found in the query (with ``a = 0.5`` and squared IDF this is TF-IDF cosine). Entries add a
    BM25 answer channel (title, answer prefix, keywords, category, department), a semantic
    similarity (character LSA learnt from the entries, ``knowledge.semantic``) and a question-type
    bonus or malus. With a sentence encoder, each row also scores the cosine of its question with
    the query (``knowledge.dense``), above ``dense_floor`` and rescaled to 0..1. The weighted sum
    is the raw similarity (about 0..1); ``decide.calibrate`` maps
    it to the candidate score. Postings are append-only arrays scored densely with numpy; ``remove``
    tombstones rows and compaction re-posts the live rows when many are dead.
    """

    def __init__(self, config: RetrievalConfig | None = None,
                 terms: Mapping[str, str] | None = None, segmenter: Segmenter | None = None,
                 encoder: SentenceEncoder | None = None):
        """Create an empty index.

        Args:
            config: Weights and thresholds. By default, the set tuned on the dev set for the
                index as built: with the dense channel when ``encoder`` is given, lexical
                (``LEXICAL_CONFIG``) otherwise. Channel weights that are 0 when ``build`` runs
                are not indexed at all.
            terms: Colloquial variant -> standard term map.
            segmenter: Shared segmenter (a private one is created otherwise).
            encoder: Sentence encoder for the dense channel (``encoder.load_default()``).
        """
        self.config = config or (RetrievalConfig() if encoder else LEXICAL_CONFIG)
        self._encoder = encoder
        self._seg = segmenter or Segmenter()
        self._terms = TermMap(terms or {})
        self._seg.add_words(self._terms.words())
        self._lock = threading.RLock()
        self._reset()

    def _reset(self, chans: tuple[str, ...] | None = None) -> None:
        cfg = self.config
        self._chans = chans or tuple(c for c in ROW_CHANNELS if getattr(cfg, f"weight_{c}") > 0)
        self._chans = self._chans or ("u",)
        self._post = {c: Postings() for c in self._chans}
        self._apost = Postings()
        self._row_terms: dict[str, list[tuple[array, array]]] = {c: [] for c in self._chans}
        self._row_doc = np.zeros(1024, np.int32)
        self._row_alive = np.zeros(1024, bool)
        self._row_qt = np.zeros(1024, np.int32)
        self._row_mass = {c: np.zeros(1024, np.float32) for c in self._chans}
        self._n_rows = self._alive_rows = self._dead_rows = 0
        self._slots: list[_Slot | None] = []
        self._doc_len = np.zeros(1024, np.float32)
        self._by_id: dict[str, int] = {}
        self._sem = SemanticSpace(cfg.semantic_dims)
        self._mass_n, self._mass_power = 0, cfg.idf_power
        self._dense = DenseRows(self._encoder) if self._encoder and cfg.weight_d > 0 else None

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._by_id

    @staticmethod
    def _fit(arr: np.ndarray, need: int) -> np.ndarray:
        if need <= len(arr):
            return arr
        new = np.zeros((max(need, 2 * len(arr)),) + arr.shape[1:], arr.dtype)
        new[: len(arr)] = arr
        return new

    # ------------------------------------------------------------------ writes
    def build(self, docs: Iterable[IndexDoc]) -> None:
        """Replace the whole index with ``docs`` (a later duplicate of an id wins).

        Args:
            docs: Published entries.
        """
        docs = list({d.id: d for d in docs}.values())
        with self._lock:
            self._reset()
            self._seg.add_words(w for d in docs for w in self._user_words(d))
            for doc in docs:
                self._insert(doc, bulk=True)
            if self._dense is not None:
                self._dense.flush()
            self._refresh_mass()
            self._refit_semantic()
        gc.collect()  # promote the new long-lived structures now, not during the first queries
        _LOGGER.info("index built: %d entries, %d questions", len(self._by_id), self._n_rows)

    def upsert(self, doc: IndexDoc) -> None:
        """Insert or replace one entry at a cost proportional to the entry (no rebuild).

        Args:
            doc: The entry.
        """
        with self._lock:
            self._seg.add_words(self._user_words(doc))
            if doc.id in self._by_id:
                self._delete(doc.id)
            self._insert(doc)
            if len(self._by_id) >= max(10, 2 * self._sem.fitted_docs):
                self._refit_semantic()  # the space doubles rarely: amortised O(1) per upsert
            if abs(self._alive_rows - self._mass_n) > 0.1 * max(self._mass_n, 50):
                self._refresh_mass()
            self._maybe_compact()

    def remove(self, doc_id: str) -> None:
        """Remove an entry; unknown ids are ignored.

        Args:
            doc_id: External id.
        """
        with self._lock:
            if doc_id in self._by_id:
                self._delete(doc_id)
                self._maybe_compact()

    def set_terms(self, terms: Mapping[str, str]) -> None:
        """Replace the variant -> standard map; only entries containing a changed variant or
        standard are re-indexed (nothing happens when the map is unchanged).

        Args:
            terms: Colloquial variant -> standard term.
        """
        new = TermMap(terms)
        with self._lock:
            changed = self._terms.changed_words(new)
            if not changed:
                return
            self._terms = new
            self._seg.add_words(new.words())
            pattern = re.compile("|".join(map(re.escape, sorted(changed, key=len, reverse=True))))
            touched = [s.doc for s in self._slots if s is not None and any(
                pattern.search(normalize(t)) for t in self._doc_texts(s.doc))]
            for doc in touched:
                self._delete(doc.id)
                self._insert(doc)
            self._maybe_compact()
        _LOGGER.info("terms updated: %d changed words, %d entries re-indexed", len(changed),
                     len(touched))

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _doc_texts(doc: IndexDoc) -> list[str]:
        return [doc.title, *doc.similar, doc.answer[:SEMANTIC_ANSWER_CHARS], *doc.keywords,
                doc.category, doc.department]

    @staticmethod
    def _user_words(doc: IndexDoc) -> list[str]:
        words = [normalize(k) for k in doc.keywords]
        words += [q for q in map(normalize, (doc.title, *doc.similar))
                  if 2 <= len(q) <= _SHORT_TITLE]
        return words

    def _insert(self, doc: IndexDoc, bulk: bool = False) -> None:
        slot_id = len(self._slots)
        keys, rows = [], []
        for text in (doc.title, *doc.similar):
            key = self._terms.apply(normalize(text))
            if key and key not in keys:
                keys.append(key)
                rows.append(self._insert_row(key, slot_id, bulk))
                if self._dense is not None:
                    self._dense.set(rows[-1], text, bulk)
        # The title joins the answer field too: its character bigrams under BM25 saturation add
        # word-order evidence the unigram question channel lacks.
        aux = " ".join([doc.title, doc.answer[:ANSWER_PREFIX_CHARS], *doc.keywords, doc.category,
                        doc.department])
        aux_counts = counts(bigrams(list(self._terms.apply(normalize(aux)))))
        self._doc_len = self._fit(self._doc_len, slot_id + 1)
        self._doc_len[slot_id] = sum(aux_counts.values())
        slot = _Slot(doc, rows, keys, self._apost.add(slot_id, aux_counts))
        self._slots.append(slot)
        self._by_id[doc.id] = slot_id
        if not bulk:
            self._sem.set(slot_id, self._semantic_text(slot))

    def _alloc_row(self, key: str, slot_id: int) -> int:
        """A new live row for question ``key`` of slot ``slot_id`` (postings added by caller)."""
        row = self._n_rows
        self._n_rows += 1
        self._alive_rows += 1
        for name in ("_row_doc", "_row_alive", "_row_qt"):
            setattr(self, name, self._fit(getattr(self, name), row + 1))
        self._row_doc[row], self._row_alive[row] = slot_id, True
        self._row_qt[row] = question_types(key)
        return row

    def _insert_row(self, key: str, slot_id: int, bulk: bool) -> int:
        row = self._alloc_row(key, slot_id)
        n, power = max(self._alive_rows, 1), self.config.idf_power
        for chan, terms in channel_terms(key, self._seg, self._chans).items():
            post = self._post[chan]
            tids, tfs = post.add(row, counts(terms))
            self._row_terms[chan].append((tids, tfs))
            self._row_mass[chan] = self._fit(self._row_mass[chan], row + 1)
            if not bulk:
                self._row_mass[chan][row] = sum(post.idf(t, n) ** power for t in tids)
        return row

    def _delete(self, doc_id: str) -> None:
        slot_id = self._by_id.pop(doc_id)
        slot = self._slots[slot_id]
        for row in slot.rows:
            self._row_alive[row] = False
            self._alive_rows -= 1
            self._dead_rows += 1
            for chan in self._chans:
                self._post[chan].forget(self._row_terms[chan][row][0])
        self._apost.forget(slot.answer_terms[0])
        self._slots[slot_id] = None
        self._sem.set(slot_id, None)

    def _semantic_text(self, slot: _Slot) -> str:
        answer = self._terms.apply(normalize(slot.doc.answer[:SEMANTIC_ANSWER_CHARS]))
        return (slot.keys[0] * 3 if slot.keys else "") + "".join(slot.keys[1:]) + answer

    def _refit_semantic(self) -> None:
        self._sem = SemanticSpace(self.config.semantic_dims)
        if self.config.weight_s > 0:
            self._sem.fit([self._semantic_text(s) if s is not None else None
                           for s in self._slots])

    def _refresh_mass(self) -> None:
        """Recompute each row's total term weight with the current IDFs."""
        n, power = max(self._alive_rows, 1), self.config.idf_power
        for chan in self._chans:
            df = np.asarray(self._post[chan].df, np.float64)
            idf = ((np.log((1.0 + n) / (1.0 + df)) + 1.0) ** power).astype(np.float32)
            mass = self._row_mass[chan]
            for row, (tids, _) in enumerate(self._row_terms[chan]):
                mass[row] = idf[np.frombuffer(tids, np.int32)].sum() if len(tids) else 0.0
        self._mass_n, self._mass_power = self._alive_rows, power

    def _maybe_compact(self) -> None:
        dead_slots = len(self._slots) - len(self._by_id)
        if self._dead_rows < max(500, self._alive_rows // 3) and \
                dead_slots < max(500, len(self._by_id) // 3):
            return
        keep, old_terms = [s for s in self._slots if s is not None], self._row_terms
        old_post, old_apost, old_dense = self._post, self._apost, self._dense
        self._reset(self._chans)
        self._post = {c: p.emptied() for c, p in old_post.items()}
        self._apost = old_apost.emptied()
        for slot in keep:
            slot_id = len(self._slots)
            new_rows = []
            for key, old in zip(slot.keys, slot.rows):
                row = self._alloc_row(key, slot_id)
                for chan in self._chans:
                    tids, tfs = old_terms[chan][old]
                    self._post[chan].readd(row, tids, tfs)
                    self._row_terms[chan].append((tids, tfs))
                    self._row_mass[chan] = self._fit(self._row_mass[chan], row + 1)
                if self._dense is not None and old_dense is not None:
                    self._dense.copy_row(old_dense, old, row)
                new_rows.append(row)
            self._apost.readd(slot_id, *slot.answer_terms)
            self._doc_len = self._fit(self._doc_len, slot_id + 1)
            self._doc_len[slot_id] = sum(slot.answer_terms[1])
            self._slots.append(_Slot(slot.doc, new_rows, slot.keys, slot.answer_terms))
            self._by_id[slot.doc.id] = slot_id
        self._refresh_mass()
        self._refit_semantic()
        _LOGGER.debug("index compacted: %d entries, %d questions", len(self._by_id), self._n_rows)

    # ------------------------------------------------------------------ search
    def search(self, query: str, top: int = 5) -> SearchResult:
        """Search and decide (answer / clarify / none).

        Args:
            query: The resident's text (any length, any script).
            top: Candidates returned (clarify lists are capped by ``max_clarify``).

        Returns:
            The result; candidate scores are calibrated to 0..1.
        """
        with self._lock:
            ranked = self._ranked(query, max(top, self.config.max_clarify, 10))
            cands = [Candidate(self._slots[s].doc.id, calibrate(raw, self.config),
                               self._slots[s].doc.title) for s, raw in ranked]
            keys = [self._slots[s].keys[0] if self._slots[s].keys else "" for s, _ in ranked]
        result = decide(query, cands, self.config, keys)
        return SearchResult(result.query, result.decision, result.candidates[: max(top, 1)])

    def raw_scores(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Top-``k`` (entry id, raw similarity) before calibration (tuning and benchmarks)."""
        with self._lock:
            return [(self._slots[s].doc.id, raw) for s, raw in self._ranked(query, k)]

    def _ranked(self, query: str, k: int) -> list[tuple[int, float]]:
        return self._rank(query, max(k, 10))[:k]

    def _query_clauses(self, query: str) -> tuple[list[str], list[float]]:
        clauses = [c for c in (self._terms.apply(c) for c in split_clauses(
            query_tail(query, QUERY_RAW_CHARS))) if c]
        kept, total = [], 0
        for clause in reversed(clauses):
            if total >= QUERY_MAX_CHARS:
                break
            kept.append(clause[-(QUERY_MAX_CHARS - total):])
            total += len(kept[-1])
        cfg = self.config
        return clause_weights(kept[::-1], cfg.long_query_chars, cfg.context_weight,
                              cfg.cue_window)

    def _rank(self, query: str, k: int) -> list[tuple[int, float]]:
        if not self._by_id:
            return []
        if self._dense is None:
            sim = self._lexical(query)
        else:
            # The lexical scoring runs on the worker thread while this one encodes the query.
            future = run_beside(self._lexical, query)
            try:
                vec = self._dense.encoder.encode_query(
                    to_simplified(query_tail(query, QUERY_ENCODE_CHARS)))
            finally:
                wait([future])  # the worker must be done with the index before the lock goes
            sim = future.result()
            if sim is not None:
                sim = self._add_dense(sim, vec)
        if sim is None:
            return []
        sim[~self._row_alive[:self._n_rows]] = -1.0
        return best_docs(sim, self._row_doc, k)

    def _add_dense(self, sim: np.ndarray, query_vec: np.ndarray) -> np.ndarray:
        cfg, floor = self.config, self.config.dense_floor
        dense = self._dense.scores(query_vec, self._n_rows)
        return sim + (cfg.weight_d / (1.0 - floor)) * np.maximum(dense - floor, 0.0)

    def _lexical(self, query: str) -> np.ndarray | None:
        """Raw lexical similarity of every row (None when the query has no content)."""
        clauses, weights = self._query_clauses(query)
        if not clauses:
            return None
        cfg, n = self.config, self._n_rows
        if self._mass_power != cfg.idf_power:
            self._refresh_mass()
        sim = np.zeros(n, np.float32)
        for chan, terms in query_terms(clauses, weights, self._seg, self._chans).items():
            weight = getattr(cfg, f"weight_{chan}")
            if terms and weight:
                sim += weight * coverage(self._post[chan], terms, n, max(self._alive_rows, 1),
                                         self._row_mass[chan], cfg.idf_power,
                                         cfg.coverage_exponent)
        qmask = 0
        for clause, w in zip(clauses, weights):
            qmask |= question_types(clause) if w >= 1.0 else 0
        if qmask and (cfg.weight_qtype or cfg.penalty_qtype):
            rmask = self._row_qt[:n]
            bonus = np.where((rmask & qmask) != 0, cfg.weight_qtype, -cfg.penalty_qtype)
            sim += np.where(rmask != 0, bonus, 0.0).astype(np.float32)
        per_doc = np.zeros(len(self._slots), np.float32)
        if cfg.weight_s > 0:
            sem = self._sem.similarities(clauses, weights, len(self._slots))
            if sem is not None:
                per_doc += cfg.weight_s * np.maximum(sem, 0.0)
        if cfg.weight_a > 0:
            aterms = query_terms(clauses, weights, self._seg, ("c",))["c"]
            per_doc += cfg.weight_a * bm25(self._apost, aterms, self._doc_len[:len(self._slots)],
                                           max(len(self._by_id), 1))
        return sim + per_doc[self._row_doc[:n]]
