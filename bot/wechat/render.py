"""Replies as WeChat text: short and plain, candidates as "回复1…", long text split at sentences."""
from __future__ import annotations

import logging
import re
import time
from typing import List, Optional

from wechatpy.replies import TextReply

from bot.channels.base import BotMessage, TurnResult

_LOGGER = logging.getLogger(__name__)

MAX_BYTES = 2000
"""One text message, in UTF-8 bytes (WeChat's limit is 2,048)."""
SHORT_CHARS = 160
"""An answer longer than this is sent as its short answer, with the full one on request."""
DETAIL_WORDS = frozenset({"详细", "详情", "详细内容", "全文", "完整"})
DETAIL_HINT = "回复“详细”查看完整内容。"
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def split_text(text: str, limit: int = MAX_BYTES) -> List[str]:
    """Split at sentence ends so that each part fits ``limit`` bytes; a sentence longer
    than that is cut at a character boundary."""
    parts: List[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        while len(sentence.encode("utf-8")) > limit:  # one huge sentence
            cut = len(sentence.encode("utf-8")[:limit].decode("utf-8", "ignore"))
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:cut])
            sentence = sentence[cut:]
        if len((current + sentence).encode("utf-8")) > limit:
            parts.append(current)
            current = sentence
        else:
            current += sentence
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _message_text(message: BotMessage, full: bool) -> str:
    custom = message.custom or {}
    kind = custom.get("type")
    if kind in ("candidates", "topic_entries"):
        lines = [message.text.split("\n", 1)[0].replace("请说序号或点选：", "").rstrip("：:，,")]
        for item in custom.get("candidates") or []:
            lines.append(f"回复{item.get('n')}：{item.get('title')}")
        lines.append("回复0：转人工")
        return "\n".join(lines)
    text = message.text
    if kind in ("answer", "guide") and not full:
        short = str(custom.get("short") or "")
        if short and len(text) > SHORT_CHARS:
            return f"{short}\n{DETAIL_HINT}"
    if message.buttons and kind not in ("none", "handoff", "topics"):  # topics: listed in the text
        lines = [text] + [f"回复{b.title}" if b.title[:1].isdigit() else f"回复“{b.title}”"
                          for b in message.buttons]
        return "\n".join(lines)
    return text


def render_turn(result: TurnResult, full: bool = False) -> List[str]:
    """The turn's replies as WeChat text messages (rich output falls back to plain text);
    ``full`` gives whole answers (the resident asked for 详细)."""
    texts: List[str] = []
    for message in result.messages:
        text = _message_text(message, full).strip()
        if text:
            texts.extend(split_text(text))
    return texts


def is_detail_request(text: str) -> bool:
    """"详细" and its like: the last answer in full."""
    return text.strip().strip("。！!？?") in DETAIL_WORDS


def passive_xml(account: str, resident: str, text: str,
                create_time: Optional[int] = None) -> str:
    """A passive text reply (wechatpy renders the XML; CDATA cannot hold "]]>")."""
    reply = TextReply(source=account, target=resident, content=text.replace("]]>", "]] >"),
                      time=create_time or int(time.time()))
    return reply.render()
