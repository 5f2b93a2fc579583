"""In-memory multi-signal search index over published entries, with live upsert/remove."""
from __future__ import annotations

import logging
import math
import re
import threading
from array import array
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from knowledge.decide import Candidate, RetrievalConfig, SearchResult, calibrate, decide
from knowledge.normalize import TermMap, clause_weights, normalize, question_types, split_clauses
from knowledge.phonetic import bigrams, syllables
from knowledge.segment import Segmenter
from knowledge.semantic import SemanticSpace

_LOGGER = logging.getLogger(__name__)

__all__ = ["IndexDoc", "Candidate", "SearchResult", "RetrievalConfig", "SearchIndex"]

ANSWER_PREFIX_CHARS = 200
SEMANTIC_ANSWER_CHARS = 600
"""Answer prefix that feeds the semantic space (the title counts three times)."""
"""Only this many leading characters of an answer are indexed (answers run to 14k characters)."""
QUERY_MAX_CHARS = 240
"""Longer normalised queries keep their last clauses up to this length (the question is there)."""
ROW_CHANNELS = ("w", "u", "c", "p")  # words, char unigrams, char bigrams, pinyin bigrams
K1, B = 1.2, 0.5
_SHORT_TITLE = 10


@dataclass(frozen=True)
class IndexDoc:
    """One published entry as the index sees it."""

    id: str
    title: str
    similar: tuple[str, ...]
    answer: str
    category: str = ""
    department: str = ""
    keywords: tuple[str, ...] = ()


def _channel_terms(text: str, seg: Segmenter, channels: str = "wcp") -> dict[str, list[str]]:
    """Terms of one normalised text per channel: words, char bigrams and pinyin bigrams.

    Character and pinyin bigrams run over the content words joined (stop words removed), so
    怎么/如何 and other function words neither help nor hurt.
    """
    words = seg.cut(text)
    out: dict[str, list[str]] = {"w": words}
    if channels != "w":
        content = "".join(words)
        out["u"] = list(content)
        out["c"] = bigrams(list(content))
        out["p"] = bigrams(syllables(words))
    return out


def doc_terms(text: str, seg: Segmenter, channels: str = "wcp") -> dict[str, dict[str, float]]:
    """Term frequencies per channel of one document text (see ``_channel_terms``)."""
    out: dict[str, dict[str, float]] = {}
    for chan, terms in _channel_terms(text, seg, channels).items():
        counts: dict[str, float] = {}
        for t in terms:
            counts[t] = counts.get(t, 0.0) + 1.0
        out[chan] = counts
    return out


