"""Parsing of option numbers, phone numbers, application numbers and districts."""
from __future__ import annotations

import pytest

from actions.text import (is_refusal, is_ticket_number, names_a_position, parse_application_number,
                          parse_district, parse_option, parse_phone, parse_tracking_number)

TITLES = ["社会保障卡怎么补办？", "医保异地就医怎么备案？", "公积金怎么提取？"]


@pytest.mark.parametrize("text,expected", [
    ("2", 1), ("第二个", 1), ("选1", 0), ("第三条", 2), ("二", 1), ("最后一个", 2),
    ("就是那个社保的", 0), ("上面那个医保的", 1), ("公积金那个", 2), ("5", None), ("第九个", None),
    ("随便", None), ("", None), ("倒数第二个", 1), ("倒数第一个", 2), ("中间那个", 1), ("头一个", 0),
    ("第2个吧", 1), ("第一個選項", 0), ("第二次怎么办理", None),
])
def test_parse_option(text, expected):
    assert parse_option(text, TITLES) == expected


def test_an_ordinal_inside_a_question_is_no_option():
    assert parse_option("第二代身份证怎么补办", ["甲", "乙", "丙"]) is None
    assert parse_option("第二代身份证怎么补办", TITLES) == 0  # by its words: 补办


@pytest.mark.parametrize("text,expected", [
    ("2", True), ("第二个", True), ("选1", True), ("最后一个", True), ("中间那个", True),
    ("倒数第二个", True), ("前面那个", True), ("选项一", True), ("社保卡", False),
    ("是公积金那个", False), ("那个护照的", False), ("第二代身份证怎么补办", False), ("", False),
])
def test_names_a_position(text, expected):
    assert names_a_position(text) is expected


@pytest.mark.parametrize("text,expected", [
    ("13812345678", "13812345678"), ("我的电话是 138 1234 5678", "13812345678"),
    ("幺三八幺二三四五六七八", "13812345678"), ("010-62345678", "010-62345678"),
    ("1381234567", None), ("身份证110105195603121238", None), ("不留", None),
])
def test_parse_phone(text, expected):
    assert parse_phone(text) == expected


def test_refusal():
    assert is_refusal("不方便留电话") and is_refusal("不留") and not is_refusal("13812345678")


@pytest.mark.parametrize("text,expected", [
    ("SB202611200001", "SB202611200001"), ("sb 2026 1120 0001", "SB202611200001"),
    ("编号是GA二零二六一一二零零零零二", "GA202611200002"), ("SB2026", None), ("", None),
])
def test_parse_application_number(text, expected):
    assert parse_application_number(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("GD20261122-000007", "GD20261122-000007"), ("gd 2026 1122 000007", "GD20261122-000007"),
    ("ＧＤ２０２６１１２２－０００００７", "GD20261122-000007"),
    ("我的留言GD二零二六一一二二零零零零零七有答复了吗", "GD20261122-000007"),
    ("20261122000007", "GD20261122-000007"),  # typed on a keypad: no letters
    ("GD202611200001", "GD202611200001"),  # a 办件编号 that happens to start with GD
    ("查一下SB202611200001的进度", "SB202611200001"),
    ("GD20261122-00007", None), ("2026112200000", None), ("手机13812345678", None), ("", None),
])
def test_parse_tracking_number(text, expected):
    number = parse_tracking_number(text)
    assert number == expected
    assert number is None or is_ticket_number(number) == ("-" in expected)


def test_parse_district():
    districts = ["朝阳区", "海淀区"]
    aliases = {"朝阳": "朝阳区", "海淀": "海淀区"}
    assert parse_district("我在朝阳区", districts, aliases) == "朝阳区"
    assert parse_district("住海淀那边", districts, aliases) == "海淀区"
    assert parse_district("不知道", districts, aliases) is None


@pytest.mark.parametrize("text,bare", [
    ("需要哪些材料？", True), ("多少钱", True), ("在哪里办", True), ("我想问一下流程", True),
    ("能网上办吗", True), ("养狗要办什么证", False), ("居住证需要什么材料", False),
    ("社保卡要带什么", False),
])
def test_a_bare_follow_up_names_no_service(text, bare):
    from actions.text import is_bare_follow_up
    assert is_bare_follow_up(text) is bare


@pytest.mark.parametrize("text,words,only", [
    ("需要户口本不", ["户口本"], True), ("要带照片没有", ["照片"], True),
    ("补办户口本要什么材料", ["户口本"], False), ("户口本丢了怎么办", ["户口本"], False),
])
def test_asks_only_about(text, words, only):
    from actions.text import asks_only_about
    assert asks_only_about(text, words) is only
