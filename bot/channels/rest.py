"""REST chat: ``POST /api/chat`` (typed request, collected replies) and a Rasa-compatible webhook."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from aiohttp import web

from bot.channels.base import ChannelInput, ChannelOutput, TurnResult
from bot.errors import BadRequest, PayloadTooLarge, Unavailable
from bot.settings import MAX_MESSAGE_BYTES, MAX_TEXT_CHARS
from bot.turns import Turn, TurnBusy, TurnFailed

_LOGGER = logging.getLogger(__name__)

ID_RE = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")
"""A sender or message id: 1–128 letters, digits or ``_.:@-``."""
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ufeff]")


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


FAILED = "系统繁忙，请稍后再试，或拨打热线。"


@dataclass(frozen=True)
class ChatRequest:
    """``{"sender", "text", "message_id"?, "metadata"?}``, parsed once.

    ``message_id`` makes the request safe to retry: the same id gets the reply already given.
    """

    sender: str
    text: str
    message_id: Optional[str] = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Dict[str, Any]) -> "ChatRequest":
        """Validate a decoded JSON body."""
        sender = data.get("sender")
        if not isinstance(sender, str) or not ID_RE.match(sender):
            raise BadRequest("sender 应为 1–128 位字母、数字或 _.:@-", "invalid_sender")
        message_id = data.get("message_id")
        if message_id is not None and (not isinstance(message_id, str)
                                       or not ID_RE.match(message_id)):
            raise BadRequest("message_id 应为 1–128 位字母、数字或 _.:@-", "invalid_message_id")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise BadRequest("metadata 应为对象", "invalid_metadata")
        return cls(sender=sender, text=check_text(data.get("text")), message_id=message_id,
                   metadata=metadata)

    def turn(self, channel: str) -> Turn:
        """As a turn of ``channel`` (the sender is namespaced by it)."""
        return Turn(channel=channel, conversation=self.sender, text=self.text,
                    message_id=self.message_id, metadata=dict(self.metadata))


class RestOutput(ChannelOutput):
    """JSON rendering: ``{"messages": [...], "preferences": {...}}``."""

    def render(self, result: TurnResult) -> Dict[str, Any]:
        """The response body."""
        return result.to_dict()

    def rasa_messages(self, result: TurnResult, recipient: str) -> List[Dict[str, Any]]:
        """Rasa's REST shape: one object per message, with ``recipient_id``."""
        return [dict(m.to_dict(), recipient_id=recipient) for m in result.messages]


async def run_turn(runner: Any, turn: Turn) -> TurnResult:
    """Run a turn; a failed or still-running one is a coded 503 the client may retry."""
    try:
        return (await runner(turn)).result
    except TurnFailed:
        raise Unavailable(FAILED, code="dialogue_failed") from None
    except TurnBusy:
        raise Unavailable("这条消息仍在处理中，请稍后重试", code="turn_in_progress") from None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


class ApiInput(ChannelInput):
    """``POST /api/chat``: the typed chat API (with the voice routes, mounted at ``/api/``)."""

    name = "api"

    def routes(self) -> List[web.RouteDef]:
        """Routes under ``/api/``."""
        return [web.post("/chat", self.chat)]

    async def chat(self, request: web.Request) -> web.Response:
        """One turn; the body is ``{"messages": [...], "preferences": {...}}``."""
        chat_request = ChatRequest.parse(await read_json(request))
        result = await run_turn(self.runner, chat_request.turn(self.name))
        return web.json_response(RestOutput().render(result), dumps=_dumps)


class RestInput(ChannelInput):
    """Rasa-compatible REST webhook at ``/webhooks/rest/webhook`` (``{"sender","message"}``);
    ``?stream=true`` answers newline-delimited JSON as Rasa's own ``RestInput`` does."""

    name = "rest"

    def routes(self) -> List[web.RouteDef]:
        """Routes under ``/webhooks/rest/``."""
        return [web.post("/webhook", self.webhook)]

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """A list of messages, or one JSON object per line with ``stream=true``."""
        data = await read_json(request)
        chat_request = ChatRequest.parse({
            "sender": data.get("sender"), "text": data.get("message"),
            "message_id": data.get("message_id"), "metadata": data.get("metadata")})
        result = await run_turn(self.runner, chat_request.turn(self.name))
        messages = RestOutput().rasa_messages(result, chat_request.sender)
        if request.query.get("stream", "").lower() not in ("true", "1", "yes"):
            return web.json_response(messages, dumps=_dumps)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for message in messages:
            await response.write((_dumps(message) + "\n").encode("utf-8"))
        await response.write_eof()
        return response
