"""Async text-to-speech service: pyttsx3 + espeak-ng in a dedicated worker process, with a cache."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import time
import types
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import AsyncIterator, Dict, Iterator, Optional, Tuple

from aiohttp import web

from voice.speech_text import normalize_for_speech
from voice.tts_worker import READY, worker_main

_LOGGER = logging.getLogger(__name__)

DEFAULT_VOICE = "cmn-latn-pinyin"  # the plain ``cmn`` voice mispronounces most characters
RATES = {"normal": 152, "slow": 120}
"""espeak-ng's rate setting (its "words" per minute). Measured on real audio (Chinese characters
over the spoken duration, pauses included): about 190 characters a minute for ``normal`` (older
callers' 180–200) and about 146 for ``slow`` (长辈版, "慢一点": at most 150)."""
VOLUMES = {"normal": 1.0, "loud": 1.6}  # espeak amplitude 100 / 160


class TtsError(Exception):
    """Synthesis failed; ``message`` is safe to show to residents."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message = message


class TtsUnavailable(TtsError):
    """The worker cannot run on this machine (no espeak-ng voice)."""


@dataclass
class TtsStats:
    """Counters for tests and /metrics."""

    jobs: int = 0
    cache_hits: int = 0
    restarts: int = 0
    failures: int = 0


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Hide ``__main__`` while spawning so the child does not re-run the parent's script."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


@dataclass
class TtsService:
    """Serialises synthesis through one spawned worker; caches WAV bytes in a bounded LRU."""

    voice: str = DEFAULT_VOICE
    job_timeout: float = 30.0
    start_timeout: float = 30.0
    cache_bytes: int = 32 * 1024 * 1024
    max_pending: int = 16
    stats: TtsStats = field(default_factory=TtsStats)

    def __post_init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Optional[multiprocessing.process.BaseProcess] = None
        self._jobs = None
        self._results = None
        self._lock = asyncio.Lock()
        self._pending = 0
        self._cache: "OrderedDict[Tuple[str, str, str, str], bytes]" = OrderedDict()
        self._cached_bytes = 0
        self._ids = itertools.count(1)
        self._dir = tempfile.mkdtemp(prefix="govbot-tts-")
        self.unavailable_reason = ""

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the worker; on failure the service stays up but reports itself unavailable."""
        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(None, self._start_blocking)

    async def stop(self) -> None:
        """Stop the worker and remove temporary files."""
        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(None, self._stop_blocking)
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def available(self) -> bool:
        """True when the last start succeeded."""
        return not self.unavailable_reason

    @property
    def worker_pid(self) -> Optional[int]:
        """PID of the live worker process, if any."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def _start_blocking(self) -> None:
        self._jobs, self._results = self._ctx.Queue(), self._ctx.Queue()
        proc = self._ctx.Process(target=worker_main, args=(self._jobs, self._results, self.voice),
                                 name="govbot-tts", daemon=True)
        with _bare_main():
            proc.start()
        self._proc = proc
        try:
            tag, ok, detail = self._results.get(timeout=self.start_timeout)
        except queue.Empty:
            tag, ok, detail = READY, False, "worker did not start in time"
        if tag != READY or not ok:
            self.unavailable_reason = str(detail)
            _LOGGER.error("TTS worker unavailable: %s", detail)
            self._kill()
            return
        self.unavailable_reason = ""
        _LOGGER.info("TTS worker %s ready with voice %s", proc.pid, detail)

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(timeout=5)
            self._proc = None
        for q in (self._jobs, self._results):
            if q is not None:
                q.close()
                q.cancel_join_thread()
        self._jobs = self._results = None

    def _stop_blocking(self) -> None:
        if self._proc is not None and self._proc.is_alive() and self._jobs is not None:
            self._jobs.put(None)
            self._proc.join(timeout=5)
        self._kill()

    def _restart_blocking(self) -> None:
        self.stats.restarts += 1
        _LOGGER.warning("restarting TTS worker")
        self._kill()
        self._start_blocking()

    # -- synthesis -------------------------------------------------------------------------
    def _run_job(self, text: str, rate: str, volume: str) -> bytes:
        """Blocking: send one job to the worker and wait for its WAV (runs in an executor)."""
        if self._proc is None or not self._proc.is_alive():
            self._restart_blocking()
            if not self.available:
                raise TtsUnavailable("语音朗读暂不可用", self.unavailable_reason)
        job_id = next(self._ids)
        path = os.path.join(self._dir, f"job-{job_id}.wav")
        self._jobs.put({"id": job_id, "text": text, "rate": RATES[rate],
                        "volume": VOLUMES[volume], "path": path})
        deadline = time.monotonic() + self.job_timeout
        while True:
            try:
                got_id, ok, detail = self._results.get(timeout=0.2)
            except queue.Empty:
                if not self._proc.is_alive():
                    self._restart_blocking()
                    raise TtsError("语音合成中断，请重试", "TTS worker died during a job")
                if time.monotonic() > deadline:
                    self._restart_blocking()
                    raise TtsError("语音合成超时，请稍后重试", f"TTS job timed out after {self.job_timeout}s")
                continue
            if got_id != job_id:
                continue  # a late answer for an abandoned job
            if not ok:
                raise TtsError("语音合成失败，请稍后重试", str(detail))
            try:
                with open(path, "rb") as fh:
                    return fh.read()
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    async def synthesize(self, text: str, rate: str = "normal", volume: str = "normal") -> bytes:
        """Normalise ``text`` for speech and return a WAV (mono, 16 bit).

        Args:
            text: what is shown on screen; numbers, dates and phones are rewritten for speech.
            rate: ``normal`` or ``slow`` (长辈版).
            volume: ``normal`` or ``loud``.

        Raises:
            ValueError: bad rate/volume or nothing left to say.
            TtsUnavailable: no worker can run here.
            TtsError: the job failed, timed out or the queue is full.
        """
        if rate not in RATES or volume not in VOLUMES:
            raise ValueError("rate must be normal|slow and volume normal|loud")
        spoken = normalize_for_speech(text)
        if not spoken:
            raise ValueError("nothing to read aloud")
        key = (spoken, self.voice, rate, volume)
        if key in self._cache:
            self._cache.move_to_end(key)
            self.stats.cache_hits += 1
            return self._cache[key]
        if self._pending >= self.max_pending:
            raise TtsError("朗读请求较多，请稍后重试", "TTS queue full")
        self._pending += 1
        try:
            async with self._lock:
                if key in self._cache:  # filled while we waited
                    self.stats.cache_hits += 1
                    return self._cache[key]
                self.stats.jobs += 1
                loop = asyncio.get_running_loop()
                try:
                    audio = await loop.run_in_executor(None, self._run_job, spoken, rate, volume)
                except TtsError:
                    self.stats.failures += 1
                    raise
        finally:
            self._pending -= 1
        self._remember(key, audio)
        return audio

    def _remember(self, key: Tuple[str, str, str, str], audio: bytes) -> None:
        if len(audio) > self.cache_bytes:
            return
        self._cache[key] = audio
        self._cached_bytes += len(audio)
        while self._cached_bytes > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= len(old)

    def cache_info(self) -> Dict[str, int]:
        """Entries and bytes currently cached."""
        return {"entries": len(self._cache), "bytes": self._cached_bytes}


TTS = web.AppKey("tts", TtsService)


async def tts_ctx(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: start the TTS worker with the app, stop it on shutdown."""
    service = TtsService()
    await service.start()
    app[TTS] = service
    yield
    await service.stop()
