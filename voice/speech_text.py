"""Rewrite answer text for speech: numbers, phones, dates, times, money; drop URLs and markup."""
from __future__ import annotations

import html
import logging
import re
from typing import Callable, List, Pattern, Tuple

from voice.numerals import (DIGITS, PHONE_DIGITS, YEAR_DIGITS, read_digits, read_int,
                            read_money, read_number)

_LOGGER = logging.getLogger(__name__)

# Short numbers that are always service numbers (read digit by digit wherever they stand, with
# no "拨打" before them): emergency lines, the 12xxx traffic and weather lines and apps
# (交管12123), and every 123xx public-service hotline (12329 公积金, 12367 移民, 12385 残联…).
HOTLINES = frozenset({
    "110", "119", "120", "122", "12110", "12121", "12122", "12123", "12306", "12308",
})
_SERVICE_NUMBER = re.compile(r"123\d\d")


def is_service_number(digits: str) -> bool:
    """Whether a short number is a service number (hotline or app), not a quantity."""
    return digits in HOTLINES or bool(_SERVICE_NUMBER.fullmatch(digits))
_PHONE_CONTEXT = (r"(?:电话|热线|拨打|致电|呼叫|手机|手机号|号码|联系方式|传真|咨询|服务号|联系|邮编|"
                  r"邮政编码|编号|卡号|账号|验证码)")
_NB = r"(?<![\d.,])"  # not inside a longer number
_NA = r"(?![\d.,]*\d)"  # not followed by more digits
_DASH = r"[-－‐–—~～至到]"
_MEASURE = ("个|份|张|次|天|年|岁|周岁|人|位|名|件|本|种|项|条|小时|周|月|分钟|层|栋|号楼|"
            "类|步|页|所|家|台|辆|套|处|批|期|级|倍|遍|趟|户|口|间|元")

Rule = Tuple[Pattern[str], Callable[[re.Match], str]]


def _phone(digits: str) -> str:
    return read_digits(digits, PHONE_DIGITS)


def _grouped_phone(text: str) -> str:
    """Read a phone written in groups (010-12345678, 138 1234 5678) with a pause per group."""
    groups = [g for g in re.split(r"[\s\-－()（）]+", text) if g]
    return "，".join(_phone(g) for g in groups)


def _date(m: re.Match) -> str:
    year, month, day = m.group("y"), m.group("m"), m.group("d")
    out = read_digits(year, YEAR_DIGITS) + "年" if year else ""
    out += read_int(int(month)) + "月"
    if day:
        out += read_int(int(day)) + (m.groupdict().get("suffix") or "日")
    return out


def _clock(hour: str, minute: str) -> str:
    out = read_int(int(hour)) + "点"
    if minute and int(minute):
        out += read_int(int(minute)) + "分" if int(minute) >= 10 else "零" + DIGITS[int(minute)] + "分"
    return out


def _time_range(m: re.Match) -> str:
    return _clock(m.group("h1"), m.group("m1")) + "到" + _clock(m.group("h2"), m.group("m2"))


def _context_phone(m: re.Match) -> str:
    return m.group("ctx") + m.group("sep") + _grouped_phone(m.group("num"))


def _bare_number(m: re.Match) -> str:
    num = m.group(0)
    plain = num.replace(",", "")
    if "." not in plain and (len(plain) >= 7 or (len(plain) > 1 and plain.startswith("0"))):
        return _phone(plain)  # codes, account numbers, postcodes: digit by digit
    return read_number(num)


def _measure(m: re.Match) -> str:
    num, unit = m.group("n"), m.group("u")
    if num == "2" and unit not in ("元", "月", "号楼"):
        return "两" + unit
    return read_number(num) + unit


