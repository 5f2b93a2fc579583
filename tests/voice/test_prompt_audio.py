"""A phone prompt as one 8 kHz WAV from real espeak-ng audio, with exact pauses."""
from __future__ import annotations

import io
import wave

import pytest

from voice.prompt_audio import prompt_wav
from voice.prompts import PAUSE_BEFORE_INPUT_MS
from voice.tts import TtsService


def frames(audio: bytes) -> tuple:
    with wave.open(io.BytesIO(audio)) as w:
        return w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())


async def test_parts_are_joined_with_pauses_and_cached(tts: TtsService) -> None:
    one = frames(await prompt_wav(tts, ["社保，请按一"]))
    two = frames(await prompt_wav(tts, ["社保，请按一", "医保，请按二"], before_input=True))
    assert one[:2] == two[:2] == (8000, 1)
    assert len(two[2]) > 2 * len(one[2]) - 2 * 8000 * 0.4  # the second sentence and the pauses
    quiet = 2 * 8000 * PAUSE_BEFORE_INPUT_MS // 1000
    assert two[2][-quiet:] == b"\x00" * quiet and one[2][-quiet:] != b"\x00" * quiet
    assert tts.stats.cache_hits >= 1  # "社保，请按一" was synthesised once


async def test_slow_prompts_are_longer(tts: TtsService) -> None:
    normal = frames(await prompt_wav(tts, ["请说出您要办的事"]))[2]
    slow = frames(await prompt_wav(tts, ["请说出您要办的事"], rate="slow"))[2]
    assert len(slow) > 1.15 * len(normal)


async def test_nothing_to_say_is_an_error(tts: TtsService) -> None:
    with pytest.raises(ValueError):
        await prompt_wav(tts, ["  ", ""])
