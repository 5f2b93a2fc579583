"""Golden tests for speech text normalisation and the numeral helpers."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from voice.numerals import read_int, read_money
from voice.speech_text import normalize_for_speech

_LOGGER = logging.getLogger(__name__)
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "voice" / "speech_golden.jsonl"
CASES = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden(case: dict) -> None:
    assert normalize_for_speech(case["input"]) == case["expected"]


def test_golden_covers_required_kinds() -> None:
    kinds = {c["id"].split("-")[0] for c in CASES}
    assert {"hotline", "mobile", "landline", "date", "time", "money", "id", "mixed"} <= kinds


@pytest.mark.parametrize("number,spoken", [
    (0, "零"), (10, "十"), (15, "十五"), (101, "一百零一"), (110, "一百一十"),
    (1005, "一千零五"), (10001, "一万零一"), (120000, "十二万"), (305000, "三十万五千"),
    (100010000, "一亿零一万"), (1000010, "一百万零一十"),
])
def test_read_int(number: int, spoken: str) -> None:
    assert read_int(number) == spoken


@pytest.mark.parametrize("amount,spoken", [
    ("0.5", "五角"), ("0.05", "五分"), ("3.00", "三元"), ("100", "一百元"), ("2.30", "二元三角"),
])
def test_read_money(amount: str, spoken: str) -> None:
    assert read_money(amount) == spoken


def test_no_digits_survive_in_long_text() -> None:
    text = "社保卡补办：1. 带身份证 2. 到窗口 3. 7个工作日取卡，电话：0755-88889999，费用￥25.5"
    out = normalize_for_speech(text)
    assert not any(ch.isdigit() for ch in out), out


def test_empty_and_markup_only() -> None:
    assert normalize_for_speech("") == ""
    assert normalize_for_speech("<p></p> https://a.example/x") == ""


@pytest.mark.parametrize("text,spoken", [
    ("交管12123 App", "交管幺二幺二三 App"),
    ("拨打12329咨询", "拨打幺二三二九咨询"),
    ("12367移民服务热线", "幺二三六七移民服务热线"),
    ("残联12385", "残联幺二三八五"),
    ("服务了12345人", "服务了一万二千三百四十五人"),
    ("共12385元", "共一万二千三百八十五元"),
])
def test_service_numbers_are_read_digit_by_digit_wherever_they_stand(text, spoken) -> None:
    assert normalize_for_speech(text) == spoken
