"""Sentence encoder (m3e-small, int8 ONNX) behind the dense retrieval channel and the matcher."""
from __future__ import annotations

import ctypes
import logging
import os
import sqlite3
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from knowledge.encoder_files import (BULK_FILE, DEFAULT_DIR, LEGACY_MODEL_FILE, MODEL_FILE,
                                     TOKENIZER_FILE, matches, model_sha1)
from knowledge.vector_cache import IDLE_DAYS, VectorCache

if TYPE_CHECKING:
    import onnxruntime as ort

_LOGGER = logging.getLogger(__name__)

MAX_TOKENS = 64
"""Longer texts, queries included, keep their last tokens: residents put the question after the
context (cost grows with length, but 32 or 48 tokens lost 1.5-2 points of dev top-1)."""
BULK_THREADS = max(1, min(4, len(os.sched_getaffinity(0))))
"""Threads that encode many texts at once (an index build); each run is single-threaded, and a
text's vector does not depend on which thread encodes it."""
_PARALLEL_MIN = 32
BATCH_TOKENS = 512
"""Tokens in one batched run of texts of one length (8 texts of 64 tokens, 42 of 12): a run
costs least per text there on this class of machine, and less than its texts one by one."""


_OPTIONS: dict[str, object] = {"dir": DEFAULT_DIR, "enabled": True, "cache_days": IDLE_DAYS}


def configure(model_dir: Path | None = None, enabled: bool = True,
              cache_days: int = IDLE_DAYS) -> None:
    """Where the installed encoder lives, whether it is used, and how long unused cached
    vectors are kept; set once from the operator's settings (``bot.settings``)."""
    _OPTIONS.update(dir=Path(model_dir or DEFAULT_DIR), enabled=enabled, cache_days=cache_days)


def default_dir() -> Path:
    """The configured encoder folder (``models/encoder`` in the project by default)."""
    return Path(_OPTIONS["dir"])  # type: ignore[arg-type]


def _pool(hidden: np.ndarray) -> np.ndarray:
    """Mean of a text's token states ``[T, dim]``, scaled to unit length."""
    pooled = hidden.mean(axis=0)
    return pooled / max(float(np.linalg.norm(pooled)), 1e-9)


