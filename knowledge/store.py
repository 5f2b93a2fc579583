"""What the search index holds: entry slots, question rows, answer postings, LSA space, vectors."""
from __future__ import annotations

import logging
import re
from array import array
from dataclasses import dataclass

import numpy as np

from knowledge.decide import RetrievalConfig
from knowledge.dense import DenseRows
from knowledge.encoder import SentenceEncoder
from knowledge.normalize import TermMap, normalize
from knowledge.phonetic import bigrams
from knowledge.postings import ROW_CHANNELS, Postings, counts
from knowledge.rows import QuestionRows, grow
from knowledge.segment import Segmenter
from knowledge.semantic import SemanticSpace

_LOGGER = logging.getLogger(__name__)

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
class Slot:
    """One entry's place in the store."""

    doc: IndexDoc
    rows: list[int]  # one row per distinct question (title first)
    keys: list[str]  # the normalised questions, row order
    answer_terms: tuple[array, array]
    text: str = ""  # everything the entry says, normalised (see ``EntryStore.known``)


def doc_texts(doc: IndexDoc) -> list[str]:
    """Every text of an entry that the index reads (to find entries a term change touches)."""
    return [doc.title, *doc.similar, doc.answer[:SEMANTIC_ANSWER_CHARS], *doc.keywords,
            doc.category, doc.department]


def user_words(doc: IndexDoc) -> list[str]:
    """An entry's words for the segmenter: its keywords and its short questions."""
    words = [normalize(k) for k in doc.keywords]
    words += [q for q in map(normalize, (doc.title, *doc.similar)) if 2 <= len(q) <= _SHORT_TITLE]
    return words


