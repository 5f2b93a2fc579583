"""Parsing residents' replies: option numbers, phone numbers, application numbers, districts."""
from __future__ import annotations

import logging
import re
import unicodedata
from typing import Mapping, Optional, Sequence

_LOGGER = logging.getLogger(__name__)

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3,
              "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
              "八": 8, "捌": 8, "九": 9, "玖": 9}
_OPTION_RE = re.compile(r"(?:第|选|选择|要|是)?\s*([0-9]{1,2}|[一二两三四五六七八九十])\s*(?:个|条|项|号|种)?")
_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_APPNO_RE = re.compile(r"[A-Z]{2}\d{12}")
_TICKET_RE = re.compile(r"GD(\d{8})(\d{6})(?!\d)")
_WHOLE_APPNO_RE = re.compile(r"(?<!\d)[A-Z]{2}\d{12}(?!\d)")
_KEYED_TICKET_RE = re.compile(r"\d{14}")  # a ticket number typed on a phone keypad (no letters)
# 第N counts only before a measure word or at the end: 第二代身份证 is not the second option.
_NTH_RE = re.compile(r"第\s*([0-9]{1,2}|[一二两三四五六七八九十])\s*(?:个|個|条|條|项|項|号|號|种|種|$)")
_FROM_END_RE = re.compile(r"倒数\s*第?\s*([0-9]{1,2}|[一二两三四五六七八九十])")
# Places that parse_option cannot always resolve (最后, 倒数第N, 头一 it does).
_POSITION_RE = re.compile(r"中间|倒数|上面|下面|前面|后面|上边|下边|选项")
_NOT_A_TOPIC_RE = re.compile(r"就是|那个|这个|我要|我问|一个|怎么办|怎么|如何|什么|哪里|哪儿|能不能|"
                             r"可不可以|可以|是否|[的吧呢啊吗了？?。，,！!\s]")
REFUSALS = ("不留", "不方便", "不想留", "没有电话", "不给", "算了", "不用留", "不提供")


def spoken_digits_to_arabic(text: str) -> str:
    """Turn digit-by-digit Chinese (幺三八…) into Arabic digits; drop spaces and dashes between."""
    return "".join(str(_CN_DIGITS[c]) if c in _CN_DIGITS and c not in "两十" else c for c in text)


def parse_option(text: str, titles: Sequence[str]) -> Optional[int]:
    """The 0-based index a resident picked among ``titles``, or None.

    Accepts "2", "第二个", "选1", "最后一个", "倒数第二个", "头一个", "中间那个" (of an odd
    number), or words from a title ("就是那个社保的").
    """
    if not titles:
        return None
    raw = (text or "").strip()
    from_end = _FROM_END_RE.search(raw)
    if from_end:  # 倒数第二个: the second from the end
        value = _number(from_end.group(1))
        return len(titles) - value if 1 <= value <= len(titles) else None
    if re.search(r"最后|末尾", raw):
        return len(titles) - 1
    if "中间" in raw and len(titles) % 2:
        return len(titles) // 2
    match = _OPTION_RE.fullmatch(raw.strip("。.！!？?吧 ")) or _NTH_RE.search(raw)
    if match:
        value = _number(match.group(1))
        return value - 1 if 1 <= value <= len(titles) else None
    if re.search(r"头一", raw):
        return 0
    return _best_title(raw, titles)


def _number(token: str) -> int:
    return int(token) if token.isdigit() else (10 if token == "十" else _CN_DIGITS.get(token, 0))


def names_a_position(text: str) -> bool:
    """Whether ``text`` picks an option by its place ("2", "第二个", "最后一个", "中间那个")
    rather than by what it is about."""
    raw = (text or "").strip()
    return bool(_POSITION_RE.search(raw)) or parse_option(raw, ("",) * 10) is not None


