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
from knowledge.encoder import SentenceEncoder
from knowledge.normalize import TermMap, normalize, question_types
from knowledge.phonetic import bigrams
from knowledge.postings import ROW_CHANNELS, Postings, counts, query_terms
from knowledge.query import encoder_text, query_clauses
from knowledge.rows import QuestionRows, grow
from knowledge.scoring import best_docs, bm25
from knowledge.segment import Segmenter
from knowledge.semantic import SemanticSpace

_LOGGER = logging.getLogger(__name__)

__all__ = ["IndexDoc", "Candidate", "SearchResult", "RetrievalConfig", "SearchIndex"]

ANSWER_PREFIX_CHARS = 200
"""Leading answer characters in the lexical answer channel (answers run to 14k characters)."""
SEMANTIC_ANSWER_CHARS = 600
"""Leading answer characters in the semantic space (the title counts three times there)."""
_SHORT_TITLE = 10


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
        chans = chans or tuple(c for c in ROW_CHANNELS if getattr(cfg, f"weight_{c}") > 0)
        self._rows = QuestionRows(chans or ("u",), cfg.idf_power)
        self._apost = Postings()
        self._slots: list[_Slot | None] = []
        self._doc_len = np.zeros(1024, np.float32)
        self._by_id: dict[str, int] = {}
        self._sem = SemanticSpace(cfg.semantic_dims)
        self._dense = DenseRows(self._encoder) if self._encoder and cfg.weight_d > 0 else None

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._by_id

    # ------------------------------------------------------------------ writes
    def build(self, docs: Iterable[IndexDoc]) -> None:
        """Replace the whole index with ``docs`` (a later duplicate of an id wins).

        Args:
            docs: Published entries.

        Raises:
            Exception: Whatever stopped the build (the encoder, say); the index is then empty.
        """
        docs = list({d.id: d for d in docs}.values())
        with self._lock:
            # A build allocates millions of small objects that all live on: the automatic
            # collector would walk them some 260 times (0.2-0.3 s at 2,080 entries). It pauses
            # until the build is done (process-wide: one or two seconds, three to four when
            # every question is encoded), and one full collection before the vectors are taken
            # (the encoder may still be running) promotes them, so the first queries do not pay
            # for it either. The encoding stays inside the pause: its thousands of small
            # allocations would otherwise make the collector walk all the new objects again and
            # again (a first build took 0.4 s longer).
            collecting = gc.isenabled()
            gc.disable()
            try:
                self._reset()
                if self._dense is not None:  # encoded while the words are indexed
                    self._dense.prefetch([t for d in docs for t in (d.title, *d.similar)])
                self._seg.add_words(w for d in docs for w in self._user_words(d))
                for doc in docs:
                    self._insert(doc, bulk=True)
                self._rows.refresh_mass(self.config.idf_power)
                self._refit_semantic()
                gc.collect()
                if self._dense is not None:  # last: the encoding may still be running
                    self._dense.flush()
            except BaseException:
                self._reset()  # empty, not half built (a running prefetch is dropped with it)
                raise
            finally:
                if collecting:
                    gc.enable()
        _LOGGER.info("index built: %d entries, %d questions", len(self._by_id), self._rows.n)

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
            if self._rows.mass_is_stale():
                self._rows.refresh_mass(self.config.idf_power)
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
                rows.append(self._rows.add(key, slot_id, self._seg, self.config.idf_power,
                                           bulk))
                if self._dense is not None:
                    self._dense.set(rows[-1], text, bulk)
        # The title joins the answer field too: its character bigrams under BM25 saturation add
        # word-order evidence the unigram question channel lacks.
        aux = " ".join([doc.title, doc.answer[:ANSWER_PREFIX_CHARS], *doc.keywords, doc.category,
                        doc.department])
        aux_counts = counts(bigrams(list(self._terms.apply(normalize(aux)))))
        self._doc_len = grow(self._doc_len, slot_id + 1)
        self._doc_len[slot_id] = sum(aux_counts.values())
        slot = _Slot(doc, rows, keys, self._apost.add(slot_id, aux_counts))
        self._slots.append(slot)
        self._by_id[doc.id] = slot_id
        if not bulk:
            self._sem.set(slot_id, self._semantic_text(slot))

    def _delete(self, doc_id: str) -> None:
        slot_id = self._by_id.pop(doc_id)
        slot = self._slots[slot_id]
        for row in slot.rows:
            self._rows.kill(row)
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

    def _maybe_compact(self) -> None:
        dead_slots = len(self._slots) - len(self._by_id)
        if self._rows.n_dead < max(500, self._rows.n_alive // 3) and \
                dead_slots < max(500, len(self._by_id) // 3):
            return
        keep, old_rows = [s for s in self._slots if s is not None], self._rows
        old_apost, old_dense = self._apost, self._dense
        self._reset(old_rows.chans)
        self._rows = old_rows.emptied(self.config.idf_power)
        self._apost = old_apost.emptied()
        for slot in keep:
            slot_id = len(self._slots)
            new_rows = []
            for key, old in zip(slot.keys, slot.rows):
                row = self._rows.readd(key, slot_id, old_rows, old)
                if self._dense is not None and old_dense is not None:
                    self._dense.copy_row(old_dense, old, row)
                new_rows.append(row)
            self._apost.readd(slot_id, *slot.answer_terms)
            self._doc_len = grow(self._doc_len, slot_id + 1)
            self._doc_len[slot_id] = sum(slot.answer_terms[1])
            self._slots.append(_Slot(slot.doc, new_rows, slot.keys, slot.answer_terms))
            self._by_id[slot.doc.id] = slot_id
        self._rows.refresh_mass(self.config.idf_power)
        self._refit_semantic()
        _LOGGER.debug("index compacted: %d entries, %d questions", len(self._by_id), self._rows.n)

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

    def _rank(self, query: str, k: int) -> list[tuple[int, float]]:
        if not self._by_id:
            return []
        if self._dense is None:
            sim = self._lexical(query)
        else:
            # The lexical scoring runs on the worker thread while this one encodes the query.
            future = run_beside(self._lexical, query)
            try:
                vec = self._dense.encoder.encode_query(encoder_text(query))
            finally:
                wait([future])  # the worker must be done with the index before the lock goes
            sim = future.result()
            if sim is not None:
                sim = self._add_dense(sim, vec)
        if sim is None:
            return []
        rows = self._rows
        sim[~rows.alive[:rows.n]] = -1.0
        return best_docs(sim, rows.slot, k)

    def _add_dense(self, sim: np.ndarray, query_vec: np.ndarray) -> np.ndarray:
        cfg, floor = self.config, self.config.dense_floor
        dense = self._dense.scores(query_vec, self._rows.n)
        return sim + (cfg.weight_d / (1.0 - floor)) * np.maximum(dense - floor, 0.0)

    def _lexical(self, query: str) -> np.ndarray | None:
        """Raw lexical similarity of every row (None when the query has no content)."""
        clauses, weights = query_clauses(query, self._terms, self.config)
        if not clauses:
            return None
        cfg, rows = self.config, self._rows
        sim = np.zeros(rows.n, np.float32)
        for chan, terms in query_terms(clauses, weights, self._seg, rows.chans).items():
            weight = getattr(cfg, f"weight_{chan}")
            if terms and weight:
                sim += weight * rows.coverage(chan, terms, cfg.idf_power, cfg.coverage_exponent)
        qmask = 0
        for clause, w in zip(clauses, weights):
            qmask |= question_types(clause) if w >= 1.0 else 0
        if qmask and (cfg.weight_qtype or cfg.penalty_qtype):
            rmask = rows.qtype[:rows.n]
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
        return sim + per_doc[rows.slot[:rows.n]]