def _bigram_counts(text: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for gram in bigrams(list(text)):
        counts[gram] = counts.get(gram, 0.0) + 1.0
    return counts


def query_terms(clauses: Sequence[str], weights: Sequence[float],
                seg: Segmenter) -> dict[str, dict[str, float]]:
    """Query term weights per channel (the highest clause weight a term occurs with)."""
    out: dict[str, dict[str, float]] = {c: {} for c in ROW_CHANNELS}
    for clause, weight in zip(clauses, weights):
        for chan, terms in _channel_terms(clause, seg).items():
            bucket = out[chan]
            for t in terms:
                if bucket.get(t, 0.0) < weight:
                    bucket[t] = weight
    return out


class _Postings:
    """Inverted postings of one channel: term -> (row ids, term frequencies), plus df."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.rows: list[array] = []
        self.tfs: list[array] = []
        self.df: list[int] = []

    def tid(self, term: str) -> int:
        tid = self.vocab.get(term)
        if tid is None:
            tid = self.vocab[term] = len(self.rows)
            self.rows.append(array("i"))
            self.tfs.append(array("f"))
            self.df.append(0)
        return tid

    def add(self, row: int, counts: Mapping[str, float]) -> tuple[array, array]:
        vocab, rows, tfs_, df = self.vocab, self.rows, self.tfs, self.df
        tids, tfs = array("i"), array("f")
        for term, tf in counts.items():
            tid = vocab.get(term)
            if tid is None:
                tid = self.tid(term)
            rows[tid].append(row)
            tfs_[tid].append(tf)
            df[tid] += 1
            tids.append(tid)
            tfs.append(tf)
        return tids, tfs

    def readd(self, row: int, tids: array, tfs: array) -> None:
        for tid, tf in zip(tids, tfs):
            self.rows[tid].append(row)
            self.tfs[tid].append(tf)
            self.df[tid] += 1

    def idf(self, tid: int | None, n: int) -> float:
        df = self.df[tid] if tid is not None else 0
        return math.log((1.0 + n) / (1.0 + df)) + 1.0


@dataclass
class _Slot:
    doc: IndexDoc
    rows: list[int]
    answer_terms: tuple[array, array]
    keys: list[str] = field(default_factory=list)  # normalised questions (row order)


class SearchIndex:
    """Multi-signal retrieval index; see docs/ARCHITECTURE.md "Retrieval contract".

    Every question (title and similar questions) is a row with three channels: words, character
    bigrams and folded toneless-pinyin bigrams. Each entry also has a low-weight document channel
    (answer prefix, keywords, category, department). A row's raw similarity is a weighted sum over
    channels of ``qcov**a * dcov**(1-a)`` (IDF-weighted share of the query found in the row, and of
    the row found in the query), plus the answer-channel coverage. Scores are computed densely with
    numpy over posting arrays; removal tombstones rows and compaction runs when many are dead.
    """

    def __init__(self, config: RetrievalConfig | None = None,
                 terms: Mapping[str, str] | None = None, segmenter: Segmenter | None = None):
        self.config = config or RetrievalConfig()
        self._seg = segmenter or Segmenter()
        self._terms = TermMap(terms or {})
        self._seg.add_words(self._terms.words())
        self._lock = threading.RLock()
        self._matcher = None
        self._bulk = False
        self._reset()

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        self._post = {c: _Postings() for c in ROW_CHANNELS}
        self._apost = _Postings()
        self._row_terms: dict[str, list[tuple[array, array]]] = {c: [] for c in ROW_CHANNELS}
        cap = 1024
        self._row_doc = np.zeros(cap, np.int32)
        self._row_alive = np.zeros(cap, bool)
        self._row_qt = np.zeros(cap, np.int32)
        self._row_len = {c: np.zeros(cap, np.float32) for c in ROW_CHANNELS}
        self._row_mass = {c: np.zeros(cap, np.float32) for c in ROW_CHANNELS}
        self._n_rows = 0
        self._alive_rows = 0
        self._dead_rows = 0
        self._total_len = {c: 0.0 for c in ROW_CHANNELS}
        self._slots: list[_Slot | None] = []
        self._doc_len = np.zeros(cap, np.float32)
        self._by_id: dict[str, int] = {}
        self._sem = SemanticSpace(self.config.semantic_dims)
        self._mass_n = 0
        self._mass_power = self.config.idf_power

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._by_id

    @staticmethod
    def _grow(arr: np.ndarray, need: int) -> np.ndarray:
        if need <= len(arr):
            return arr
        new = np.zeros(max(need, 2 * len(arr)), arr.dtype)
        new[: len(arr)] = arr
        return new

    # ------------------------------------------------------------------ writes
    def build(self, docs: Iterable[IndexDoc]) -> None:
        """Replace the whole index with ``docs`` (later duplicates of an id win).

        Args:
            docs: Published entries.
        """
        docs = list({d.id: d for d in docs}.values())
        with self._lock:
            self._reset()
            self._seg.add_words(w for d in docs for w in self._user_words(d))
            self._bulk = True
            try:
                for doc in docs:
                    self._insert(doc)
            finally:
                self._bulk = False
            self._refresh_mass()
            self._refit_semantic()
        _LOGGER.info("index built: %d docs, %d rows", len(self._by_id), self._n_rows)

    def upsert(self, doc: IndexDoc) -> None:
        """Insert or replace one entry (cost proportional to the entry, no rebuild).

        Args:
            doc: The entry.
        """
        with self._lock:
            self._seg.add_words(self._user_words(doc))
            if doc.id in self._by_id:
                self._delete(doc.id)
            self._insert(doc)
            slot = self._by_id[doc.id]
            if len(self._by_id) >= max(20, 2 * self._sem.fitted_docs):
                self._refit_semantic()
            else:
                self._sem.set(slot, self._semantic_text(self._slots[slot]))
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
        """Replace the variant -> standard term map; only entries containing changed terms are
        re-indexed (a no-op when the map is unchanged).

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
                slot = self._by_id[doc.id]
                self._sem.set(slot, self._semantic_text(self._slots[slot]))
            self._maybe_compact()
        _LOGGER.info("terms updated: %d changed words, %d entries re-indexed", len(changed),
                     len(touched))

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _doc_texts(doc: IndexDoc) -> list[str]:
        return [doc.title, *doc.similar, doc.answer[:ANSWER_PREFIX_CHARS], *doc.keywords]

    @staticmethod
    def _user_words(doc: IndexDoc) -> list[str]:
        words = [normalize(k) for k in doc.keywords]
        words += [q for q in (normalize(doc.title), *map(normalize, doc.similar))
                  if 2 <= len(q) <= _SHORT_TITLE]
        return words

    def _insert(self, doc: IndexDoc) -> None:
        slot_id = len(self._slots)
        keys, rows = [], []
        for text in dict.fromkeys((doc.title, *doc.similar)):
            key = self._terms.apply(normalize(text))
            if not key or key in keys:
                continue
            keys.append(key)
            rows.append(self._insert_row(key, slot_id))
        aux = " ".join([doc.answer[:ANSWER_PREFIX_CHARS], *doc.keywords, doc.category,
                        doc.department])
        counts = _bigram_counts(self._terms.apply(normalize(aux)))
        self._doc_len = self._grow(self._doc_len, slot_id + 1)
        self._doc_len[slot_id] = sum(counts.values())
        self._slots.append(_Slot(doc, rows, self._apost.add(slot_id, counts), keys))
        self._by_id[doc.id] = slot_id

    def _insert_row(self, key: str, slot_id: int) -> int:
        row = self._n_rows
        self._n_rows += 1
        need = row + 1
        self._row_doc = self._grow(self._row_doc, need)
        self._row_alive = self._grow(self._row_alive, need)
        self._row_qt = self._grow(self._row_qt, need)
        self._row_qt[row] = question_types(key)
        self._row_doc[row] = slot_id
        self._row_alive[row] = True
        self._alive_rows += 1
        n = max(self._alive_rows, 1)
        for chan, counts in doc_terms(key, self._seg).items():
            post = self._post[chan]
            tids, tfs = post.add(row, counts)
            self._row_terms[chan].append((tids, tfs))
            self._row_len[chan] = self._grow(self._row_len[chan], need)
            self._row_mass[chan] = self._grow(self._row_mass[chan], need)
            self._row_len[chan][row] = sum(tfs)
            if not self._bulk:
                g = self.config.idf_power
                self._row_mass[chan][row] = sum(post.idf(t, n) ** g for t in tids)
            self._total_len[chan] += self._row_len[chan][row]
        return row

    def _delete(self, doc_id: str) -> None:
        slot_id = self._by_id.pop(doc_id)
        slot = self._slots[slot_id]
        for row in slot.rows:
            self._row_alive[row] = False
            self._alive_rows -= 1
            self._dead_rows += 1
            for chan in ROW_CHANNELS:
                tids, _ = self._row_terms[chan][row]
                for tid in tids:
                    self._post[chan].df[tid] -= 1
                self._total_len[chan] -= self._row_len[chan][row]
        for tid in slot.answer_terms[0]:
            self._apost.df[tid] -= 1
        self._slots[slot_id] = None
        self._sem.set(slot_id, None)

    def _semantic_text(self, slot: _Slot) -> str:
        key = slot.keys[0] if slot.keys else ""
        answer = self._terms.apply(normalize(slot.doc.answer[:SEMANTIC_ANSWER_CHARS]))
        return key * 3 + "".join(slot.keys[1:]) + answer

    def _refit_semantic(self) -> None:
        self._sem = SemanticSpace(self.config.semantic_dims)
        if self.config.weight_s > 0:
            self._sem.fit([self._semantic_text(s) if s is not None else None
                           for s in self._slots])

    def _refresh_mass(self) -> None:
        n = max(self._alive_rows, 1)
        for chan in ROW_CHANNELS:
            post = self._post[chan]
            df = np.asarray(post.df, np.float64)
            idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0) ** self.config.idf_power
            mass = self._row_mass[chan]
            for row, (tids, _) in enumerate(self._row_terms[chan]):
                mass[row] = idf[np.frombuffer(tids, np.int32)].sum() if len(tids) else 0.0
        self._mass_n = self._alive_rows
        self._mass_power = self.config.idf_power

    def _maybe_compact(self) -> None:
        if self._dead_rows < max(500, self._alive_rows // 3) and \
                len(self._slots) - len(self._by_id) < max(500, len(self._by_id) // 3):
            return
        old_slots, old_terms = self._slots, self._row_terms
        keep = [s for s in old_slots if s is not None]
        self._reset()
        for slot in keep:
            slot_id = len(self._slots)
            new_rows = []
            for row in slot.rows:
                new_row = self._n_rows
                self._n_rows += 1
                for arr in ("_row_doc", "_row_alive", "_row_qt"):
                    setattr(self, arr, self._grow(getattr(self, arr), new_row + 1))
                self._row_qt[new_row] = question_types(slot.keys[len(new_rows)])
                self._row_doc[new_row] = slot_id
                self._row_alive[new_row] = True
                self._alive_rows += 1
                for chan in ROW_CHANNELS:
                    tids, tfs = old_terms[chan][row]
                    self._post[chan].readd(new_row, tids, tfs)
                    self._row_terms[chan].append((tids, tfs))
                    for name in ("_row_len", "_row_mass"):
                        getattr(self, name)[chan] = self._grow(getattr(self, name)[chan],
                                                               new_row + 1)
                    self._row_len[chan][new_row] = sum(tfs)
                    self._total_len[chan] += self._row_len[chan][new_row]
                new_rows.append(new_row)
            self._apost.readd(slot_id, *slot.answer_terms)
            self._doc_len = self._grow(self._doc_len, slot_id + 1)
            self._doc_len[slot_id] = sum(slot.answer_terms[1])
            self._slots.append(_Slot(slot.doc, new_rows, slot.answer_terms, slot.keys))
            self._by_id[slot.doc.id] = slot_id
        self._refresh_mass()
        self._refit_semantic()
        _LOGGER.debug("index compacted: %d docs, %d rows", len(self._by_id), self._n_rows)

    # ------------------------------------------------------------------ search
    def search(self, query: str, top: int = 5) -> SearchResult:
        """Search and decide (answer / clarify / none).

        Args:
            query: The resident's text (any length, any script).
            top: Candidates returned (at least the clarify list).

        Returns:
            The result; candidate scores are calibrated to 0..1.
        """
        with self._lock:
            scored, keys = self._score(query, max(top, self.config.max_clarify, 10))
        result = decide(query, scored, self.config, keys)
        limit = max(top, 1)
        return SearchResult(result.query, result.decision, result.candidates[:limit])

    def raw_scores(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Top-``k`` (doc id, raw similarity) pairs before calibration (for tuning/benchmarks)."""
        with self._lock:
            ranked = self._rank(query, max(k, 10))
            if self.config.rerank > 0 and ranked:
                ranked = self._rerank(query, ranked)
            return [(self._slots[s].doc.id, raw) for s, raw, _ in ranked[:k]]

    def _rank(self, query: str, k: int) -> list[tuple[int, float, int]]:
        if not self._by_id:
            return []
        clauses = [self._terms.apply(c) for c in split_clauses(query)]
        clauses = [c for c in clauses if c]
        total, kept = 0, []
        for clause in reversed(clauses):
            if total >= QUERY_MAX_CHARS:
                break
            kept.append(clause[-(QUERY_MAX_CHARS - total):])
            total += len(kept[-1])
        clauses = kept[::-1]
        if not clauses:
            return []
        cfg = self.config
        clauses, weights = clause_weights(clauses, cfg.long_query_chars, cfg.context_weight,
                                          cfg.cue_window)
        qterms = query_terms(clauses, weights, self._seg)
        n = self._n_rows
        n_alive = max(self._alive_rows, 1)
        if self._mass_power != cfg.idf_power:
            self._refresh_mass()
        g = cfg.idf_power
        sim = np.zeros(n, np.float32)
        for chan in ROW_CHANNELS:
            terms = qterms[chan]
            if not terms:
                continue
            post = self._post[chan]
            qh = np.zeros(n, np.float32)
            dh = np.zeros(n, np.float32)
            qmass = 0.0
            for term, qw in terms.items():
                tid = post.vocab.get(term)
                idf = post.idf(tid, n_alive) ** g
                qmass += qw * idf
                if tid is None or post.df[tid] <= 0:
                    continue
                rows = np.frombuffer(post.rows[tid], np.int32)
                qh[rows] += qw * idf
                dh[rows] += idf
            mass = self._row_mass[chan][:n]
            qcov = np.minimum(qh / max(qmass, 1e-6), 1.0)
            dcov = np.minimum(dh / np.maximum(mass, 1e-6), 1.0)
            a = cfg.coverage_exponent
            sim += getattr(cfg, f"weight_{chan}") * (qcov ** a) * (dcov ** (1.0 - a))
        qmask = 0
        for clause, weight in zip(clauses, weights):
            if weight >= 1.0:
                qmask |= question_types(clause)
        if qmask and cfg.weight_qtype:
            rmask = self._row_qt[:n]
            typed = rmask != 0
            match = (rmask & qmask) != 0
            sim += np.where(typed, np.where(match, cfg.weight_qtype, -cfg.penalty_qtype), 0.0)
        if cfg.weight_s > 0:
            sem = self._sem.similarities(clauses, weights, len(self._slots))
            if sem is not None:
                sim += cfg.weight_s * np.maximum(sem, 0.0)[self._row_doc[:n]]
        ascore = self._answer_scores(qterms["c"])
        if ascore is not None:
            sim += cfg.weight_a * ascore[self._row_doc[:n]]
        sim[~self._row_alive[:n]] = -1.0
        m = min(len(sim), 4 * k + 8)
        part = np.argpartition(-sim, m - 1)[:m] if m < len(sim) else np.arange(len(sim))
        order = part[np.argsort(-sim[part], kind="stable")]
        out, seen = [], set()
        for row in order:
            if sim[row] <= 0:
                break
            slot = int(self._row_doc[row])
            if slot in seen:
                continue
            seen.add(slot)
            out.append((slot, float(sim[row]), int(row)))
            if len(out) >= k:
                break
        return out

    def _answer_scores(self, terms: Mapping[str, float]) -> np.ndarray | None:
        if not terms:
            return None
        post, n_docs = self._apost, max(len(self._by_id), 1)
        nslots = len(self._slots)
        avg = max(float(self._doc_len[:nslots].sum()) / n_docs, 1.0)
        score = np.zeros(nslots, np.float32)
        qmass = 0.0
        for term, qw in terms.items():
            tid = post.vocab.get(term)
            idf = post.idf(tid, n_docs)
            qmass += qw * idf
            if tid is None or post.df[tid] <= 0:
                continue
            slots = np.frombuffer(post.rows[tid], np.int32)
            tf = np.frombuffer(post.tfs[tid], np.float32)
            denom = tf + K1 * (1 - B + B * self._doc_len[slots] / avg)
            score[slots] += qw * idf * tf * (K1 + 1) / denom
        return score / max(qmass * (K1 + 1), 1e-6)

    def _score(self, query: str, k: int) -> tuple[list[Candidate], list[str]]:
        ranked = self._rank(query, k)
        if self.config.rerank > 0 and ranked:
            ranked = self._rerank(query, ranked)
        cands, keys = [], []
        for slot, raw, row in ranked:
            doc = self._slots[slot].doc
            cands.append(Candidate(doc.id, calibrate(raw, self.config), doc.title))
            keys.append(self._slots[slot].keys[0] if self._slots[slot].keys else doc.id)
        return cands, keys

    def _rerank(self, query: str, ranked: list[tuple[int, float, int]]):
        from knowledge.matcher import load_default

        if self._matcher is None:
            self._matcher = load_default(self._seg) or False  # False: missing, do not retry
        if self._matcher is False:
            return ranked
        beta = self.config.rerank
        qn = normalize(query)
        out = []
        for slot, raw, row in ranked:
            best = max(self._matcher.similarity(qn, key) for key in self._slots[slot].keys)
            out.append((slot, (1 - beta) * raw + beta * best, row))
        out.sort(key=lambda x: -x[1])
        return out
