"""WeChat Official Account channel at ``/webhooks/wechat/``: verification, plaintext,
compatible and safe modes, a passive reply within the 5-second window or a pushed one after."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, List, Optional, Set

import aiohttp
from aiohttp import web

from bot import metrics
from bot.channels.base import ChannelInput, ChannelOutput, TurnResult
from bot.errors import PayloadTooLarge
from bot.settings import MAX_TEXT_CHARS
from bot.turns import Turn, TurnBusy, TurnFailed
from bot.wechat.api import DEFAULT_API_BASE, WeChatApi
from bot.wechat.crypto import SafeMode, check_signature, require
from bot.wechat.errors import ApiError, WeChatError
from bot.wechat.parse import MAX_BODY_BYTES, Inbound, parse_inbound, safe_fields
from bot.wechat.render import is_detail_request, passive_xml, render_turn
from knowledge.outbox import OutboxStore, TokenStore

_LOGGER = logging.getLogger(__name__)

PASSIVE_WINDOW_S = 4.0
"""WeChat waits 5 s for a passive reply; an answer not ready by then is pushed."""
SEND_EVERY_S = 1.0
FINAL_ERRCODES = frozenset({40003, 43004, 45015, 45047, 48001})
"""Retrying cannot help: bad OpenID, unsubscribed, 48-hour window passed, too many pushes,
no permission for the customer-service API."""
WELCOME = ("您好，欢迎关注！我是政务服务智能客服，可以解答社保、医保、公积金、户籍、证照等办事问题，"
           "直接发文字或语音提问就行。需要人工服务请回复“人工”，也可以拨打 {hotline} 热线。")
VOICE_UNHEARD = "抱歉，没有听清您的语音。请打字告诉我您想办的事，或拨打 {hotline} 热线。"
NOT_TEXT = ("已收到。目前我只能看懂文字和语音，请用文字说说您想办的事；"
            "需要人工服务请回复“人工”，或拨打 {hotline} 热线。")
BUSY = "抱歉，系统繁忙，请稍后再发一次，或拨打 {hotline} 热线。"
MENU_HUMAN = "HUMAN"
MENU_ASK = "ASK:"


class WeChatOutput(ChannelOutput):
    """Renders a turn as WeChat text messages (the first is the passive reply)."""

    def render(self, result: TurnResult, full: bool = False) -> List[str]:
        """Plain texts: short answers with "回复“详细”", candidates as "回复1…"."""
        return render_turn(result, full)


class WeChatInput(ChannelInput):
    """``GET /webhooks/wechat/`` verifies the server; ``POST`` receives messages."""

    name = "wechat"

    def __init__(self, token: str, appid: str = "", secret: str = "", aes_key: str = "",
                 api_base: str = DEFAULT_API_BASE, hotline: str = "12345") -> None:
        self.token, self.appid, self.secret = token, appid, secret
        self.api_base, self.hotline = api_base, hotline
        self.safe = SafeMode(token, aes_key, appid) if aes_key else None
        self.output = WeChatOutput()
        self.api: Optional[WeChatApi] = None
        self.outbox: Optional[OutboxStore] = None
        self._wake = asyncio.Event()
        self._pending: Set[asyncio.Task] = set()

    @classmethod
    def from_settings(cls, settings: Any) -> "WeChatInput":
        """Off while ``GOVBOT_WECHAT_TOKEN`` is unset."""
        return cls(settings.wechat_token, settings.wechat_appid, settings.wechat_secret,
                   settings.wechat_aes_key, settings.wechat_api_base, settings.hotline)

    @property
    def enabled(self) -> bool:
        """Mounted only with a token."""
        return bool(self.token)

    def routes(self) -> List[web.RouteDef]:
        """Both at the mount point."""
        return [web.get("/", self.verify), web.post("/", self.receive)]

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """One HTTP session, the API client and the push sender for the app's lifetime."""
        self.outbox = OutboxStore(self.runner.engine)
        async with aiohttp.ClientSession() as session:
            if self.appid and self.secret:
                tokens = TokenStore(self.runner.engine, f"wechat:{self.appid}")
                self.api = WeChatApi(session, self.api_base, self.appid, self.secret, tokens,
                                     self.runner.blocking)
            else:
                _LOGGER.warning("WeChat pushes need GOVBOT_WECHAT_APPID and "
                                "GOVBOT_WECHAT_SECRET; answers slower than 4 s wait in the outbox")
            sender = asyncio.create_task(self._send_forever())
            yield
            sender.cancel()
            for task in list(self._pending):
                task.cancel()
            await asyncio.gather(sender, *self._pending, return_exceptions=True)

    # ----------------------------------------------------------------- receiving
    async def verify(self, request: web.Request) -> web.Response:
        """Server verification: echo ``echostr`` when the signature is ours."""
        q = request.query
        check_signature(self.token, q.get("signature", ""), q.get("timestamp", ""),
                        q.get("nonce", ""))
        return web.Response(text=require(q.get("echostr"), "echostr"))

    async def receive(self, request: web.Request) -> web.Response:
        """A message or event; answers the passive reply XML, or ``success``."""
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        check_signature(self.token, q.get("signature", ""), timestamp, nonce)
        body = await _read_body(request)
        encrypted = q.get("encrypt_type", "raw").lower() == "aes"
        if encrypted:
            if self.safe is None:
                raise WeChatError("未配置 EncodingAESKey，无法解密", "wechat_no_aes_key")
            encrypt = require(safe_fields(body).get("Encrypt"), "Encrypt")
            body = self.safe.decrypt(encrypt, q.get("msg_signature", ""), timestamp,
                                     nonce).encode("utf-8")
        inbound = parse_inbound(body)
        text = await self.reply(inbound)
        if text is None:
            return web.Response(text="success")
        xml = passive_xml(inbound.account, inbound.sender, text)
        if encrypted and self.safe is not None:
            xml = self.safe.encrypt(xml, nonce)
        return web.Response(text=xml, content_type="application/xml")

    def question(self, inbound: Inbound) -> Optional[str]:
        """What the resident asked, or None when the message is not a question."""
        if inbound.kind in ("text", "voice"):
            return inbound.text.strip()[:MAX_TEXT_CHARS] or None
        if inbound.kind == "event" and inbound.event == "click":
            if inbound.event_key == MENU_HUMAN:
                return "人工"
            if inbound.event_key.startswith(MENU_ASK):
                return inbound.event_key[len(MENU_ASK):].strip() or None
        return None

    async def reply(self, inbound: Inbound) -> Optional[str]:
        """The passive reply's text, or None (``success``: nothing, or a push to come)."""
        text = self.question(inbound)
        if text is None:
            if inbound.kind == "event":
                return (WELCOME.format(hotline=self.hotline)
                        if inbound.event.startswith("subscribe") else None)
            if inbound.kind == "voice":
                return VOICE_UNHEARD.format(hotline=self.hotline)
            return NOT_TEXT.format(hotline=self.hotline)
        full = is_detail_request(text)
        turn = Turn(self.name, inbound.sender, "/repeat" if full else text,
                    message_id=inbound.dedupe_id)
        task = asyncio.ensure_future(self.runner(turn))
        done, _ = await asyncio.wait({task}, timeout=PASSIVE_WINDOW_S)
        if not done:
            promise = await self.runner.blocking(self.outbox.promise, self.name,
                                                 inbound.sender, inbound.dedupe_id)
            self._pending.add(task)
            task.add_done_callback(lambda t: self._later(t, promise, full))
            return None
        try:
            delivered = task.result()
        except (TurnFailed, TurnBusy):
            return BUSY.format(hotline=self.hotline)
        texts = self.output.render(delivered.result, full) or [BUSY.format(hotline=self.hotline)]
        if delivered.duplicate and await self.runner.blocking(
                self.outbox.promised, self.name, inbound.sender, inbound.dedupe_id):
            return None  # the first delivery answered "success" and pushes the reply
        if len(texts) > 1 and not delivered.duplicate:
            for extra in texts[1:]:
                await self.runner.blocking(self.outbox.add, self.name, inbound.sender, extra,
                                           inbound.dedupe_id)
            self._wake.set()
        metrics.WECHAT_REPLIES.labels("passive").inc()
        return texts[0]

    def _later(self, task: "asyncio.Task", promise: int, full: bool) -> None:
        self._pending.discard(task)
        if task.cancelled():
            return
        try:
            delivered = task.result()
        except (TurnFailed, TurnBusy):
            texts = [BUSY.format(hotline=self.hotline)]
        else:
            if delivered.duplicate:  # a retry: the delivery that ran the turn pushes it
                self._spawn(self.runner.blocking(self.outbox.drop, promise))
                return
            texts = self.output.render(delivered.result, full) or [BUSY.format(hotline=self.hotline)]
        self._spawn(self._fulfil(promise, texts))

    def _spawn(self, coro: Any) -> None:
        """Follow-up work that outlives the request, cancelled at shutdown."""
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _fulfil(self, promise: int, texts: List[str]) -> None:
        await self.runner.blocking(self.outbox.fulfil, promise, texts)
        self._wake.set()

    # ----------------------------------------------------------------- pushing
    async def _send_forever(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:  # noqa: BLE001 - the loop must outlive one bad round; logged
                _LOGGER.exception("WeChat push round failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), SEND_EVERY_S)
            except asyncio.TimeoutError:
                pass

    async def send_due(self) -> int:
        """Send the pushes that are due; returns how many went through."""
        if self.api is None or self.outbox is None:
            return 0
        sent = 0
        for push in await self.runner.blocking(self.outbox.take_due, self.name):
            try:
                await self.api.send_text(push.recipient, push.text)
            except ApiError as exc:
                status = await self.runner.blocking(
                    self.outbox.failed_try, push.id, push.attempts + 1, str(exc),
                    exc.errcode in FINAL_ERRCODES)
                if status == "failed":
                    metrics.WECHAT_PUSH_FAILURES.inc()
                    _LOGGER.error("WeChat push %d to %s failed for good: %s (kept in the "
                                  "outbox for staff)", push.id, push.recipient, exc)
                continue
            await self.runner.blocking(self.outbox.sent, push.id)
            metrics.WECHAT_REPLIES.labels("pushed").inc()
            sent += 1
        return sent


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"请求内容超过 {MAX_BODY_BYTES // 1024} KB 上限")
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"请求内容超过 {MAX_BODY_BYTES // 1024} KB 上限")
    if not body.strip():
        raise WeChatError("请求内容为空", "wechat_empty_body")
    return bytes(body)
