"""Term extraction per retrieval channel and compact inverted postings for the search index."""
from __future__ import annotations

import logging
import math
from array import array
from typing import Iterable, Mapping, Sequence

from knowledge.phonetic import bigrams, syllables
from knowledge.segment import Segmenter

_LOGGER = logging.getLogger(__name__)

ROW_CHANNELS = ("w", "u", "c", "p")
"""Question channels: words, character unigrams, character bigrams, folded pinyin bigrams."""


def channel_terms(text: str, seg: Segmenter, channels: Iterable[str] = ROW_CHANNELS,
                  ) -> dict[str, list[str]]:
    """Terms of one normalised text for each requested channel.

    Character and pinyin terms run over the content words joined (stop words removed), so
    怎么/如何 and other function words neither help nor hurt.

    Args:
        text: Normalised text.
        seg: Segmenter (stop words, user dictionary, heteronym context for pinyin).
        channels: Channel letters wanted.

    Returns:
        Channel -> terms in text order (repeats kept).
    """
    channels = set(channels)
    words = seg.cut(text)
    content = list("".join(words))
    out: dict[str, list[str]] = {}
    if "w" in channels:
        out["w"] = words
    if "u" in channels:
        out["u"] = content
    if "c" in channels:
        out["c"] = bigrams(content)
    if "p" in channels:
        out["p"] = bigrams(syllables(words))
    return out


def counts(terms: Iterable[str]) -> dict[str, float]:
    """Term frequencies."""
    out: dict[str, float] = {}
    for t in terms:
        out[t] = out.get(t, 0.0) + 1.0
    return out


def query_terms(clauses: Sequence[str], weights: Sequence[float], seg: Segmenter,
                channels: Iterable[str] = ROW_CHANNELS) -> dict[str, dict[str, float]]:
    """Query term weights per channel (the highest weight of the clauses a term occurs in).

    Args:
        clauses: Normalised clauses.
        weights: Clause weights (see ``normalize.clause_weights``).
        seg: Segmenter.
        channels: Channel letters wanted.

    Returns:
        Channel -> term -> weight.
    """
    channels = tuple(channels)
    out: dict[str, dict[str, float]] = {c: {} for c in channels}
    for clause, weight in zip(clauses, weights):
        for chan, terms in channel_terms(clause, seg, channels).items():
            bucket = out[chan]
            for t in terms:
                if bucket.get(t, 0.0) < weight:
                    bucket[t] = weight
    return out


class Postings:
    """Inverted postings of one channel: term -> (row ids, frequencies) as compact arrays.

    Rows are only ever appended; removal decrements ``df`` and the caller masks dead rows (and
    compacts by re-adding the live rows to a fresh instance).
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.rows: list[array] = []
        self.tfs: list[array] = []
        self.df: list[int] = []

    def _new(self, term: str) -> int:
        tid = self.vocab[term] = len(self.rows)
        self.rows.append(array("i"))
        self.tfs.append(array("f"))
        self.df.append(0)
        return tid

    def add(self, row: int, term_counts: Mapping[str, float]) -> tuple[array, array]:
        """Post one row; returns its (term ids, frequencies) for later removal/compaction."""
        vocab, rows, tfs_, df = self.vocab, self.rows, self.tfs, self.df
        tids, tfs = array("i"), array("f")
        for term, tf in term_counts.items():
            tid = vocab.get(term)
            if tid is None:
                tid = self._new(term)
            rows[tid].append(row)
            tfs_[tid].append(tf)
            df[tid] += 1
            tids.append(tid)
            tfs.append(tf)
        return tids, tfs

    def emptied(self) -> "Postings":
        """A new instance with the same term ids and no postings (compaction re-posts rows)."""
        fresh = Postings()
        fresh.vocab = self.vocab
        fresh.rows = [array("i") for _ in self.rows]
        fresh.tfs = [array("f") for _ in self.tfs]
        fresh.df = [0] * len(self.df)
        return fresh

    def readd(self, row: int, tids: array, tfs: array) -> None:
        """Post a row again under a new row id (compaction)."""
        for tid, tf in zip(tids, tfs):
            self.rows[tid].append(row)
            self.tfs[tid].append(tf)
            self.df[tid] += 1

    def forget(self, tids: Iterable[int]) -> None:
        """Account for a removed row (its postings stay until compaction)."""
        for tid in tids:
            self.df[tid] -= 1

    def idf(self, tid: int | None, n: int) -> float:
        """Smoothed IDF ``ln((1+n)/(1+df)) + 1`` (unknown terms get the maximum)."""
        df = self.df[tid] if tid is not None else 0
        return math.log((1.0 + n) / (1.0 + df)) + 1.0
