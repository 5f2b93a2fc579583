"""FunASR runtime server over WebSocket (offline file transcription, FunASR's documented
protocol): a JSON config, the audio as binary frames, ``{"is_speaking": false}``, one result."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Mapping, Optional

import aiohttp

from voice.asr import UNREACHABLE_MESSAGE, AsrError, AsrResult, Recognizer, register_backend
from voice.audio import chunks, decode, resample

_LOGGER = logging.getLogger(__name__)

RATE = 16000
CHUNK_BYTES = 19200  # 600 ms of 16 kHz 16-bit audio, as FunASR's own client sends
PASS_THROUGH = {"audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "mp4",
                "audio/mpeg": "mp3"}
"""Containers sent as they are: the server decodes them (its offline mode takes files)."""


class FunAsrRecognizer(Recognizer):
    """``GOVBOT_ASR_BACKEND=funasr``, ``GOVBOT_ASR_URL=ws://host:10095``."""

    name = "funasr"

    def __init__(self, url: str, timeout: float = 15.0, hotwords: str = "") -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError("GOVBOT_ASR_URL 须为 ws:// 或 wss:// 地址 / GOVBOT_ASR_URL must be a "
                             f"ws:// or wss:// URL for FunASR, not {url!r}")
        self.url, self.timeout, self.hotwords = url, timeout, hotwords
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def config(self, wav_format: str, rate: Optional[int]) -> dict:
        """The opening message."""
        message = {"mode": "offline", "wav_name": "govbot", "wav_format": wav_format,
                   "is_speaking": True, "itn": True}
        if rate:
            message["audio_fs"] = rate
        if self.hotwords:
            message["hotwords"] = self.hotwords
        return message

    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        """Send the audio and wait for the one result.

        Raises:
            AsrError: Unreadable audio, an unreachable server, or no result in time.
        """
        kind = content_type.split(";")[0].strip().lower()
        if kind in PASS_THROUGH:
            opening, body = self.config(PASS_THROUGH[kind], None), audio
        else:
            pcm = resample(decode(audio, content_type), RATE)
            opening, body = self.config("pcm", RATE), pcm.data
        try:
            return await asyncio.wait_for(self._exchange(opening, body), self.timeout)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            _LOGGER.warning("FunASR at %s failed: %s", self.url, type(exc).__name__)
            raise AsrError(UNREACHABLE_MESSAGE, "asr_unavailable") from exc

    async def _exchange(self, opening: dict, body: bytes) -> AsrResult:
        async with self._client().ws_connect(self.url, heartbeat=None) as ws:
            await ws.send_str(json.dumps(opening, ensure_ascii=False))
            for piece in chunks(body, CHUNK_BYTES):
                await ws.send_bytes(piece)
            await ws.send_str(json.dumps({"is_speaking": False}))
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                if "text" in data:  # offline mode answers once, with the whole text
                    return AsrResult(str(data["text"]).strip(), 1.0 if data["text"] else 0.0)
        raise AsrError("语音识别服务没有返回结果，请再说一次。", "asr_no_result")

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()


def from_env(env: Mapping[str, str]) -> FunAsrRecognizer:
    """Build from ``GOVBOT_ASR_URL``, ``GOVBOT_ASR_TIMEOUT`` and ``GOVBOT_ASR_HOTWORDS``."""
    url = (env.get("GOVBOT_ASR_URL") or "").strip()
    if not url:
        raise ValueError("GOVBOT_ASR_BACKEND=funasr 需要 GOVBOT_ASR_URL（如 ws://127.0.0.1:10095）"
                         " / GOVBOT_ASR_BACKEND=funasr needs GOVBOT_ASR_URL")
    return FunAsrRecognizer(url, float(env.get("GOVBOT_ASR_TIMEOUT") or 15),
                            (env.get("GOVBOT_ASR_HOTWORDS") or "").strip())


register_backend("funasr", from_env)
