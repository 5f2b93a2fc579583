"""REST chat: ``POST /api/chat`` (typed request, collected replies) and a Rasa-style webhook."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Dict, List

from aiohttp import web

from bot import metrics
from bot.channels.base import ChannelInput, ChannelOutput, InboundMessage, TurnResult
from bot.dialogue import DIALOGUE
from bot.errors import BadRequest, PayloadTooLarge
from bot.settings import MAX_MESSAGE_BYTES, MAX_TEXT_CHARS

_LOGGER = logging.getLogger(__name__)

SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ufeff]")
CHANNEL_RE = re.compile(r"^[a-z0-9_]{1,32}$")


async def read_json(request: web.Request) -> Dict[str, Any]:
    """Read a JSON object body with size, encoding and syntax checks."""
    if request.content_length is not None and request.content_length > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(f"请求内容超过 {MAX_MESSAGE_BYTES // 1024} KB 上限")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > MAX_MESSAGE_BYTES:
            raise PayloadTooLarge(f"请求内容超过 {MAX_MESSAGE_BYTES // 1024} KB 上限")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise BadRequest("请求内容为空", "empty_body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("请求内容不是 UTF-8 编码", "invalid_encoding") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"不是合法的 JSON：{exc.msg}", "invalid_json") from exc
    except RecursionError as exc:
        raise BadRequest("JSON 嵌套过深", "invalid_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("请求应为 JSON 对象", "invalid_json")
    return data


def check_text(text: Any) -> str:
    """Validate one message text: a non-empty string within the limit, no control characters."""
    if not isinstance(text, str):
        raise BadRequest("text 应为字符串", "invalid_text")
    if not text.strip():
        raise BadRequest("消息内容为空", "empty_text")
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadTooLarge(f"消息超过 {MAX_TEXT_CHARS} 字上限", "text_too_long")
    if CONTROL_RE.search(text):
        raise BadRequest("消息含有控制字符", "control_characters")
    return text.strip()


@dataclass(frozen=True)
class ChatRequest:
    """``{"sender", "text", "channel"?, "metadata"?}``, parsed once."""

    sender: str
    text: str
    channel: str = "rest"
    metadata: Dict[str, Any] = None  # type: ignore[assignment]

    @classmethod
    def parse(cls, data: Dict[str, Any]) -> "ChatRequest":
        """Validate a decoded JSON body."""
        sender = data.get("sender")
        if not isinstance(sender, str) or not SENDER_RE.match(sender):
            raise BadRequest("sender 应为 1–128 位字母、数字或 _.:@-", "invalid_sender")
        channel = data.get("channel", "rest")
        if not isinstance(channel, str) or not CHANNEL_RE.match(channel):
            raise BadRequest("channel 不合法", "invalid_channel")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise BadRequest("metadata 应为对象", "invalid_metadata")
        return cls(sender=sender, text=check_text(data.get("text")), channel=channel,
                   metadata=metadata)

    def inbound(self) -> InboundMessage:
        """As the channel-independent message."""
        return InboundMessage(self.sender, self.text, self.channel, dict(self.metadata))


class RestOutput(ChannelOutput):
    """JSON rendering: ``{"messages": [...], "preferences": {...}}``."""

    def render(self, result: TurnResult) -> Dict[str, Any]:
        """The response body."""
        return result.to_dict()


async def handle_turn(request: web.Request, message: InboundMessage) -> TurnResult:
    """Run a turn through the dialogue and count it."""
    result = await request.app[DIALOGUE].handle(message)
    metrics.TURNS.labels(message.channel).inc()
    return result


async def chat(request: web.Request) -> web.Response:
    """``POST /api/chat``."""
    chat_request = ChatRequest.parse(await read_json(request))
    result = await handle_turn(request, chat_request.inbound())
    return web.json_response(RestOutput().render(result),
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def chat_routes() -> List[web.RouteDef]:
    """The REST API routes."""
    return [web.post("/api/chat", chat)]


class RestInput(ChannelInput):
    """Rasa-compatible REST webhook at ``/webhooks/rest/webhook`` (``{"sender","message"}``)."""

    name = "rest"

    def routes(self) -> List[web.RouteDef]:
        """Routes under ``/webhooks/rest/``."""
        return [web.post("webhook", self.webhook)]

    async def webhook(self, request: web.Request) -> web.Response:
        """Return a list of messages like Rasa's REST channel."""
        data = await read_json(request)
        chat_request = ChatRequest.parse({"sender": data.get("sender"), "text": data.get("message"),
                                          "channel": "rest", "metadata": data.get("metadata")})
        result = await handle_turn(request, chat_request.inbound())
        body = [dict(m.to_dict(), recipient_id=chat_request.sender) for m in result.messages]
        return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))
