"""In-memory multi-signal search index over published entries, with live upsert/remove."""
from __future__ import annotations

import gc
import logging
import re
import threading
from concurrent.futures import wait
from typing import Callable, Iterable, Mapping

import numpy as np

from knowledge.decide import (LEXICAL_CONFIG, Candidate, RetrievalConfig, SearchResult,
                              calibrate, decide)
from knowledge.dense import run_beside
from knowledge.encoder import SentenceEncoder
from knowledge.normalize import TermMap, question_types
from knowledge.postings import query_terms
from knowledge.query import encoder_text, query_clauses, question_focus
from knowledge.scoring import best_docs, bm25
from knowledge.segment import Segmenter
from knowledge.siblings import settled_by_query
from knowledge.store import EntryStore, IndexDoc, user_words

_LOGGER = logging.getLogger(__name__)

Clauses = tuple[list[str], list[float]]
"""A query's clauses and their weights (``query.query_clauses``)."""

__all__ = ["IndexDoc", "Candidate", "SearchResult", "RetrievalConfig", "SearchIndex"]


class SearchIndex:
    """Multi-signal retrieval index; see docs/ARCHITECTURE.md "Retrieval contract".

    Every question of an entry is a row, scored per channel (character unigrams, folded pinyin
    bigrams) as ``qcov**a * dcov**(1-a)``; entries add a BM25 answer channel, a character-LSA
    similarity and a question-type bonus or malus, and with a sentence encoder each row adds its
    cosine with the query. The weighted sum is the raw similarity (about 0..1), which
    ``decide.calibrate`` maps to the candidate score. The data lives in a ``store.EntryStore``.
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

    def _reset(self) -> None:
        self._store = EntryStore(self.config, self._seg, self._encoder)

    def __len__(self) -> int:
        return len(self._store.by_id)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._store.by_id

    # ------------------------------------------------------------------ writes
    def build(self, docs: Iterable[IndexDoc], prune: bool = True) -> None:
        """Replace the whole index with ``docs`` (a later duplicate of an id wins).

        Args:
            docs: Published entries.
            prune: Then prune the encoder's vector cache (``prune_vectors``). A caller holding
                a lock that searches wait on passes False and prunes once it has let go.

        Raises:
            Exception: Whatever stopped the build (the encoder, say); the index is then empty.
        """
        docs = list({d.id: d for d in docs}.values())
        with self._lock:
            # A build allocates millions of small objects that all live on: the collector
            # pauses until it is done (it would walk them some 260 times, 0.2-0.3 s at 2,080
            # entries), the encoding included, and one full collection before the vectors are
            # taken promotes them, so the first queries do not pay for it either.
            collecting = gc.isenabled()
            gc.disable()
            try:
                self._reset()
                store, cfg = self._store, self.config
                if store.dense is not None:  # encoded while the words are indexed
                    store.dense.prefetch([t for d in docs for t in (d.title, *d.similar)])
                self._seg.add_words(w for d in docs for w in user_words(d))
                for doc in docs:
                    store.insert(doc, cfg, self._terms, bulk=True)
                store.rows.refresh_mass(cfg.idf_power)
                store.refit_semantic(cfg, self._terms)
                gc.collect()
                if store.dense is not None:  # last: the encoding may still be running
                    store.dense.flush()
            except BaseException:
                self._reset()  # empty, not half built (a running prefetch is dropped with it)
                raise
            finally:
                if collecting:
                    gc.enable()
        _LOGGER.info("index built: %d entries, %d questions", len(self), self._store.rows.n)
        if prune:
            self.prune_vectors()

    def prune_vectors(self) -> int:
        """Delete cached entry vectors unused for ``GOVBOT_VECTOR_CACHE_DAYS`` days (a build has
        just marked its own as used). Searches go on meanwhile: the index is not locked.

        Returns:
            How many vectors were deleted (0 without an encoder).
        """
        return self._encoder.prune_cache() if self._encoder is not None else 0

    def upsert(self, doc: IndexDoc) -> None:
        """Insert or replace one entry at a cost proportional to the entry (no rebuild).

        Args:
            doc: The entry.
        """
        with self._lock:
            store = self._store
            self._seg.add_words(user_words(doc))
            if doc.id in store.by_id:
                store.delete(doc.id)
            store.insert(doc, self.config, self._terms)
            if len(store.by_id) >= max(10, 2 * store.sem.fitted_docs):
                # the space doubles rarely: amortised O(1) per upsert
                store.refit_semantic(self.config, self._terms)
            if store.rows.mass_is_stale():
                store.rows.refresh_mass(self.config.idf_power)
            self._maybe_compact()

    def remove(self, doc_id: str) -> None:
        """Remove an entry; unknown ids are ignored.

        Args:
            doc_id: External id.
        """
        with self._lock:
            if doc_id in self._store.by_id:
                self._store.delete(doc_id)
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
            touched = self._store.mentioning(pattern)
            for doc in touched:
                self._store.delete(doc.id)
                self._store.insert(doc, self.config, new)
            self._maybe_compact()
        _LOGGER.info("terms updated: %d changed words, %d entries re-indexed", len(changed),
                     len(touched))

    # ------------------------------------------------------------------ internals
    def _maybe_compact(self) -> None:
        if self._store.is_sparse():
            self._store = self._store.compacted(self.config, self._terms)
            _LOGGER.debug("index compacted: %d entries, %d questions", len(self),
                          self._store.rows.n)

    # ------------------------------------------------------------------ search
    def search(self, query: str, top: int = 5) -> SearchResult:
        """Search and decide (answer / clarify / none).

        A close call is answered when the query's words settle it (``knowledge.siblings``), or
        when a long query's question, read without the story around it
        (``query.question_focus``), is answered by the same first entry.

        Args:
            query: The resident's text (any length, any script).
            top: Candidates returned (clarify lists are capped by ``max_clarify``).

        Returns:
            The result; candidate scores are calibrated to 0..1.
        """
        cfg = self.config
        with self._lock:
            # a long query's clauses are prepared once, for its question and for its scores
            prepared = (query_clauses(query, self._terms, cfg)
                        if cfg.focus_second_look and len(query) > cfg.long_query_chars else None)
            focus = question_focus(*prepared) if prepared else ""
            sim, focus_sim = self._similarities(query, focus, prepared)  # focus_sim: lazy
            slots, cands, result = self._decide(query, self._best(sim, max(top, cfg.max_clarify,
                                                                          10)))
            settled = (result.decision == "clarify" and cfg.sibling_min_score > 0
                       and cands[0].score >= cfg.sibling_min_score
                       and settled_by_query(query, [s.doc.title for s in slots[:cfg.max_clarify]],
                                            slots[0].text, self._store.known, self._seg,
                                            self._terms))
            if result.decision == "clarify" and not settled and focus_sim is not None:
                _, second, again = self._decide(focus, self._best(focus_sim(), 10))
                settled = again.decision == "answer" and second[0].id == cands[0].id
        if settled:
            return SearchResult(query, "answer", tuple(cands[: max(top, 1)]),
                                related=result.candidates[1:])
        return SearchResult(result.query, result.decision, result.candidates[: max(top, 1)])

    def raw_scores(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Top-``k`` (entry id, raw similarity) before calibration (tuning and benchmarks)."""
        with self._lock:
            ranked = self._best(self._similarities(query)[0], k)
            return [(self._store.slots[s].doc.id, raw) for s, raw in ranked]

    def _decide(self, query: str, ranked: list[tuple[int, float]],
                ) -> tuple[list, list[Candidate], SearchResult]:
        """The ranked entries' slots, their calibrated candidates and the decision."""
        cfg = self.config
        slots = [self._store.slots[s] for s, _ in ranked]
        cands = [Candidate(slot.doc.id, calibrate(raw, cfg), slot.doc.title)
                 for slot, (_, raw) in zip(slots, ranked)]
        keys = [slot.keys[0] if slot.keys else "" for slot in slots]
        return slots, cands, decide(query, cands, cfg, keys)

    def _best(self, sim: np.ndarray | None, k: int) -> list[tuple[int, float]]:
        """The ``k`` best live entries by row similarity (none for an empty query)."""
        if sim is None or not self._store.by_id:
            return []
        rows = self._store.rows
        sim[~rows.alive[:rows.n]] = -1.0
        return best_docs(sim, rows.slot, max(k, 10))[:k]

    def _similarities(self, query: str, focus: str = "", prepared: Clauses | None = None,
                      ) -> tuple[np.ndarray | None, Callable[[], np.ndarray] | None]:
        """Raw similarity of every row to ``query`` (None for a text without content), and a
        function giving that of its question ``focus`` (None without one, or without content).
        ``prepared``: the query's clauses, when the caller has them already.

        With an encoder, the worker thread scores the lexical channels, and encodes the focus
        (a short text) for a second reading, while this thread encodes the query: the second
        reading costs a long query little time, and the others none.
        """
        store = self._store
        if not store.by_id:
            return None, None
        if store.dense is None:
            focus_lex = self._lexical(focus) if focus else None
            return (self._lexical(query, prepared),
                    None if focus_lex is None else lambda: focus_lex)
        encoder = store.dense.encoder

        def beside() -> tuple:
            lex = self._lexical(query, prepared)
            if not focus:
                return lex, None, None
            return lex, self._lexical(focus), encoder.encode_query(encoder_text(focus))

        future = run_beside(beside)
        try:
            vec = encoder.encode_query(encoder_text(query))
        finally:
            wait([future])  # the worker must be done with the index before the lock goes
        lex, focus_lex, focus_vec = future.result()
        return (None if lex is None else self._add_dense(lex, vec),
                None if focus_lex is None else lambda: self._add_dense(focus_lex, focus_vec))

    def _add_dense(self, sim: np.ndarray, query_vec: np.ndarray) -> np.ndarray:
        cfg, floor = self.config, self.config.dense_floor
        dense = self._store.dense.scores(query_vec, self._store.rows.n)
        return sim + (cfg.weight_d / (1.0 - floor)) * np.maximum(dense - floor, 0.0)

    def _lexical(self, query: str, prepared: Clauses | None = None) -> np.ndarray | None:
        """Raw lexical similarity of every row (None when the query has no content);
        ``prepared`` holds the query's clauses when they were made already."""
        clauses, weights = prepared or query_clauses(query, self._terms, self.config)
        if not clauses:
            return None
        cfg, store = self.config, self._store
        rows = store.rows
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
        n_slots = len(store.slots)
        per_doc = np.zeros(n_slots, np.float32)
        if cfg.weight_s > 0:
            sem = store.sem.similarities(clauses, weights, n_slots)
            if sem is not None:
                per_doc += cfg.weight_s * np.maximum(sem, 0.0)
        if cfg.weight_a > 0:
            aterms = query_terms(clauses, weights, self._seg, ("c",))["c"]
            per_doc += cfg.weight_a * bm25(store.apost, aterms, store.doc_len[:n_slots],
                                           max(len(store.by_id), 1))
        return sim + per_doc[rows.slot[:rows.n]]
