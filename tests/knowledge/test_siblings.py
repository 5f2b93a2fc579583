"""Close calls between sibling entries, settled by the words that tell their titles apart or by
a long query's question read alone."""
from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.decide import LEXICAL_CONFIG
from knowledge.index import IndexDoc, SearchIndex
from knowledge.normalize import TermMap
from knowledge.segment import Segmenter
from knowledge.siblings import settled_by_query

TITLES = ["租房怎么提取住房公积金？", "买房怎么提取住房公积金？", "离职以后住房公积金能提取吗？"]
RENT = "租房怎么提取住房公积金 没有自有住房并且租房居住的 可以申请提取住房公积金支付房租"
CORPUS = RENT + " 违约金 买房 离职"


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


def settled(query: str, seg: Segmenter, titles=TITLES, first=RENT) -> bool:
    return settled_by_query(query, titles, first, lambda w: w in CORPUS, seg, TermMap({}))


def test_the_word_only_the_first_title_has_settles_it(seg) -> None:
    assert settled("我在外面租房，住房公积金能拿出来交房租不", seg)


def test_a_word_of_a_runner_up_keeps_the_question(seg) -> None:
    assert not settled("租房还是买房提取住房公积金", seg)
    assert not settled("住房公积金怎么提取", seg)  # nothing tells them apart


def test_a_known_word_the_first_entry_lacks_keeps_the_question(seg) -> None:
    assert not settled("租房提取住房公积金要交违约金吗", seg)
    assert settled("租房提取住房公积金要交手续费吗", seg)  # 手续费: unknown to this knowledge base


def test_a_single_candidate_is_not_a_close_call(seg) -> None:
    assert not settled("租房提取住房公积金", seg, titles=TITLES[:1])


def _index(config) -> SearchIndex:
    index = SearchIndex(config=config)
    answers = {"rent": RENT, "buy": "购买自住住房的 可以提取住房公积金", "leave": "离职后 提取"}
    index.build([IndexDoc(key, title, (), answers[key])
                 for key, title in zip(("rent", "buy", "leave"), TITLES)])
    return index


def test_the_index_answers_a_settled_close_call_with_the_runners_up_as_related() -> None:
    query = "我租房子住，住房公积金能拿出来交房租不"
    off = _index(LEXICAL_CONFIG).search(query)
    assert off.decision == "clarify" and off.candidates[0].id == "rent"
    on = _index(replace(LEXICAL_CONFIG, sibling_min_score=off.candidates[0].score)).search(query)
    assert on.decision == "answer" and on.candidates[0].id == "rent"
    assert {c.id for c in on.related} == {c.id for c in off.candidates[1:]}


def test_short_titles_known_as_single_words_do_not_make_shared_words_distinct() -> None:
    titles = ["驾驶证丢了怎么补领？", "驾驶证到期了怎么换证？", "电子驾驶证怎么申领？"]
    seg = Segmenter(["驾驶证到期了怎么换证", "电子驾驶证怎么申领"])  # as the index adds them
    known = lambda w: True  # noqa: E731
    assert not settled_by_query("驾驶证", titles, "驾驶证丢了怎么补领", known, seg, TermMap({}))
    assert settled_by_query("驾驶证补领", titles, "驾驶证丢了怎么补领", known, seg, TermMap({}))


STORY = "我去年从单位离职了，本来打算买房，后来没买成，现在一直在外面租房子住。租房怎么提取住房公积金？"


@pytest.mark.parametrize("focus", [False, True])
def test_a_long_query_is_answered_when_its_question_alone_is(focus: bool) -> None:
    # The story names the other entries (离职, 买房); the question alone names one.
    config = replace(LEXICAL_CONFIG, sibling_min_score=0.0, focus_second_look=focus)
    result = _index(config).search(STORY)
    assert result.candidates[0].id == "rent"
    assert result.decision == ("answer" if focus else "clarify")
    if focus:
        assert {c.id for c in result.related} == {"buy", "leave"}


def test_the_second_look_does_not_overrule_the_whole_message() -> None:
    # Here the whole message ranks 离职 first: the question alone (租房) may not answer it.
    story = "我前年离职以后一直没找到工作，家里想买房但钱不够，现在租房。租房怎么提取住房公积金？"
    result = _index(replace(LEXICAL_CONFIG, sibling_min_score=0.0)).search(story)
    assert result.candidates[0].id == "leave" and result.decision == "clarify"
