"""A phone prompt as one 8 kHz WAV: each sentence from the TTS (cached), the pauses exact."""
from __future__ import annotations

from typing import Sequence

from voice.audio import Pcm, decode, resample, silence, to_wav
from voice.prompts import PAUSE_BEFORE_INPUT_MS, PAUSE_BETWEEN_MS
from voice.tts import TtsService

PHONE_RATE = 8000


async def prompt_wav(tts: TtsService, parts: Sequence[str], rate: str = "normal",
                     before_input: bool = False) -> bytes:
    """Synthesize ``parts`` one by one (the TTS caches each, so menus and greetings are
    made once) and join them with ``PAUSE_BETWEEN_MS`` of silence, plus
    ``PAUSE_BEFORE_INPUT_MS`` at the end when input is expected next.

    Raises:
        ValueError: No part has anything to say.
        TtsError: The TTS failed.
    """
    pieces = []
    for part in parts:
        if not part.strip():
            continue
        wav = await tts.synthesize(part, rate=rate)
        pieces.append(resample(decode(wav, "audio/wav", max_seconds=None), PHONE_RATE).data)
    if not pieces:
        raise ValueError("nothing to say")
    gap = silence(PAUSE_BETWEEN_MS, PHONE_RATE)
    data = gap.join(pieces) + silence(PAUSE_BEFORE_INPUT_MS if before_input else 200, PHONE_RATE)
    return to_wav(Pcm(data, PHONE_RATE))
