"""Tests for knowledge.query: the tail of long messages and the clauses the index scores."""
from knowledge.decide import RetrievalConfig
from knowledge.encoder import MAX_TOKENS
from knowledge.normalize import TermMap
from knowledge.query import (QUERY_MAX_CHARS, encoder_text, query_clauses, query_tail,
                             question_focus)


def test_short_queries_are_untouched():
    assert query_tail("社保卡！！怎么办", 100) == "社保卡！！怎么办"


def test_junk_runs_collapse_before_the_cut():
    query = "驾驶证到期了怎么换证" + "😭" * 600
    assert query_tail(query, 50).startswith("驾驶证到期了怎么换证")
    assert query_tail("甲" * 100 + "问题", 10) == "甲" * 8 + "问题"


def test_encoder_reads_a_simplified_tail():
    text = encoder_text("我家住在朝陽區，" * 200 + "駕駛證到期了怎麼換證")
    assert text.endswith("驾驶证到期了怎么换证") and len(text) == 8 * MAX_TOKENS


def test_clauses_keep_the_end_apply_terms_and_weigh_context_less():
    cfg = RetrievalConfig()
    clauses, weights = query_clauses("我今年六十五岁了，以前在工厂上班，后来下岗了。请问医保卡丢了怎么补办？",
                                     TermMap({"医保卡": "社保卡"}), cfg)
    assert clauses[-1].startswith("社保卡") and weights[-1] == 1.0
    assert min(weights) == cfg.context_weight
    long, _ = query_clauses("，".join(["孩子在上小学"] * 200) + "，护照怎么办", TermMap({}), cfg)
    assert sum(map(len, long)) <= QUERY_MAX_CHARS and long[-1].startswith("护照")
    assert query_clauses("！！？？  嗯", TermMap({}), cfg) == ([], [])


def test_the_focus_of_a_long_query_is_its_question_alone():
    cfg, terms = RetrievalConfig(), TermMap({"医保卡": "社保卡"})
    story = "我今年六十五岁了，以前在工厂上班，后来下岗了。请问医保卡丢了怎么补办？"
    assert question_focus(*query_clauses(story, terms, cfg)) == "社保卡丢了怎么补办"  # fillers go too
    assert question_focus(*query_clauses("医保卡丢了怎么补办", terms, cfg)) == ""  # short: nothing to drop
    assert question_focus(*query_clauses("我家住在朝阳区，孩子今年上小学，老人身体也不好", terms, cfg)) == ""  # no cue
    assert question_focus(*query_clauses("", terms, cfg)) == ""
