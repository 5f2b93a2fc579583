"""Tests for knowledge.semantic: the character LSA space and its batched clause embedding."""
import math
from collections import Counter

import numpy as np

from knowledge.semantic import SemanticSpace

TEXTS = ["社保卡丢了怎么补办社会保障卡", "住房公积金怎么提取公积金提取条件", "驾驶证到期怎么换证驾照",
         "婚假有几天婚丧假规定", "带薪年休假怎么休年假", "社会保险怎么缴纳社保缴费",
         "公积金贷款额度公积金贷款", "驾驶证遗失补领驾照丢了"]


def _space() -> SemanticSpace:
    space = SemanticSpace(dims=4)
    space.fit(TEXTS)
    return space


def _reference(space: SemanticSpace, text: str) -> tuple[np.ndarray, float]:
    """One text, the plain way: unit TF-IDF over known characters, projected and normalised; and
    the IDF-weighted share of its characters the space knows (unknown ones at the top IDF)."""
    top, vec = float(space.idf.max()), np.zeros(space.dims)
    known = total = 0.0
    weights = {}
    for ch, c in Counter(text).items():
        col = space.vocab.get(ch)
        w = (1.0 + math.log(c)) * (float(space.idf[col]) if col is not None else top)
        total += w * w
        if col is not None:
            known += w * w
            weights[col] = w
    norm = math.sqrt(sum(w * w for w in weights.values()))
    for col, w in weights.items():
        vec += (w / norm) * space.proj[col]
    if weights:
        vec /= np.linalg.norm(vec)
    return vec, (math.sqrt(known / total) if total else 0.0)


def test_clauses_embedded_together_match_one_at_a_time():
    space = _space()
    clauses = ["社保卡丢了", "", "怎么补办", "𠀀𠀁", "年假年假年假"]
    vecs, shares = space._embed_many(clauses)
    for i, text in enumerate(clauses):
        vec, share = _reference(space, text)
        np.testing.assert_allclose(vecs[i], vec, atol=1e-6)
        np.testing.assert_allclose(space.embed(text), vec, atol=1e-6)
        assert abs(shares[i] - share) < 1e-6
    assert not vecs[1].any() and not vecs[3].any() and shares[3] == 0.0


def test_fitted_entries_sit_where_embed_puts_them():
    space = _space()
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(space.vectors[i], _reference(space, text)[0], atol=1e-5)


def test_similarities_rank_the_related_entry_and_decline_the_unknown():
    space = _space()
    sims = space.similarities(["公积金", "怎么取出来"], [0.5, 1.0], len(TEXTS))
    assert sims.argmax() in (1, 6)
    assert space.similarities(["𠀀𠀁"], [1.0], len(TEXTS)) is None
    assert space.similarities([], [], len(TEXTS)) is None
    assert SemanticSpace().similarities(["社保"], [1.0], 3) is None
