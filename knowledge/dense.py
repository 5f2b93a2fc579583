"""Row-aligned sentence vectors of the index's questions, for the dense retrieval channel."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from knowledge.encoder import SentenceEncoder
from knowledge.rows import grow

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

_WORKER: ThreadPoolExecutor | None = None
_WORKER_LOCK = threading.Lock()
_ON_WORKER = threading.local()


def _mark_worker() -> None:
    _ON_WORKER.yes = True


def run_beside(fn: Callable[..., T], *args: Any) -> "Future[T]":
    """Run ``fn(*args)`` on the one worker thread shared by every index in the process, while
    the caller encodes the query (ONNX Runtime releases the GIL while it runs).

    The lexical scoring goes to the worker rather than the encoder: waking a thread costs about
    a millisecond on this class of VM, and that wake-up then overlaps the encoder run instead of
    delaying either. One thread, not a pool: the same thread stays warm.

    Args:
        fn: The work.
        *args: Its arguments.

    Returns:
        Its future. Called from the worker itself, ``fn`` runs at once (waiting for a job
        queued behind the current one would never end).
    """
    global _WORKER
    if getattr(_ON_WORKER, "yes", False):
        done: Future = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as exc:  # handed to the caller through the future, as submit does
            done.set_exception(exc)
        return done
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lexical",
                                         initializer=_mark_worker)
    return _WORKER.submit(fn, *args)


class DenseRows:
    """One unit vector per index row (a question of an entry), encoded by ``encoder``.

    Rows added in bulk are queued and encoded by one ``flush`` (through the encoder's on-disk
    cache, in one lookup and one write); a live upsert encodes its few questions at once.
    """

    def __init__(self, encoder: SentenceEncoder):
        self.encoder = encoder
        self._vecs = np.zeros((1024, encoder.dim), np.float32)
        self._pending: dict[int, str] = {}
        self._ahead: tuple[list[str], Future] | None = None

    def prefetch(self, texts: Sequence[str]) -> None:
        """Start encoding ``texts`` on a thread of their own; ``flush`` takes their vectors.

        An index build calls this before it indexes words, so the encoder's runs, which hold
        no GIL, overlap the Python indexing. The texts may be more than the rows will ask for.
        """
        texts = list(dict.fromkeys(texts))
        done: Future = Future()

        def work() -> None:
            try:
                done.set_result(self.encoder.encode(texts, use_cache=True))
            except BaseException as exc:  # handed to flush through the future
                done.set_exception(exc)

        threading.Thread(target=work, name="encode-ahead", daemon=True).start()
        self._ahead = (texts, done)

    def set(self, row: int, text: str, bulk: bool = False) -> None:
        """Give ``row`` the vector of ``text`` (queued until ``flush`` when ``bulk``)."""
        self._vecs = grow(self._vecs, row + 1)
        if bulk:
            self._pending[row] = text
        else:
            # a live save holds the index lock: it must not wait for a running prune
            self._vecs[row] = self.encoder.encode([text], use_cache=True,
                                                  wait_for_cache=False)[0]

    def copy_row(self, other: "DenseRows", old: int, new: int) -> None:
        """Carry a row's vector over from ``other`` (index compaction renumbers rows)."""
        self._vecs = grow(self._vecs, new + 1)
        if old in other._pending:
            self._pending[new] = other._pending[old]
        else:
            self._vecs[new] = other._vecs[old]

    def flush(self) -> None:
        """Encode every queued row (waiting for a ``prefetch``, which is used up)."""
        ahead, self._ahead = self._ahead, None
        known = dict(zip(ahead[0], ahead[1].result())) if ahead else {}
        if not self._pending:
            return
        rows = list(self._pending)
        texts = [self._pending[r] for r in rows]
        missing = [t for t in texts if t not in known]
        if missing:
            known.update(zip(missing, self.encoder.encode(missing, use_cache=True)))
        self._vecs[np.asarray(rows)] = np.stack([known[t] for t in texts])
        self._pending.clear()
        _LOGGER.debug("encoded %d questions (%d not prefetched)", len(rows), len(missing))

    def scores(self, query_vec: np.ndarray, n_rows: int) -> np.ndarray:
        """Cosine similarity of a query vector with rows ``0..n_rows-1`` (dead rows included)."""
        self.flush()
        return self._vecs[:n_rows] @ query_vec
