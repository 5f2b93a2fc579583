"""Speech figures for ``make bench-phone`` from the real TTS worker: the real-time factor and
the speech rate (汉字 a minute of audio) of the seed answers, in normal and slow mode."""
from __future__ import annotations

import audioop
import io
import json
import statistics
import time
import wave
from typing import Any, Dict, List

from knowledge.seed import SEED_DIR
from voice.speech_text import normalize_for_speech
from voice.tts import TtsService

ANSWERS = 20
"""Seed answers measured (the first ones; their short answers are what callers hear first)."""


def spoken_seconds(audio: bytes) -> float:
    """Seconds from the first to the last 20 ms window louder than 5 % of the peak."""
    with wave.open(io.BytesIO(audio)) as wav:
        width, rate = wav.getsampwidth(), wav.getframerate()
        data = wav.readframes(wav.getnframes())
    step = int(rate * 0.02) * width
    levels = [audioop.rms(data[i:i + step], width) for i in range(0, len(data), step)]
    loud = [i for i, level in enumerate(levels) if level > 0.05 * max(levels)]
    return (loud[-1] - loud[0] + 1) * 0.02 if loud else 0.0


def audio_seconds(audio: bytes) -> float:
    """The WAV's whole length."""
    with wave.open(io.BytesIO(audio)) as wav:
        return wav.getnframes() / wav.getframerate()


def han(text: str) -> int:
    """汉字 in ``text``."""
    return sum("\u4e00" <= c <= "\u9fff" for c in text)


def seed_answers(n: int = ANSWERS) -> List[str]:
    """The short answers (else the answers) of the first ``n`` seed entries."""
    out: List[str] = []
    for line in (SEED_DIR / "entries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            out.append(entry.get("short_answer") or entry["answer"])
        if len(out) == n:
            break
    return out


async def speech_figures() -> Dict[str, Any]:
    """RTF over all jobs, and the median rate per mode."""
    service = TtsService(job_timeout=30.0, cache_bytes=0)
    await service.start()
    if not service.available:
        raise RuntimeError(f"TTS unavailable: {service.unavailable_reason}")
    try:
        synth, heard = 0.0, 0.0
        rates: Dict[str, List[float]] = {"normal": [], "slow": []}
        for text in seed_answers():
            chars = han(normalize_for_speech(text))
            for rate in rates:
                started = time.perf_counter()
                audio = await service.synthesize(text, rate=rate)
                synth += time.perf_counter() - started
                heard += audio_seconds(audio)
                rates[rate].append(chars / spoken_seconds(audio) * 60)
    finally:
        await service.stop()
    return {"rtf": synth / heard, "answers": len(rates["normal"]),
            "normal_cpm": statistics.median(rates["normal"]),
            "slow_cpm": statistics.median(rates["slow"])}
