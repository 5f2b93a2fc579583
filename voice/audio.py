"""Audio for recognisers: WAV or raw 16-bit PCM in, 16-bit mono PCM at the rate asked out."""
from __future__ import annotations

import audioop  # in the standard library up to Python 3.12; govbot runs on 3.10
import io
import re
import wave
from dataclasses import dataclass
from typing import Optional

from voice.asr import AsrError

WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave")
PCM_TYPES = ("audio/pcm", "audio/l16")
MAX_SECONDS = 20
"""Speech may run up to 20 s; longer audio is refused, not cut."""


@dataclass(frozen=True)
class Pcm:
    """16-bit little-endian mono samples."""

    data: bytes
    rate: int

    @property
    def seconds(self) -> float:
        """Duration."""
        return len(self.data) / 2 / self.rate if self.rate else 0.0


def _rate_param(content_type: str, default: int) -> int:
    match = re.search(r"rate=(\d{4,6})", content_type)
    return int(match.group(1)) if match else default


def decode(audio: bytes, content_type: str, max_seconds: Optional[float] = MAX_SECONDS) -> Pcm:
    """Decode WAV (any PCM width, channels, rate) or raw PCM (``audio/l16;rate=8000``).

    Raises:
        AsrError: Another container (``asr_unsupported_format``), a broken file, or more
            than ``MAX_SECONDS`` of audio.
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind in WAV_TYPES:
        try:
            with wave.open(io.BytesIO(audio)) as wav:
                width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
                frames = wav.readframes(wav.getnframes())
        except (wave.Error, EOFError) as exc:
            raise AsrError("音频文件已损坏，请重新录音。", "asr_bad_audio") from exc
        if width == 1:  # 8-bit WAV samples are unsigned; audioop works on signed ones
            frames = audioop.bias(frames, 1, -128)
        if channels == 2:
            frames = audioop.tomono(frames, width, 0.5, 0.5)
        elif channels != 1:
            raise AsrError("只支持单声道或双声道录音。", "asr_bad_audio")
        if width != 2:
            frames = audioop.lin2lin(frames, width, 2)
        pcm = Pcm(frames, rate)
    elif kind in PCM_TYPES:
        pcm = Pcm(audio[: len(audio) - len(audio) % 2], _rate_param(content_type, 16000))
    else:
        raise AsrError("这种录音格式需要识别服务自己解码，请改用 WAV。", "asr_unsupported_format")
    if not pcm.data:
        raise AsrError("没有录到声音，请再说一次。", "asr_empty_audio")
    if max_seconds is not None and pcm.seconds > max_seconds:
        raise AsrError(f"录音超过 {max_seconds:g} 秒，请说短一些。", "asr_too_long")
    return pcm


def resample(pcm: Pcm, rate: int) -> Pcm:
    """The same speech at ``rate`` samples per second (a sample shorter, at most)."""
    if pcm.rate == rate:
        return pcm
    data, _ = audioop.ratecv(pcm.data, 2, 1, pcm.rate, rate, None)
    return Pcm(data, rate)


def chunks(data: bytes, size: int):
    """``data`` in pieces of at most ``size`` bytes."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def to_wav(pcm: Pcm) -> bytes:
    """A 16-bit mono WAV file of ``pcm``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pcm.rate)
        wav.writeframes(pcm.data)
    return out.getvalue()


def silence(ms: int, rate: int) -> bytes:
    """``ms`` milliseconds of 16-bit silence."""
    return b"\x00\x00" * (rate * ms // 1000)