def _rules() -> List[Rule]:
    d = r"\d{1,2}"
    return [
        # 18-digit resident ID numbers.
        (re.compile(_NB + r"([1-9]\d{16}[\dXx])(?![\dXx])"), lambda m: _phone(m.group(1))),
        # Dates: 2026年11月22日 / 2026-11-22 / 2026/11/22 / 2026.11.22 / 11月22日.
        (re.compile(_NB + r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>" + d + r")\s*月(?:\s*(?P<d>" + d
                    + r")\s*(?P<suffix>[日号]))?"), _date),
        (re.compile(_NB + r"(?P<y>(?:19|20)\d{2})[-/.](?P<m>" + d + r")[-/.](?P<d>" + d + r")"
                    + _NA), _date),
        (re.compile(_NB + r"(?P<y>)(?P<m>" + d + r")\s*月\s*(?P<d>" + d + r")\s*(?P<suffix>[日号])"),
         _date),
        (re.compile(_NB + r"((?:19|20)\d{2})\s*年"), lambda m: read_digits(m.group(1), YEAR_DIGITS) + "年"),
        # Times: 9:00-17:00, 9：00至17：30, 14:30.
        (re.compile(_NB + r"(?P<h1>[01]?\d|2[0-4])[:：](?P<m1>[0-5]\d)\s*" + _DASH
                    + r"\s*(?P<h2>[01]?\d|2[0-4])[:：](?P<m2>[0-5]\d)" + _NA), _time_range),
        (re.compile(_NB + r"([01]?\d|2[0-4])[:：]([0-5]\d)" + _NA), lambda m: _clock(m.group(1), m.group(2))),
        # Phones: landlines with area code, 400/800 numbers, mobiles, numbers after a phone word.
        (re.compile(_NB + r"[(（]?0\d{2,3}[)）]?[-－\s]?\d{3,4}[-－\s]?\d{4}(?:[-－]\d{1,5})?" + _NA),
         lambda m: _grouped_phone(m.group(0))),
        (re.compile(_NB + r"[48]00[-－\s]?\d{3}[-－\s]?\d{4}" + _NA), lambda m: _grouped_phone(m.group(0))),
        (re.compile(_NB + r"1[3-9]\d[-－\s]?\d{4}[-－\s]?\d{4}" + _NA), lambda m: _grouped_phone(m.group(0))),
        (re.compile(r"(?P<ctx>" + _PHONE_CONTEXT + r")(?P<sep>[:：\s是为]*)(?P<num>\d[\d\-－\s]{1,18}\d)" + _NA),
         _context_phone),
        (re.compile(r"(?<=[零幺二三四五六七八九])\s*(转|分机)\s*(\d{1,6})" + _NA),
         lambda m: m.group(1) + _phone(m.group(2))),
        (re.compile(_NB + r"(\d{3,5})" + _NA + r"(?![%％]|\s*(?:" + _MEASURE + "|万|千|余|多))"),
         lambda m: _phone(m.group(1)) if is_service_number(m.group(1)) else m.group(0)),
        # Money.
        (re.compile(r"[¥￥]\s*(\d[\d,]*(?:\.\d+)?)"), lambda m: read_money(m.group(1))),
        (re.compile(_NB + r"(\d[\d,]*(?:\.\d+)?)\s*(万元|亿元|元|块钱|块)"),
         lambda m: read_money(m.group(1), "元" if m.group(2) in ("元", "块钱", "块") else m.group(2))),
        # Percentages and ranges of plain quantities.
        (re.compile(_NB + r"(\d+(?:\.\d+)?)\s*[%％]"), lambda m: "百分之" + read_number(m.group(1))),
        (re.compile(_NB + r"(\d+(?:\.\d+)?)\s*[-－~～]\s*(\d+(?:\.\d+)?)" + _NA),
         lambda m: read_number(m.group(1)) + "到" + read_number(m.group(2))),
        (re.compile(_NB + r"(?P<n>\d+(?:\.\d+)?)(?P<u>" + _MEASURE + ")"), _measure),
        # Numbered list items at the start of a line: "1." / "1、" / "(1)".
        (re.compile(r"(?m)^\s*[(（]?(\d{1,2})[)）.、．]\s*"), lambda m: "第" + read_int(int(m.group(1))) + "，"),
        (re.compile(r"\d[\d,]*(?:\.\d+)?"), _bare_number),
    ]


_RULES = _rules()
_URL = re.compile(r"(?:https?://|www\.)[^\s，。；;、）)\]】]+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]{0,200}>")
_MARKUP = re.compile(r"(\*\*|__|`+|^#{1,6}\s*|^\s*[-*•·]\s+|^>\s*)", re.MULTILINE)
_PER = re.compile(r"(?<=[元次件人页份])[/／](?=[人次件页份年月天张户])")
_SYMBOLS = {"≥": "大于等于", "≤": "小于等于", "&": "和", "＆": "和", "→": "，", "|": "，", "/": "或"}


def normalize_for_speech(text: str) -> str:
    """Rewrite ``text`` so espeak-ng's Mandarin voice reads it correctly.

    Args:
        text: an answer as shown on screen (may contain URLs, HTML or Markdown).

    Returns:
        Plain Chinese text: numbers spelled out, phones digit by digit, no URLs or markup.
    """
    out = html.unescape(_TAG.sub(" ", text or ""))
    out = _MD_LINK.sub(r"\1", out)
    out = _URL.sub("", out)
    out = _MARKUP.sub("", out)
    for pattern, repl in _RULES:
        out = pattern.sub(repl, out)
    out = _PER.sub("每", out)
    for sym, word in _SYMBOLS.items():
        out = out.replace(sym, word)
    out = re.sub(r"[ \t\u3000]+", " ", out)
    out = re.sub(r"\s*\n\s*", "\n", out)
    out = re.sub(r"(?<=[\u4e00-\u9fff，。：；、]) (?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff]) (?=[，。：；、])", "", out)
    out = re.sub(r"([：:，,])\s*(?=[。；\n]|$)", "", out)
    return out.strip()
