"""On-disk cache of entry-text vectors (SQLite), pruned of vectors no build has used for a while."""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np

_LOGGER = logging.getLogger(__name__)

IDLE_DAYS = 30
"""Default for ``GOVBOT_VECTOR_CACHE_DAYS``: vectors no build or save has used for this many days
are deleted (the texts of edited or archived entries, and every vector of an older model)."""
_CHUNK = 500  # keys per statement (SQLite allows 999 parameters in older builds)
_BUSY_MS = 30_000  # how long a waiting call lets SQLite retry a file another process holds
_VACUUM_MIN = 1000
"""A prune that deletes at least this many rows, and a quarter of the file, compacts the file."""


def _day(clock: Callable[[], float]) -> int:
    return int(clock() // 86400)


class VectorCache:
    """Text -> vector store in a SQLite file, so restarts do not re-encode every entry.

    Each row records the day it was last read or written; ``prune`` deletes rows idle for
    longer than a number of days. A file from before that column is upgraded in place, its rows
    counted as used on the day of the upgrade.
    """

    def __init__(self, path: "os.PathLike[str] | str", model_id: str,
                 clock: Callable[[], float] = time.time):
        """Open (or create) the cache file.

        Args:
            path: The SQLite file.
            model_id: Keys are per model: another model never sees these vectors.
            clock: Seconds since the epoch (tests move it).

        Raises:
            sqlite3.Error: The file cannot be opened or is not a cache.
        """
        self._model, self._clock = model_id, clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=_BUSY_MS / 1000)
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB, "
                             "used INTEGER NOT NULL DEFAULT 0)")
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(vectors)")}
            if "used" not in columns:
                self._db.execute("ALTER TABLE vectors ADD COLUMN used INTEGER NOT NULL DEFAULT 0")
                self._db.execute("UPDATE vectors SET used = ?", (_day(clock),))
                _LOGGER.info("vector cache %s upgraded (rows now record their last use)", path)

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self._model}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()

    @contextmanager
    def _held(self, wait: bool) -> Iterator[bool]:
        """Hold the cache for one call; without ``wait``, yield False at once when a prune (of
        this process, or a file lock of another) has it, and let SQLite not retry."""
        if not self._lock.acquire(blocking=wait):
            yield False
            return
        try:
            if wait:
                yield True
                return
            self._db.execute("PRAGMA busy_timeout = 0")
            try:
                yield True
            except sqlite3.OperationalError as exc:  # "database is locked": skip the cache
                _LOGGER.debug("vector cache busy (%s); going on without it", exc)
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        finally:
            self._lock.release()

    def get_many(self, texts: Sequence[str], wait: bool = True) -> dict[str, np.ndarray]:
        """Cached vectors of ``texts`` (missing ones are absent); the found rows count as used.

        Args:
            texts: Entry texts.
            wait: False finds nothing rather than wait for a prune (a live save).
        """
        keys = {self._key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        today = _day(self._clock)
        stale: list[str] = []
        with self._held(wait) as held:
            if not held:
                return {}
            items = list(keys)
            for i in range(0, len(items), _CHUNK):
                chunk = items[i:i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, blob, used in self._db.execute(
                        f"SELECT key, vec, used FROM vectors WHERE key IN ({marks})", chunk):
                    found[keys[key]] = np.frombuffer(blob, np.float32)
                    if used < today:
                        stale.append(key)
            if stale:  # once a day per row at most: most builds write nothing here
                with self._db:
                    self._db.executemany("UPDATE vectors SET used = ? WHERE key = ?",
                                         [(today, k) for k in stale])
        return found

    def put_many(self, items: dict[str, np.ndarray], wait: bool = True) -> None:
        """Store vectors (an existing key is replaced).

        Args:
            items: Text -> vector.
            wait: False stores nothing rather than wait for a prune (a live save).
        """
        today = _day(self._clock)
        rows = [(self._key(t), np.asarray(v, np.float32).tobytes(), today)
                for t, v in items.items()]
        with self._held(wait) as held:
            if held:
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def count(self) -> int:
        """Number of cached vectors (every model's)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def prune(self, days: int) -> int:
        """Delete the vectors not used in the last ``days`` days (0 deletes nothing).

        A prune that deletes many rows (at least ``_VACUUM_MIN`` and a quarter of them) also
        compacts the file, which SQLite does not shrink by itself.

        Returns:
            How many vectors were deleted.
        """
        if days <= 0:
            return 0
        with self._lock:
            with self._db:
                gone = self._db.execute("DELETE FROM vectors WHERE used < ?",
                                        (_day(self._clock) - days,)).rowcount
            if not gone:  # the usual case after a build: no second scan of the table
                return 0
            total = gone + int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            if gone >= _VACUUM_MIN and 4 * gone >= total:
                self._db.execute("VACUUM")
        _LOGGER.info("vector cache: %d of %d vectors unused for %d days deleted", gone, total, days)
        return gone
