"""A fake WeChat: signed and encrypted callbacks built with wechatpy's own crypto, and a local
API server (access_token, customer-service messages) that records what was pushed."""
from __future__ import annotations

import asyncio
import base64
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from bot.channels.base import BotMessage, InboundMessage, TurnResult
from bot.wechat.crypto import sign

TOKEN = "govbot-test-token"
APPID = "wx0123456789abcdef"
ACCOUNT = "gh_govbot"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


def query(ts: Optional[int] = None, nonce: str = "n0nce", token: str = TOKEN,
          **extra: str) -> Dict[str, str]:
    """The URL parameters WeChat signs every callback with."""
    stamp = str(int(time.time()) if ts is None else ts)
    return {"signature": sign(token, stamp, nonce), "timestamp": stamp, "nonce": nonce, **extra}


def message(kind: str = "text", sender: str = "oResident1", msg_id: Optional[str] = "1001",
            create_time: Optional[int] = None, **fields: str) -> str:
    """A plaintext message or event as WeChat sends it."""
    parts = [f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
             f"<FromUserName><![CDATA[{sender}]]></FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
             f"<MsgType><![CDATA[{kind}]]></MsgType>"]
    parts += [f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()]
    if msg_id is not None:
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text(content: str, **kw: Any) -> str:
    return message("text", Content=content, **kw)


def encrypted(xml: str, nonce: str = "n0nce", compatible: bool = False,
              ts: Optional[int] = None) -> Tuple[bytes, Dict[str, str]]:
    """Safe mode (or compatible mode: plaintext fields beside ``Encrypt``): body and query."""
    stamp = str(int(time.time()) if ts is None else ts)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    envelope = crypto.encrypt_message(xml, nonce, stamp)
    encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    if compatible:
        body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    q = query(int(stamp), nonce, encrypt_type="aes",
              msg_signature=sign(TOKEN, stamp, nonce, encrypt))
    return body.encode(), q


def decrypt_reply(xml: str, nonce: str = "n0nce") -> str:
    """The passive reply inside our encrypted answer, checked as WeChat checks it."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    stamp = xml.split("<TimeStamp>")[1].split("</TimeStamp>")[0]
    signature = xml.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    return crypto.decrypt_message(xml, signature, stamp, nonce)


@dataclass
class FakeApi:
    """WeChat's API on loopback: tokens T1, T2…; pushes recorded; failures on request."""

    tokens_issued: int = 0
    pushes: List[Dict[str, Any]] = field(default_factory=list)
    refuse_tokens: List[str] = field(default_factory=list)  # answered with 40001
    fail_next: List[int] = field(default_factory=list)      # errcodes for the next pushes
    token_delay: float = 0.0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.send)
        app.router.add_post("/cgi-bin/menu/create", self.menu)
        return app

    async def token(self, request: web.Request) -> web.Response:
        assert request.query["appid"] == APPID and request.query["secret"] == "s3cret"
        await asyncio.sleep(self.token_delay)
        self.tokens_issued += 1
        return web.json_response({"access_token": f"T{self.tokens_issued}", "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        if token in self.refuse_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if self.fail_next:
            return web.json_response({"errcode": self.fail_next.pop(0), "errmsg": "refused"})
        self.pushes.append({"token": token, **(await request.json())})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def menu(self, request: web.Request) -> web.Response:
        self.pushes.append({"menu": await request.json()})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class ScriptedDialogue:
    """Replies by the resident's text; ``delay`` seconds for texts starting with "slow"."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: List[InboundMessage] = []
        self.delay = delay

    async def handle(self, msg: InboundMessage) -> TurnResult:
        self.calls.append(msg)
        if msg.text.startswith("slow"):
            await asyncio.sleep(self.delay)
        if msg.text == "社保卡":
            return TurnResult(messages=(BotMessage(
                text="您想问的是下面哪一个？请说序号或点选：\n1. 社保卡丢了怎么补办\n2. 社保卡怎么激活",
                custom={"type": "candidates", "candidates": [
                    {"n": 1, "id": "a", "title": "社保卡丢了怎么补办"},
                    {"n": 2, "id": "b", "title": "社保卡怎么激活"}]}),))
        if msg.text in ("长答案", "/repeat"):
            body = "第一步，带身份证到窗口。" * 120
            return TurnResult(messages=(BotMessage(text=body, custom={
                "type": "answer", "entry_id": "x", "title": "长答案", "short": "带身份证到窗口办理。",
                "fields": {}}),))
        return TurnResult(messages=(BotMessage(text="答：" + msg.text),))


def os_random_nonce() -> str:
    return base64.b16encode(os.urandom(6)).decode()
