"""Row-aligned sentence vectors of the index's questions, for the dense retrieval channel."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from knowledge.encoder import SentenceEncoder

_LOGGER = logging.getLogger(__name__)



class _EncoderThread:
    """One thread, shared by every index in the process, that encodes queries.

    One thread rather than a pool: the same thread keeps ONNX Runtime's per-thread buffers warm
    (two threads taking turns measured 2-3 ms worse at p99). ONNX Runtime releases the GIL while
    it runs, but the thread needs the GIL to get there, so a caller waits until its job has
    started, or the job could sit behind the caller's Python work for a whole switch interval
    (5 ms) and the two would run one after the other. Behind another job it does not wait.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        self._lock = threading.Lock()
        self._queued = 0

    @property
    def queued(self) -> int:
        """Jobs queued or running."""
        return self._queued

    def submit(self, encoder: SentenceEncoder, query: str) -> Future:
        """Encode ``query`` with ``encoder`` on the thread."""
        started = threading.Event()

        def run() -> np.ndarray:
            started.set()
            try:
                return encoder.encode_query(query)
            finally:
                with self._lock:
                    self._queued -= 1

        with self._lock:
            idle = self._queued == 0
            self._queued += 1
        future = self._pool.submit(run)
        if idle:
            started.wait(0.05)
        return future


_THREAD: _EncoderThread | None = None
_THREAD_LOCK = threading.Lock()


class DenseRows:
    """One unit vector per index row (a question of an entry), encoded by ``encoder``.

    Rows added in bulk are queued and encoded by one ``flush`` (through the encoder's on-disk
    cache, in one lookup and one write); a live upsert encodes its few questions at once.
    """

    def __init__(self, encoder: SentenceEncoder):
        self.encoder = encoder
        self._vecs = np.zeros((1024, encoder.dim), np.float32)
        self._pending: dict[int, str] = {}

    def _grow(self, need: int) -> None:
        if need > len(self._vecs):
            new = np.zeros((max(need, 2 * len(self._vecs)), self._vecs.shape[1]), np.float32)
            new[: len(self._vecs)] = self._vecs
            self._vecs = new

    def set(self, row: int, text: str, bulk: bool = False) -> None:
        """Give ``row`` the vector of ``text`` (queued until ``flush`` when ``bulk``)."""
        self._grow(row + 1)
        if bulk:
            self._pending[row] = text
        else:
            self._vecs[row] = self.encoder.encode([text], use_cache=True)[0]

    def copy_row(self, other: "DenseRows", old: int, new: int) -> None:
        """Carry a row's vector over from ``other`` (index compaction renumbers rows)."""
        self._grow(new + 1)
        if old in other._pending:
            self._pending[new] = other._pending[old]
        else:
            self._vecs[new] = other._vecs[old]

    def flush(self) -> None:
        """Encode every queued row."""
        if not self._pending:
            return
        rows = list(self._pending)
        vecs = self.encoder.encode([self._pending[r] for r in rows], use_cache=True)
        self._vecs[np.asarray(rows)] = vecs
        self._pending.clear()
        _LOGGER.debug("encoded %d questions", len(rows))

    def encode_query_async(self, query: str) -> Future:
        """Start encoding ``query`` on the encoder thread, to run beside the lexical scoring."""
        global _THREAD
        with _THREAD_LOCK:
            if _THREAD is None:
                _THREAD = _EncoderThread()
        return _THREAD.submit(self.encoder, query)

    def scores(self, query_vec: np.ndarray, n_rows: int) -> np.ndarray:
        """Cosine similarity of a query vector with rows ``0..n_rows-1`` (dead rows included)."""
        self.flush()
        return self._vecs[:n_rows] @ query_vec
