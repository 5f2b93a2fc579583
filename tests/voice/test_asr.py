"""ASR interface: backend registry, the default ``none`` backend, and the /api/asr endpoints."""
from __future__ import annotations

import logging
from typing import Any, List, Tuple

import pytest
from aiohttp import web

from bot.errors import error_middleware
from voice import asr as asr_mod
from bot.voice_api import voice_routes
from voice.asr import (ASR, AsrError, AsrNotConfigured, AsrResult, NoneRecognizer, Recognizer,
                       backend_names, create_recognizer, register_backend)
from bot.voice_api import MAX_ASR_BYTES

_LOGGER = logging.getLogger(__name__)


class EchoRecognizer(Recognizer):
    """Test backend: 'recognises' the bytes as UTF-8 text; b'noise' fails."""

    name = "echo"

    def __init__(self) -> None:
        self.seen: List[Tuple[int, str]] = []

    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        self.seen.append((len(audio), content_type))
        if audio == b"noise":
            raise AsrError("没有听清，请再说一遍。")
        return AsrResult(text=audio.decode("utf-8"), confidence=0.9)


def test_default_backend_is_none() -> None:
    recognizer = create_recognizer({})
    assert isinstance(recognizer, NoneRecognizer)
    assert recognizer.available is False and "语音识别未配置" in recognizer.status_message


def test_env_selects_registered_backend() -> None:
    register_backend("echo", lambda env: EchoRecognizer())
    assert "echo" in backend_names() and "none" in backend_names()
    assert isinstance(create_recognizer({"GOVBOT_ASR_BACKEND": " Echo "}), EchoRecognizer)


def test_unknown_backend_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="funasr"):  # the message lists the known ones
        create_recognizer({"GOVBOT_ASR_BACKEND": "whisper"})


async def test_none_backend_raises_not_configured() -> None:
    with pytest.raises(AsrNotConfigured) as err:
        await NoneRecognizer().recognize(b"RIFF....", "audio/wav")
    assert err.value.code == "asr_not_configured" and "未配置" in err.value.message


async def make_client(aiohttp_client: Any, recognizer: Recognizer | None) -> Any:
    app = web.Application(middlewares=[error_middleware])
    if recognizer is not None:
        app[ASR] = recognizer
    app.add_routes([web.route(r.method, "/api" + r.path, r.handler) for r in voice_routes()])
    return await aiohttp_client(app)


async def test_status_and_upload_without_backend(aiohttp_client: Any, monkeypatch: Any) -> None:
    client = await make_client(aiohttp_client, None)  # no asr_ctx: voice input is off
    status = await (await client.get("/api/asr")).json()
    assert status["available"] is False and status["backend"] == "none"
    assert status["message"].startswith("语音识别未配置")
    resp = await client.post("/api/asr", data=b"\x1a\x45\xdf\xa3" * 100,
                             headers={"Content-Type": "audio/webm"})
    assert resp.status == 503
    body = await resp.json()
    assert body["error"]["code"] == "asr_not_configured" and "未配置" in body["error"]["message"]


async def test_upload_with_backend(aiohttp_client: Any) -> None:
    echo = EchoRecognizer()
    client = await make_client(aiohttp_client, echo)
    assert (await (await client.get("/api/asr")).json())["available"] is True
    resp = await client.post("/api/asr", data="社保卡怎么补办".encode(),
                             headers={"Content-Type": "audio/webm;codecs=opus"})
    assert resp.status == 200
    assert await resp.json() == {"text": "社保卡怎么补办", "confidence": 0.9}
    assert echo.seen == [(len("社保卡怎么补办".encode()), "audio/webm")]


@pytest.mark.parametrize("data,content_type,status,code", [
    (b"", "audio/wav", 400, "empty_audio"),
    (b"abc", "text/plain", 400, "unsupported_audio_type"),
    (b"noise", "audio/ogg", 400, "asr_failed"),
    (b"x" * (MAX_ASR_BYTES + 1), "audio/wav", 413, "payload_too_large"),
], ids=["empty", "not-audio", "not-recognised", "too-large"])
async def test_upload_errors(aiohttp_client: Any, data: bytes, content_type: str, status: int,
                             code: str) -> None:
    client = await make_client(aiohttp_client, EchoRecognizer())
    resp = await client.post("/api/asr", data=data, headers={"Content-Type": content_type})
    assert resp.status == status
    assert (await resp.json())["error"]["code"] == code


async def test_asr_ctx_builds_and_closes(monkeypatch: Any) -> None:
    closed = []

    class Closing(EchoRecognizer):
        async def close(self) -> None:
            closed.append(True)

    register_backend("closing", lambda env: Closing())
    app = web.Application()
    ctx = asr_mod.asr_ctx({"GOVBOT_ASR_BACKEND": "closing"})(app)
    await ctx.__anext__()
    assert isinstance(app[ASR], Closing)
    with pytest.raises(StopAsyncIteration):
        await ctx.__anext__()
    assert closed == [True]
