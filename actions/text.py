"""Parsing residents' replies: option numbers, phone numbers, application numbers, districts."""
from __future__ import annotations

import logging
import re
from typing import Mapping, Optional, Sequence

_LOGGER = logging.getLogger(__name__)

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3,
              "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
              "八": 8, "捌": 8, "九": 9, "玖": 9}
_OPTION_RE = re.compile(r"(?:第|选|选择|要|是)?\s*([0-9]{1,2}|[一二两三四五六七八九十])\s*(?:个|条|项|号|种)?")
_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_APPNO_RE = re.compile(r"[A-Z]{2}\d{12}")
_POSITION_RE = re.compile(r"最后|末尾|中间|倒数|头一个|上面|下面")
REFUSALS = ("不留", "不方便", "不想留", "没有电话", "不给", "算了", "不用留", "不提供")


def spoken_digits_to_arabic(text: str) -> str:
    """Turn digit-by-digit Chinese (幺三八…) into Arabic digits; drop spaces and dashes between."""
    return "".join(str(_CN_DIGITS[c]) if c in _CN_DIGITS and c not in "两十" else c for c in text)


def parse_option(text: str, titles: Sequence[str]) -> Optional[int]:
    """The 0-based index a resident picked among ``titles``, or None.

    Accepts "2", "第二个", "选1", "最后一个", or words from a title ("就是那个社保的").
    """
    if not titles:
        return None
    raw = (text or "").strip()
    if re.search(r"最后|末尾", raw):
        return len(titles) - 1
    match = _OPTION_RE.fullmatch(raw.strip("。.！!？? ")) or re.search(
        r"第\s*([0-9]{1,2}|[一二两三四五六七八九十])", raw)
    if match:
        token = match.group(1)
        value = int(token) if token.isdigit() else (10 if token == "十" else _CN_DIGITS.get(token, 0))
        return value - 1 if 1 <= value <= len(titles) else None
    return _best_title(raw, titles)


def names_a_position(text: str) -> bool:
    """Whether ``text`` picks an option by its place ("2", "第二个", "最后一个", "中间那个")
    rather than by what it is about."""
    raw = (text or "").strip()
    return bool(_POSITION_RE.search(raw)) or parse_option(raw, ("",) * 10) is not None


def _best_title(text: str, titles: Sequence[str]) -> Optional[int]:
    cleaned = re.sub(r"(就是|那个|这个|我要|我问|的|吧|呢|啊|一个)", "", text)
    if len(cleaned) < 2:
        return None
    grams = {cleaned[i:i + 2] for i in range(len(cleaned) - 1)}
    chars = set(cleaned)
    scores = [2 * sum(1 for g in grams if g in t) + sum(1 for c in chars if c in t) for t in titles]
    best = max(scores)
    if best == 0 or scores.count(best) > 1:
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


def parse_district(text: str, districts: Sequence[str], aliases: Mapping[str, str]) -> Optional[str]:
    """The district named in ``text`` (full name or alias), or None."""
    for name in sorted(districts, key=len, reverse=True):
        if name in (text or ""):
            return name
    for alias in sorted(aliases, key=len, reverse=True):
        if alias in (text or ""):
            return aliases[alias]
    return None