def _best_title(text: str, titles: Sequence[str]) -> Optional[int]:
    """The one title sharing most with ``text`` once pointers and question words are gone
    (every title says 怎么, so that must not pick one), or None on a tie or a weak match."""
    cleaned = _NOT_A_TOPIC_RE.sub("", text)
    if len(cleaned) < 2:
        return None
    grams = {cleaned[i:i + 2] for i in range(len(cleaned) - 1)}
    chars = set(cleaned)
    scores = [2 * sum(1 for g in grams if g in t) + sum(1 for c in chars if c in t) for t in titles]
    best = max(scores)
    if best < 2 or scores.count(best) > 1:
        return None
    return scores.index(best)


def parse_phone(text: str) -> Optional[str]:
    """A mobile or landline number in ``text`` (spoken Chinese digits allowed), or None."""
    compact = re.sub(r"[\s－—]", "", spoken_digits_to_arabic(text or ""))
    compact = compact.replace("－", "-")
    match = _MOBILE_RE.search(compact) or _LANDLINE_RE.search(compact)
    return match.group(0) if match else None


def is_refusal(text: str) -> bool:
    """Whether the resident declines to give a contact number."""
    return any(word in (text or "") for word in REFUSALS)


def parse_application_number(text: str) -> Optional[str]:
    """A 办件编号 (two capital letters + 12 digits), tolerant of spaces, case and spoken digits."""
    compact = re.sub(r"[\s\-]", "", spoken_digits_to_arabic(text or "")).upper()
    match = _APPNO_RE.search(compact)
    return match.group(0) if match else None


def parse_tracking_number(text: str) -> Optional[str]:
    """A 办件编号, or the number of a ticket govbot gave (``GD20261122-000007``), or None.

    Tolerant of spaces, dashes, case, full-width characters and spoken digits; fourteen digits
    alone are a ticket number without its letters (the phone keypad has none).
    """
    folded = unicodedata.normalize("NFKC", text or "")
    compact = re.sub(r"[\s\-‐‑–—_]", "", spoken_digits_to_arabic(folded)).upper()
    ticket = _TICKET_RE.search(compact)
    if ticket:
        return f"GD{ticket.group(1)}-{ticket.group(2)}"
    if _KEYED_TICKET_RE.fullmatch(compact):
        return f"GD{compact[:8]}-{compact[8:]}"
    match = _WHOLE_APPNO_RE.search(compact)
    return match.group(0) if match else None


def is_ticket_number(number: str) -> bool:
    """Whether a parsed tracking number is a ticket's (not a 办件's)."""
    return number.startswith("GD") and "-" in number


def parse_district(text: str, districts: Sequence[str], aliases: Mapping[str, str]) -> Optional[str]:
    """The district named in ``text`` (full name or alias), or None."""
    for name in sorted(districts, key=len, reverse=True):
        if name in (text or ""):
            return name
    for alias in sorted(aliases, key=len, reverse=True):
        if alias in (text or ""):
            return aliases[alias]
    return None


_FOLLOW_UP_WORDS = re.compile(
    "请问|麻烦|我想|想|问一下|问问|一下|那个|这个|那|这|需要|得|要|带|准备|提供|交|哪些|什么|啥|哪个|多少|几|怎么|咋|如何|"
    "材料|资料|证件|东西|手续|流程|步骤|时间|多久|多长|几天|时限|地点|地方|哪里|哪儿|在哪|去哪|"
    "收费|费用|钱|花|电话|号码|条件|网上|线上|能|可以|办理|办|吗|呢|啊|呀|的|了|都|还|些|个|去|"
    r"[\s\W_]")
_PARTICLES = re.compile("没有|[不没么嘛吧呗]")
"""Sentence-final particles of a yes-no question ("需要户口本不", "要带照片没有")."""


def is_bare_follow_up(text: str) -> bool:
    """Only follow-up words ("需要哪些材料？", "多少钱", "在哪里办"): nothing names a service."""
    return len(_FOLLOW_UP_WORDS.sub("", text)) <= 1


def asks_only_about(text: str, words: Sequence[str]) -> bool:
    """Whether the text is ``words`` and follow-up words alone ("需要户口本不" with 户口本):
    no other word ("补办户口本要什么材料") says it is about something else."""
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, "")
    return not _PARTICLES.sub("", _FOLLOW_UP_WORDS.sub("", text))
