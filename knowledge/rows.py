"""Question rows of the search index: per-channel postings, row bookkeeping, lexical scores."""
from __future__ import annotations

import logging
from array import array

import numpy as np

from knowledge.normalize import question_types
from knowledge.postings import Postings, channel_terms, counts
from knowledge.scoring import coverage
from knowledge.segment import Segmenter

_LOGGER = logging.getLogger(__name__)


def grow(arr: np.ndarray, need: int) -> np.ndarray:
    """``arr``, or a zero-padded copy at least ``need`` long (doubling, so appends stay O(1))."""
    if need <= len(arr):
        return arr
    new = np.zeros((max(need, 2 * len(arr)),) + arr.shape[1:], arr.dtype)
    new[: len(arr)] = arr
    return new


class QuestionRows:
    """Every question of every entry is a row: its postings in each channel, the entry slot it
    belongs to, whether it is alive, its question types and its total term weight ("mass").

    Rows are only appended. ``kill`` tombstones a row (its postings stay until the owner compacts
    by re-adding the live rows to a fresh instance made with ``emptied``).
    """

    def __init__(self, chans: tuple[str, ...], idf_power: float):
        """Create empty rows.

        Args:
            chans: Channel letters (``postings.ROW_CHANNELS``).
            idf_power: The IDF exponent the (empty) masses are computed for.
        """
        self.chans = chans
        self.post = {c: Postings() for c in chans}
        self._terms: dict[str, list[tuple[array, array]]] = {c: [] for c in chans}
        self.slot = np.zeros(1024, np.int32)
        self.alive = np.zeros(1024, bool)
        self.qtype = np.zeros(1024, np.int32)
        self._mass = {c: np.zeros(1024, np.float32) for c in chans}
        self.n = self.n_alive = self.n_dead = 0
        self._mass_n, self._mass_power = 0, idf_power

    def emptied(self, idf_power: float) -> "QuestionRows":
        """A fresh instance with the same term ids and no rows (compaction re-adds rows)."""
        fresh = QuestionRows(self.chans, idf_power)
        fresh.post = {c: p.emptied() for c, p in self.post.items()}
        return fresh

    def _alloc(self, key: str, slot_id: int) -> int:
        row = self.n
        self.n += 1
        self.n_alive += 1
        self.slot, self.alive = grow(self.slot, row + 1), grow(self.alive, row + 1)
        self.qtype = grow(self.qtype, row + 1)
        self.slot[row], self.alive[row] = slot_id, True
        self.qtype[row] = question_types(key)
        for chan in self.chans:
            self._mass[chan] = grow(self._mass[chan], row + 1)
        return row

    def add(self, key: str, slot_id: int, seg: Segmenter, idf_power: float,
            bulk: bool = False) -> int:
        """Post a normalised question as a new row.

        Args:
            key: The question, normalised, synonyms applied.
            slot_id: The entry slot it belongs to.
            seg: Segmenter for the word and pinyin channels.
            idf_power: IDF exponent of the row's mass.
            bulk: Leave the mass to one ``refresh_mass`` at the end of a build.

        Returns:
            The new row.
        """
        row = self._alloc(key, slot_id)
        n, power = max(self.n_alive, 1), idf_power
        for chan, terms in channel_terms(key, seg, self.chans).items():
            post = self.post[chan]
            tids, tfs = post.add(row, counts(terms))
            self._terms[chan].append((tids, tfs))
            if not bulk:
                self._mass[chan][row] = sum(post.idf(t, n) ** power for t in tids)
        return row

    def readd(self, key: str, slot_id: int, old: "QuestionRows", old_row: int) -> int:
        """Post a row of an older instance again, as a new row (compaction; the mass follows
        from the ``refresh_mass`` that ends it).

        Args:
            key: The row's question (for its question types).
            slot_id: Its entry's new slot.
            old: The instance being compacted.
            old_row: The row there.

        Returns:
            The new row.
        """
        row = self._alloc(key, slot_id)
        for chan in self.chans:
            tids, tfs = old._terms[chan][old_row]
            self.post[chan].readd(row, tids, tfs)
            self._terms[chan].append((tids, tfs))
        return row

    def kill(self, row: int) -> None:
        """Tombstone a row: it scores -1 from now on and its terms leave the document counts."""
        self.alive[row] = False
        self.n_alive -= 1
        self.n_dead += 1
        for chan in self.chans:
            self.post[chan].forget(self._terms[chan][row][0])

    def mass_is_stale(self) -> bool:
        """True when the live row count moved by over 10 % (and over 5 rows) since the masses
        were computed."""
        return abs(self.n_alive - self._mass_n) > 0.1 * max(self._mass_n, 50)

    def refresh_mass(self, idf_power: float) -> None:
        """Recompute each row's total term weight with the current IDFs."""
        n = max(self.n_alive, 1)
        for chan in self.chans:
            df = np.asarray(self.post[chan].df, np.float64)
            idf = ((np.log((1.0 + n) / (1.0 + df)) + 1.0) ** idf_power).astype(np.float32)
            mass = self._mass[chan]
            for row, (tids, _) in enumerate(self._terms[chan]):
                mass[row] = idf[np.frombuffer(tids, np.int32)].sum() if len(tids) else 0.0
        self._mass_n, self._mass_power = self.n_alive, idf_power

    def coverage(self, chan: str, terms: dict[str, float], idf_power: float,
                 exponent: float) -> np.ndarray:
        """Coverage score of every row for a query (``scoring.coverage``).

        Args:
            chan: Channel letter.
            terms: Query term -> weight in that channel.
            idf_power: IDF exponent (masses are refreshed first when it changed).
            exponent: ``a`` in ``qcov**a * dcov**(1-a)``.

        Returns:
            One score per row, dead rows included.
        """
        if self._mass_power != idf_power:
            self.refresh_mass(idf_power)
        return coverage(self.post[chan], terms, self.n, max(self.n_alive, 1), self._mass[chan],
                        idf_power, exponent)
