"""Inbound XML, parsed once at the edge: DTDs and entities refused, then wechatpy's parser."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, Optional

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from wechatpy import parse_message

from bot.wechat.errors import BadXml, UnsafeXml

_LOGGER = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""WeChat's own messages are a few kilobytes."""


def safe_fields(body: bytes) -> Dict[str, str]:
    """The children of the ``<xml>`` root as text, refusing any DTD or entity declaration.

    Raises:
        UnsafeXml: A DOCTYPE, entity or external reference (XXE, billion laughs).
        BadXml: Not well-formed, not UTF-8, not an ``<xml>`` document, or a field repeated.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise UnsafeXml("不接受含 DTD 或实体声明的 XML") from None
    except (ParseError, ValueError, UnicodeDecodeError):
        raise BadXml("XML 格式错误") from None
    if root.tag != "xml":
        raise BadXml("不是微信消息")
    tags = [child.tag for child in root]
    if len(tags) != len(set(tags)):  # wechatpy would read a repeated field as a list
        raise BadXml("XML 含重复字段")
    return {child.tag: (child.text or "") for child in root}


@dataclass(frozen=True)
class Inbound:
    """A resident's message or event, whatever the mode it came in."""

    kind: str            # text, voice, image, location, link, video, event, ...
    sender: str          # FromUserName: the resident's OpenID
    account: str         # ToUserName: our account
    create_time: int
    msg_id: str = ""     # MsgId; events have none
    text: str = ""       # Content, or a voice message's Recognition
    event: str = ""      # subscribe, unsubscribe, click, ...
    event_key: str = ""

    @property
    def dedupe_id(self) -> str:
        """What a retry shares with the original: MsgId, or FromUserName + CreateTime for
        events (with the event, since one second can carry two)."""
        if self.msg_id:
            return self.msg_id
        return f"ev-{self.create_time}-{self.event}"[:128]


def parse_inbound(xml: bytes) -> Inbound:
    """Parse a plaintext (or decrypted) message.

    Raises:
        UnsafeXml, BadXml: As ``safe_fields``, or required fields missing.
    """
    fields = safe_fields(xml)
    for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not fields.get(name):
            raise BadXml(f"缺少字段 {name}")
    try:
        create_time = int(fields["CreateTime"])
    except ValueError:
        raise BadXml("CreateTime 无效") from None
    if len(fields["FromUserName"]) > 128:
        raise BadXml("FromUserName 过长")
    message = parse_message(xml.decode("utf-8"))  # wechatpy's types; safe: checked above
    kind = str(getattr(message, "type", "") or fields["MsgType"]).lower()
    text = ""
    if kind == "text":
        text = str(getattr(message, "content", "") or "")
    elif kind == "voice":
        text = str(getattr(message, "recognition", "") or "")
    event = str(getattr(message, "event", "") or "").lower() if kind == "event" else ""
    key: Optional[str] = getattr(message, "key", None) or fields.get("EventKey")
    return Inbound(kind=kind, sender=fields["FromUserName"], account=fields["ToUserName"],
                   create_time=create_time, msg_id=str(fields.get("MsgId", ""))[:64],
                   text=text, event=event, event_key=str(key or "")[:128])
