"""Arabic numbers to spoken Simplified Chinese (integers, decimals, digit strings, money)."""
from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

_LOGGER = logging.getLogger(__name__)

DIGITS = "零一二三四五六七八九"
# Phone numbers, hotlines and ID numbers: 1 is read as 幺 so it is not confused with 七.
PHONE_DIGITS = "零幺二三四五六七八九"
# Years are read digit by digit with 〇 for zero (二〇二六年).
YEAR_DIGITS = "〇一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _section(n: int) -> str:
    """Read 0 < n < 10000, with 零 for inner zero runs (1005 → 一千零五)."""
    out = []
    zero = False
    for pos in range(3, -1, -1):
        d = n // (10 ** pos) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + _SMALL_UNITS[pos])
    return "".join(out)


def read_int(n: int) -> str:
    """Read a non-negative integer the way it is said (15 → 十五, 1005 → 一千零五).

    Args:
        n: the integer (values of 10**16 or more are read digit by digit).
    """
    if n < 0:
        return "负" + read_int(-n)
    if n == 0:
        return "零"
    if n >= 10 ** 16:
        return read_digits(str(n), DIGITS)
    sections = []
    while n:
        sections.append(n % 10000)
        n //= 10000
    out = []
    need_zero = False
    for idx in range(len(sections) - 1, -1, -1):
        sec = sections[idx]
        if sec == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or sec < 1000):
            out.append("零")
        out.append(_section(sec) + _BIG_UNITS[idx])
        need_zero = False
    text = "".join(out)
    # 一十五 → 十五 only at the very start (10..19, 100000 → 十万).
    if text.startswith("一十"):
        text = text[1:]
    return text


def read_digits(digits: str, table: str = PHONE_DIGITS) -> str:
    """Read a digit string one digit at a time (12345 → 幺二三四五); X is read as 叉."""
    out = []
    for ch in digits:
        if ch.isdigit():
            out.append(table[int(ch)])
        elif ch in "Xx":
            out.append("叉")
    return "".join(out)


def read_number(text: str) -> str:
    """Read an integer or decimal written with optional thousands separators (3.50 → 三点五零)."""
    clean = text.replace(",", "").replace("，", "")
    if "." in clean:
        whole, frac = clean.split(".", 1)
        return read_int(int(whole or "0")) + "点" + read_digits(frac, DIGITS)
    if len(clean) > 1 and clean.startswith("0"):
        return read_digits(clean, DIGITS)
    return read_int(int(clean))


def read_money(text: str, unit: str = "元") -> str:
    """Read an amount (1,234.50元 → 一千二百三十四元五角, 0.05元 → 五分).

    Args:
        text: the number as written.
        unit: ``元`` gives 角/分 for decimals; other units (万元, 亿元) keep a decimal point.
    """
    clean = text.replace(",", "").replace("，", "")
    try:
        value = Decimal(clean)
    except InvalidOperation:
        return text + unit
    if unit != "元":
        return read_number(clean) + unit
    cents = int((value * 100).to_integral_value())
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    out = ""
    if yuan:
        out = read_int(yuan) + "元"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and yuan:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    return out or "零元"
