"""HTTP routes for read-aloud (``/api/tts``) and voice input (``/api/asr``)."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List

from aiohttp import web

from bot.errors import BadRequest, PayloadTooLarge, Unavailable
from voice.asr import (ACCEPTED_TYPES, ASR, AsrError, AsrNotConfigured, NoneRecognizer,
                       Recognizer)
from voice.tts import RATES, TTS, VOLUMES, TtsError, TtsService, TtsUnavailable

_LOGGER = logging.getLogger(__name__)

MAX_TTS_BODY = 32 * 1024  # bytes of JSON
MAX_TTS_CHARS = 2000  # characters of text to read
MAX_ASR_BYTES = 4 * 1024 * 1024  # about 60 s of 16 kHz WAV, many minutes of Opus
_NO_RECOGNIZER = NoneRecognizer()


def _tts(request: web.Request) -> TtsService:
    service = request.config_dict.get(TTS)
    if service is None or not service.available:
        raise Unavailable("语音朗读暂不可用，请阅读文字或拨打热线电话。", code="tts_unavailable")
    return service


def _recognizer(request: web.Request) -> Recognizer:
    """The app's recogniser (``voice.asr.asr_ctx``); none configured: voice input is off."""
    return request.config_dict.get(ASR) or _NO_RECOGNIZER


async def _read_limited(request: web.Request, limit: int) -> bytes:
    """Read the body without relying on the app's ``client_max_size``; 413 past ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"内容过大（上限 {limit // 1024} KB）")
    chunks: List[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"内容过大（上限 {limit // 1024} KB）")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_tts(body: bytes) -> Dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("请求格式错误：需要 JSON", code="bad_json") from None
    if not isinstance(data, dict):
        raise BadRequest("请求格式错误：需要 JSON 对象", code="bad_json")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("缺少要朗读的文字", code="missing_text")
    if len(text) > MAX_TTS_CHARS:
        raise BadRequest(f"文字过长（上限 {MAX_TTS_CHARS} 字）", code="text_too_long")
    rate = data.get("rate") or "normal"
    volume = data.get("volume") or "normal"
    if rate not in RATES:
        raise BadRequest("rate 只能是 normal 或 slow", code="bad_rate")
    if volume not in VOLUMES:
        raise BadRequest("volume 只能是 normal 或 loud", code="bad_volume")
    return {"text": text, "rate": rate, "volume": volume}


async def tts_handler(request: web.Request) -> web.Response:
    """``POST /api/tts`` ``{"text", "rate"?, "volume"?}`` → ``audio/wav``."""
    job = _parse_tts(await _read_limited(request, MAX_TTS_BODY))
    service = _tts(request)
    try:
        audio = await service.synthesize(job["text"], rate=job["rate"], volume=job["volume"])
    except ValueError:
        raise BadRequest("这段文字没有可朗读的内容", code="nothing_to_say") from None
    except TtsUnavailable as exc:
        raise Unavailable(exc.message, code="tts_unavailable") from None
    except TtsError as exc:
        _LOGGER.warning("TTS failed: %s", exc)
        raise Unavailable(exc.message, code="tts_failed") from None
    return web.Response(body=audio, content_type="audio/wav",
                        headers={"Cache-Control": "private, max-age=3600"})


async def asr_status_handler(request: web.Request) -> web.Response:
    """``GET /api/asr``: whether voice input works here, in words residents understand."""
    recognizer = _recognizer(request)
    return web.json_response({
        "available": recognizer.available,
        "backend": recognizer.name,
        "message": recognizer.status_message,
        "max_bytes": MAX_ASR_BYTES,
        "accepted_types": list(ACCEPTED_TYPES),
    }, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


async def asr_handler(request: web.Request) -> web.Response:
    """``POST /api/asr`` with the recording as the body → ``{"text", "confidence"}``."""
    if request.content_length is not None and request.content_length > MAX_ASR_BYTES:
        raise PayloadTooLarge(f"录音过长（上限 {MAX_ASR_BYTES // (1024 * 1024)} MB）")
    recognizer = _recognizer(request)
    if not recognizer.available:
        raise Unavailable(recognizer.status_message, code="asr_not_configured")
    content_type = request.content_type.lower()
    if content_type not in ACCEPTED_TYPES:
        raise BadRequest("不支持的录音格式", code="unsupported_audio_type")
    audio = await _read_limited(request, MAX_ASR_BYTES)
    if not audio:
        raise BadRequest("没有收到录音", code="empty_audio")
    try:
        result = await recognizer.recognize(audio, content_type)
    except AsrNotConfigured as exc:
        raise Unavailable(exc.message, code=exc.code) from None
    except AsrError as exc:
        raise BadRequest(exc.message, code=exc.code) from None
    return web.json_response({"text": result.text, "confidence": result.confidence},
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def voice_routes() -> List[web.RouteDef]:
    """Routes under ``/api/`` (added to the chat API's sub-application)."""
    return [
        web.post("/tts", tts_handler),
        web.get("/asr", asr_status_handler),
        web.post("/asr", asr_handler),
    ]
