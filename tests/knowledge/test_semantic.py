"""Tests for knowledge.semantic: the character LSA space and its batched clause embedding."""
import numpy as np

from knowledge.semantic import SemanticSpace

TEXTS = ["社保卡丢了怎么补办社会保障卡", "住房公积金怎么提取公积金提取条件", "驾驶证到期怎么换证驾照",
         "婚假有几天婚丧假规定", "带薪年休假怎么休年假", "社会保险怎么缴纳社保缴费",
         "公积金贷款额度公积金贷款", "驾驶证遗失补领驾照丢了"]


def _space() -> SemanticSpace:
    space = SemanticSpace(dims=4)
    space.fit(TEXTS)
    return space


def test_clauses_embedded_together_match_one_at_a_time():
    space = _space()
    clauses = ["社保卡丢了", "", "怎么补办", "𠀀𠀁", "年假年假年假"]
    vecs, shares = space._embed_many(clauses)
    for i, text in enumerate(clauses):
        np.testing.assert_allclose(vecs[i], space.embed(text), atol=1e-6)
        assert abs(shares[i] - space.known_share(text)) < 1e-6
    assert not vecs[1].any() and not vecs[3].any() and shares[3] == 0.0


def test_similarities_rank_the_related_entry_and_decline_the_unknown():
    space = _space()
    sims = space.similarities(["公积金", "怎么取出来"], [0.5, 1.0], len(TEXTS))
    assert sims.argmax() in (1, 6)
    assert space.similarities(["𠀀𠀁"], [1.0], len(TEXTS)) is None
    assert space.similarities([], [], len(TEXTS)) is None
    assert SemanticSpace().similarities(["社保"], [1.0], 3) is None
