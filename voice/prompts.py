"""What the phone line says: prompts for older callers, with the key always said last."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence, Tuple

from voice.numerals import PHONE_DIGITS, read_digits
from voice.speech_text import normalize_for_speech

PAUSE_BETWEEN_MS = 600
"""Silence between two options or sentences (at least half a second)."""
PAUSE_BEFORE_INPUT_MS = 1200
"""Silence after the last sentence before input is expected (at least a second)."""
KEY_PERSON, KEY_REPEAT, KEY_SLOWER, KEY_MENU, KEY_DETAIL, KEY_END = "0", "*", "5", "9", "1", "#"
MAX_OPTIONS = 4
SHORT_ANSWER_CHARS = 80

GREETING = "您好，这里是政务服务热线智能助手。"
CONTROLS = (f"任何时候，转人工请按{KEY_PERSON}，重听请按星号键，放慢语速请按{KEY_SLOWER}。")
ASK_SPEECH = "请直接说出您要办的事，说完请稍等。用按键选择业务，请按1。"
MENU_TITLE = "请选择业务类别。"
TRANSFER = "好的，正在为您转接人工服务，请稍候。"
NO_TRANSFER = "抱歉，现在无法转接人工。请挂机后拨打{hotline}热线。再见。"
NOT_UNDERSTOOD = "抱歉，没有听清您的选择。"
OFFER_PERSON = f"需要人工服务，请按{KEY_PERSON}。"
SILENCE = ("请问您还在吗？", "您可以直接说出要办的事，或者按键选择。")
SLOWER = "好的，我会说慢一点。"
DETAIL_HINT = f"听详细内容，请按{KEY_DETAIL}。返回主菜单，请按{KEY_MENU}。"
DIGITS_ENTRY = "请用按键输入电话号码，输完请按井号键；不留电话，请直接按井号键。"
READ_BACK = "您输入的是：{digits}。"
CONFIRM = "正确请按1，重新输入请按2。"
USE_CALLER = "工作人员可以打您现在用的这个号码：{digits}。"
CALLER_KEYS = "用这个号码，请按1；换一个号码或者不留电话，请按2。"
TICKET_KEYS = "确认提交，请按1；需要修改，请按2。"
SAY_CONFIRM = "确认"
SAY_CHANGE = "修改"
TOPICS = "没关系，我们按业务类别来找。"
MAX_ENTRY_DIGITS = 20
CHOOSE_TITLE = "您想问的是下面哪一个？"
NONE_OF_THESE = "都不是"


@dataclass(frozen=True)
class Prompt:
    """Sentences spoken in order, with ``PAUSE_BETWEEN_MS`` between them."""

    parts: Tuple[str, ...]

    @classmethod
    def of(cls, *parts: str) -> "Prompt":
        """A prompt of the non-empty parts, each rewritten for speech (numbers, phones)."""
        return cls(tuple(normalize_for_speech(p) for p in parts if p and p.strip()))

    def then(self, other: "Prompt") -> "Prompt":
        """This prompt followed by another."""
        return Prompt(self.parts + other.parts)

    def text(self) -> str:
        """The whole prompt as one string (for logs and transcripts)."""
        return "".join(self.parts)


def option(label: str, key: str) -> str:
    """One menu option, the key said last: "查社保，请按1"."""
    return f"{label.rstrip('？?。')}，请按{spoken_key(key)}"


def spoken_key(key: str) -> str:
    """How a key is named aloud."""
    return {"*": "星号键", "#": "井号键"}.get(key, key)


def numbered(titles: Sequence[str]) -> Tuple[str, ...]:
    """Candidates as numbered options: "第一个，…，请按1" (at most three)."""
    ordinals = "一二三"
    return tuple(f"第{ordinals[i]}个，{option(t, str(i + 1))}" for i, t in enumerate(titles[:3]))


def short_answer(short: str, full: str) -> str:
    """The entry's short spoken answer, or the first sentences of the full one."""
    if short.strip():
        return short.strip()
    text = re.sub(r"\s+", "", full or "")
    if len(text) <= SHORT_ANSWER_CHARS:
        return text
    cut = max(text.rfind(mark, 0, SHORT_ANSWER_CHARS) for mark in "。；！？")
    return text[: cut + 1] if cut > 20 else text[:SHORT_ANSWER_CHARS] + "。"


def group_digits(digits: str) -> str:
    """Digits read back in groups (3-4-4 for a mobile, fours otherwise), separated by pauses."""
    if len(digits) == 11 and digits.startswith("1"):
        groups = [digits[:3], digits[3:7], digits[7:]]
    else:
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    return "，".join(read_digits(g, PHONE_DIGITS) for g in groups)