def _release_free_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere a
    no-op): the freed batch buffers would otherwise stay in the process's resident size."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class SentenceEncoder:
    """Unit-length sentence vectors: BERT mean pooling, as m3e was trained.

    A query is encoded alone. Many texts (an index build) go through the batched graph
    (``encoder_bulk``), texts of one length per run, never padded; it quantises each text by
    itself, so every vector equals the one the text gets alone, bit for bit.
    """

    def __init__(self, model_dir: Path, threads: int = 1, cache: bool = True,
                 cache_path: Path | None = None):
        """Load the ONNX model and tokenizer from ``model_dir`` (see ``encoder_export``).

        Args:
            model_dir: Holds the ONNX model (``MODEL_FILE``) and ``tokenizer.json``.
            threads: Intra-op threads (1 keeps query latency steady beside the server).
            cache: Keep encoded entry texts in an on-disk cache.
            cache_path: The cache file (default ``vectors.sqlite`` in ``model_dir``).
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer


        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.log_severity_level = 3
        model = model_dir / MODEL_FILE
        self._session = ort.InferenceSession(str(model), options,
                                             providers=["CPUExecutionProvider"])
        self._bulk_path, self._bulk_missing = model_dir / BULK_FILE, False
        self._tok = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self._tok.enable_truncation(MAX_TOKENS, direction="left")
        self._tok.no_padding()
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self._model_sha1 = model_sha1(model)
        self.model_id = f"m3e-small-int8-{self._model_sha1[:12]}-{MAX_TOKENS}-b1"  # as alone
        self._cache = None
        if cache:
            try:
                self._cache = VectorCache(cache_path or model_dir / "vectors.sqlite",
                                          self.model_id)
            except sqlite3.Error as exc:
                _LOGGER.warning("encoder cache unavailable (%s); encoding without it", exc)

    def _run(self, text: str) -> np.ndarray:
        ids = np.asarray([self._tok.encode(text or " ").ids], np.int64)  # [CLS] ... [SEP]
        return _pool(self._session.run(["hidden"], {"input_ids": ids})[0][0])

    def _bulk_session(self) -> "ort.InferenceSession | None":
        """A session of the batched graph, or None when it is not installed or was made from
        another model.

        Not kept between calls: it takes 0.1 s to load, index builds are rare, and the session
        with its buffers would hold some 100 MB in between.
        """
        import onnxruntime as ort


        session = None
        if self._bulk_path.exists():
            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # Basic optimisation runs the graph as written: its float steps were chosen to
            # match the one-text kernels (see encoder_bulk). No memory pattern: with one, an
            # earlier form of the graph gave another result on the second run of one shape
            # (ONNX Runtime 1.16); the shapes vary from run to run anyway.
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            options.enable_mem_pattern = False
            session = ort.InferenceSession(str(self._bulk_path), options,
                                           providers=["CPUExecutionProvider"])
            if not matches(session.get_modelmeta().custom_metadata_map, self._model_sha1):
                session = None
        if session is None and not self._bulk_missing:
            self._bulk_missing = True
            _LOGGER.warning("no batched encoder graph for this model at %s (run make install); "
                            "texts are encoded one by one", self._bulk_path)
        return session

    def _run_many(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of many texts: batches of one token length on ``BULK_THREADS`` threads."""
        bulk = self._bulk_session()
        if bulk is None:
            with ThreadPoolExecutor(max_workers=BULK_THREADS) as pool:
                return list(pool.map(self._run, texts))
        ids = [e.ids for e in self._tok.encode_batch([t or " " for t in texts])]
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(ids):
            by_length[len(row)].append(i)
        jobs = []
        for length, members in by_length.items():
            size = max(1, BATCH_TOKENS // length)
            jobs += [members[k:k + size] for k in range(0, len(members), size)]
        jobs.sort(key=lambda job: -len(job) * len(ids[job[0]]))  # the longest runs first

        def run(job: list[int]) -> np.ndarray:
            session = bulk if len(job) > 1 else self._session  # equal results; one is faster
            batch = np.asarray([ids[i] for i in job], np.int64)
            return session.run(["hidden"], {"input_ids": batch})[0]

        out: list[np.ndarray] = [None] * len(texts)  # type: ignore[list-item]
        try:
            with ThreadPoolExecutor(max_workers=BULK_THREADS) as pool:
                for job, hidden in zip(jobs, pool.map(run, jobs)):
                    for i, states in zip(job, hidden):
                        out[i] = _pool(states)
        finally:
            bulk = None  # the session goes (run reads it through its closure)
            _release_free_memory()
        return out

    def encode(self, texts: Sequence[str], use_cache: bool = False,
               wait_for_cache: bool = True) -> np.ndarray:
        """Vectors for ``texts`` (shape ``(len(texts), dim)``, unit rows).

        Args:
            texts: Any strings (empty ones get the vector of a blank).
            use_cache: Look up and store in the on-disk cache (for entry texts, not queries).
            wait_for_cache: False encodes afresh rather than wait while a prune holds the
                cache (a live save: its few texts cost milliseconds, a prune about a second).
        """
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        cache = self._cache if use_cache else None
        known = cache.get_many(texts, wait_for_cache) if cache is not None else {}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if len(todo) >= _PARALLEL_MIN:  # a bulk build: all cores (ONNX Runtime runs GIL-free)
            fresh = dict(zip(todo, self._run_many(todo)))
        else:
            fresh = {t: self._run(t) for t in todo}
        if cache is not None and fresh:
            cache.put_many(fresh, wait_for_cache)
        known.update(fresh)
        return np.stack([known[t] for t in texts]).astype(np.float32)

    def prune_cache(self, days: int | None = None) -> int:
        """Delete cached vectors unused for ``days`` days (default ``GOVBOT_VECTOR_CACHE_DAYS``).

        An index calls it after a build, whose own texts have just been marked as used. A
        failing cache (a full or locked disk) is logged: the vectors are only a speed-up.

        Returns:
            How many vectors were deleted.
        """
        if self._cache is None:
            return 0
        try:
            return self._cache.prune(int(_OPTIONS["cache_days"]) if days is None else days)
        except sqlite3.Error as exc:
            _LOGGER.warning("vector cache not pruned (%s)", exc)
            return 0

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one search query (its last ``MAX_TOKENS`` tokens, no cache)."""
        return self._run(text)


_DEFAULT: dict[Path, SentenceEncoder | None] = {}
_DEFAULT_LOCK = threading.Lock()


def load_default() -> SentenceEncoder | None:
    """The installed encoder (shared per process), or None when it is missing or switched off
    (``configure(enabled=False)``); retrieval then runs on its lexical signals alone."""
    if not _OPTIONS["enabled"]:
        return None
    path = default_dir()
    with _DEFAULT_LOCK:
        if path not in _DEFAULT:
            if not (path / MODEL_FILE).exists():
                if (path / LEGACY_MODEL_FILE).exists():  # the v1 graph, before MODEL_FILE
                    _LOGGER.warning("the sentence encoder at %s is an older conversion; run "
                                    "make install to convert it again (dense retrieval is off "
                                    "until then)", path)
                else:
                    _LOGGER.warning("no sentence encoder at %s (run make install); dense "
                                    "retrieval is off", path)
                _DEFAULT[path] = None
            else:
                _DEFAULT[path] = SentenceEncoder(path)
        return _DEFAULT[path]