class EntryStore:
    """The index's data, written by ``SearchIndex`` under its lock and read by its scoring.

    Entries are slots in insertion order; each question of an entry is a row of ``rows`` (and of
    ``dense``, with an encoder). Deleting leaves a dead slot and dead rows until ``compacted``
    makes a copy without them.
    """

    def __init__(self, config: RetrievalConfig, seg: Segmenter,
                 encoder: SentenceEncoder | None, chans: tuple[str, ...] | None = None):
        """Create an empty store.

        Args:
            config: Which channels are indexed (weight above 0), IDF power, LSA size.
            seg: The index's segmenter.
            encoder: Sentence encoder for the question vectors (none without it, or when the
                dense weight is 0).
            chans: Row channels, instead of those ``config`` weighs.
        """
        chans = chans or tuple(c for c in ROW_CHANNELS if getattr(config, f"weight_{c}") > 0)
        self.seg = seg
        self.rows = QuestionRows(chans or ("u",), config.idf_power)
        self.apost = Postings()
        self.slots: list[Slot | None] = []
        self.doc_len = np.zeros(1024, np.float32)
        self.by_id: dict[str, int] = {}
        self.sem = SemanticSpace(config.semantic_dims)
        self.dense = DenseRows(encoder) if encoder and config.weight_d > 0 else None
        self._corpus: str | None = None

    def insert(self, doc: IndexDoc, config: RetrievalConfig, terms: TermMap,
               bulk: bool = False) -> None:
        """Add an entry as a new slot (its id must not be in the store).

        Args:
            doc: The entry.
            config: The index's settings (IDF power).
            terms: Variant -> standard map applied to its texts.
            bulk: Part of a build: vectors wait for ``dense.flush`` and the LSA space for
                ``refit_semantic``.
        """
        slot_id = len(self.slots)
        keys, rows = [], []
        for text in (doc.title, *doc.similar):
            key = terms.apply(normalize(text))
            if key and key not in keys:
                keys.append(key)
                rows.append(self.rows.add(key, slot_id, self.seg, config.idf_power, bulk))
                if self.dense is not None:
                    self.dense.set(rows[-1], text, bulk)
        # The title joins the answer field too: its character bigrams under BM25 saturation add
        # word-order evidence the unigram question channel lacks.
        aux = " ".join([doc.title, doc.answer[:ANSWER_PREFIX_CHARS], *doc.keywords, doc.category,
                        doc.department])
        aux_counts = counts(bigrams(list(terms.apply(normalize(aux)))))
        self.doc_len = grow(self.doc_len, slot_id + 1)
        self.doc_len[slot_id] = sum(aux_counts.values())
        text = terms.apply(normalize(" ".join([doc.title, *doc.similar, doc.answer,
                                                *doc.keywords])))
        slot = Slot(doc, rows, keys, self.apost.add(slot_id, aux_counts), text)
        self.slots.append(slot)
        self.by_id[doc.id] = slot_id
        self._corpus = None
        if not bulk:
            self.sem.set(slot_id, self._semantic_text(slot, terms))

    def delete(self, doc_id: str) -> None:
        """Tombstone an entry's slot and rows (``doc_id`` must be in the store)."""
        slot_id = self.by_id.pop(doc_id)
        slot = self.slots[slot_id]
        for row in slot.rows:
            self.rows.kill(row)
        self.apost.forget(slot.answer_terms[0])
        self.slots[slot_id] = None
        self.sem.set(slot_id, None)
        self._corpus = None

    def known(self, word: str) -> bool:
        """Whether a normalised word occurs anywhere in the live entries."""
        if self._corpus is None:
            self._corpus = "\n".join(s.text for s in self.slots if s is not None)
        return word in self._corpus

    def mentioning(self, pattern: re.Pattern) -> list[IndexDoc]:
        """The live entries with a text that ``pattern`` matches once normalised (before the
        terms are applied: a term change names both the variants and the standards)."""
        return [s.doc for s in self.slots if s is not None and any(
            pattern.search(normalize(t)) for t in doc_texts(s.doc))]

    @staticmethod
    def _semantic_text(slot: Slot, terms: TermMap) -> str:
        answer = terms.apply(normalize(slot.doc.answer[:SEMANTIC_ANSWER_CHARS]))
        return (slot.keys[0] * 3 if slot.keys else "") + "".join(slot.keys[1:]) + answer

    def refit_semantic(self, config: RetrievalConfig, terms: TermMap) -> None:
        """Learn the LSA space afresh from the live entries (nothing when its weight is 0)."""
        self.sem = SemanticSpace(config.semantic_dims)
        if config.weight_s > 0:
            self.sem.fit([self._semantic_text(s, terms) if s is not None else None
                          for s in self.slots])

    def is_sparse(self) -> bool:
        """Whether dead rows or slots are many enough to be worth a ``compacted`` copy."""
        dead_slots = len(self.slots) - len(self.by_id)
        return (self.rows.n_dead >= max(500, self.rows.n_alive // 3)
                or dead_slots >= max(500, len(self.by_id) // 3))

    def compacted(self, config: RetrievalConfig, terms: TermMap) -> "EntryStore":
        """A copy with the live entries only, renumbered (nothing is segmented or encoded
        again: postings and vectors are carried over)."""
        fresh = EntryStore(config, self.seg, self.dense.encoder if self.dense else None,
                           self.rows.chans)
        fresh.rows = self.rows.emptied(config.idf_power)
        fresh.apost = self.apost.emptied()
        for slot in (s for s in self.slots if s is not None):
            slot_id = len(fresh.slots)
            new_rows = []
            for key, old in zip(slot.keys, slot.rows):
                row = fresh.rows.readd(key, slot_id, self.rows, old)
                if fresh.dense is not None and self.dense is not None:
                    fresh.dense.copy_row(self.dense, old, row)
                new_rows.append(row)
            fresh.apost.readd(slot_id, *slot.answer_terms)
            fresh.doc_len = grow(fresh.doc_len, slot_id + 1)
            fresh.doc_len[slot_id] = sum(slot.answer_terms[1])
            fresh.slots.append(Slot(slot.doc, new_rows, slot.keys, slot.answer_terms, slot.text))
            fresh.by_id[slot.doc.id] = slot_id
        fresh.rows.refresh_mass(config.idf_power)
        fresh.refit_semantic(config, terms)
        return fresh
