"""Tests for knowledge.normalize: script, width, fillers, numerals, terms, clauses."""
import time

import pytest

from knowledge.normalize import (MAX_INPUT_CHARS, TermMap, clause_weights, cn_to_int, normalize,
                                 question_types, split_clauses)


def test_traditional_to_simplified():
    assert normalize("醫保卡怎麼辦理") == "医保卡怎么办理"


def test_full_width_case_and_punctuation():
    assert normalize("ＡＢＣ１２３，Hello！") == "abc123hello"
    assert normalize("😀 退休金 怎么 领？😀") == "退休金怎么领"


def test_fillers_removed_but_content_kept():
    assert normalize("嗯那个我想问一下社保卡怎么办理呢") == "社保卡怎么办理"
    assert normalize("您好，请问公积金怎么提取啊？谢谢") == "公积金怎么提取"
    assert normalize("这个月的养老金发了吗") == "这个月的养老金发了吗"


@pytest.mark.parametrize("text,expected", [
    ("三个月", "3个月"), ("二零二六年", "2026年"), ("六十岁", "60岁"), ("一百二十天", "120天"),
    ("两万元", "2万元"), ("二十五周岁", "25周岁"), ("拨打一二三四五热线", "拨打12345热线"),
    ("一网通办", "一网通办"), ("一次性告知", "一次性告知"), ("五险一金", "五险一金"),
    ("三四天", "三四天"), ("千万不要", "千万不要"), ("统一年检", "统一年检"), ("第一次", "第1次"),
    # Callers read 1 as 幺 in numbers (and the phone line's own prompts do too).
    ("打幺二三四五问问", "打12345问问"), ("交管幺二幺二三", "交管12123"), ("幺幺零", "110"),
    ("幺蛾子", "幺蛾子"), ("幺二三四五号", "12345号"), ("拨打幺二三四五号码", "拨打12345号码"),
    ("老幺三岁", "老幺3岁"), ("一幺零号", "110号"), ("区号零幺零", "区号010"),
    ("零一零六二三四五六七八", "01062345678"),
    # a shorter number before a protected word must not shift where that word is looked for
    ("一千二百三十四元的二手一二三四", "1234元的二手1234"), ("二手一二三四", "二手1234"),
    ("五一二三四", "五一二三四"),
])
def test_numerals(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text,value", [
    ("十", 10), ("十一", 11), ("二十", 20), ("一百零五", 105), ("两万五千", 25000),
    ("一千零一", 1001), ("二零二六", 2026), ("三四十", None), ("", None),
])
def test_cn_to_int(text, value):
    assert cn_to_int(text) == value


def test_huge_input_is_capped_and_cheap():
    text = "社保卡怎么补办？" * 20000
    start = time.perf_counter()
    out = normalize(text)
    assert time.perf_counter() - start < 1.0
    assert 0 < len(out) <= MAX_INPUT_CHARS


def test_empty():
    assert normalize("") == ""
    assert normalize("？？！！ ，。") == ""
    assert split_clauses("") == []


def test_split_clauses():
    assert split_clauses("我今年六十岁了，在北京工作。請問退休金怎么领？") == [
        "我今年60岁了", "在北京工作", "退休金怎么领"]


def test_term_map_applies_longest_first_without_double_expansion():
    terms = TermMap({"医保卡": "社保卡", "公积金": "住房公积金", "": "x"})
    assert terms.apply("医保卡丢了") == "社保卡丢了"
    assert terms.apply("住房公积金提取") == "住房公积金提取"
    assert terms.apply("公积金提取") == "住房公积金提取"
    assert terms.words() == {"医保卡", "社保卡", "公积金", "住房公积金"}


def test_term_map_changed_words():
    old = TermMap({"医保卡": "社保卡", "退休金": "养老金"})
    new = TermMap({"医保卡": "社保卡", "退休工资": "养老金"})
    assert old.changed_words(new) == {"退休金", "退休工资", "养老金"}
    assert old.changed_words(TermMap({"醫保卡": "社保卡", "退休金": "养老金"})) == set()


def test_clause_weights_short_query_untouched():
    clauses, weights = clause_weights(["社保卡怎么补办"])
    assert weights == [1.0]


def test_clause_weights_context_is_down_weighted():
    clauses = ["我在工地干活时把腿摔骨折了", "老板说先在家养着", "工伤停工留薪期最长有多久"]
    out, weights = clause_weights(clauses, context_weight=0.4)
    assert out == clauses
    assert weights == [0.4, 0.4, 1.0]


def test_clause_weights_unpunctuated_speech_is_split_before_the_cue():
    text = "我老家是河北的在北京打工五年了现在想问劳动合同终止有哪些情况"
    out, weights = clause_weights([text], window=6, context_weight=0.5)
    assert "".join(out) == text and weights == [0.5, 1.0]
    assert out[1].endswith("有哪些情况") and len(out[1]) < len(text)


def test_question_types():
    cost, procedure = question_types("办理要交多少钱"), question_types("怎么办理流程是什么")
    assert cost and procedure and not cost & procedure
    assert question_types("社保卡") == 0
