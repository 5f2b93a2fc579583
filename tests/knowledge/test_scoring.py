"""Tests for knowledge.scoring: coverage, BM25 and the best row per entry."""
import numpy as np
import pytest

from knowledge.postings import Postings
from knowledge.scoring import best_docs, bm25, coverage

ROWS = [{"社": 1.0, "保": 1.0, "卡": 1.0}, {"公": 1.0, "积": 1.0, "金": 1.0}, {"卡": 1.0}]


def _posted(rows):
    post = Postings()
    for i, terms in enumerate(rows):
        post.add(i, terms)
    return post


def _mass(post, rows, n):
    return np.array([sum(post.idf(post.vocab[t], n) for t in r) for r in rows], np.float32)


def test_coverage_is_one_for_an_exact_match_and_zero_without_overlap():
    post = _posted(ROWS)
    mass = _mass(post, ROWS, 3)
    got = coverage(post, {"社": 1.0, "保": 1.0, "卡": 1.0}, 3, 3, mass, 1.0, 0.5)
    assert got[0] == pytest.approx(1.0)
    assert got[1] == 0.0
    assert 0.0 < got[2] < got[0]  # the row "卡" is covered, but holds a third of the query
    assert not coverage(post, {"护": 1.0}, 3, 3, mass, 1.0, 0.5).any()


def test_coverage_matches_a_plain_reference():
    rng = np.random.default_rng(0)
    chars = list("社保卡公积金驾驶证户口医疗")
    rows = [{c: float(rng.integers(1, 3)) for c in rng.choice(chars, 4)} for _ in range(30)]
    post, n = _posted(rows), len(rows)
    mass = np.array([sum(post.idf(post.vocab[t], n) ** 2.0 for t in r) for r in rows], np.float32)
    query = {"社": 1.0, "保": 0.5, "金": 1.0, "护": 1.0}
    got = coverage(post, query, n, n, mass, 2.0, 0.5)
    idf = {t: post.idf(post.vocab.get(t), n) ** 2.0 for t in query}
    qmass = sum(w * idf[t] for t, w in query.items())
    for r, terms in enumerate(rows):
        qh = sum(w * idf[t] for t, w in query.items() if t in terms)
        dh = sum(idf[t] for t in query if t in terms)
        want = min(qh / qmass, 1.0) ** 0.5 * min(dh / mass[r], 1.0) ** 0.5
        assert got[r] == pytest.approx(want, rel=1e-5, abs=1e-7)


def test_bm25_is_normalised_and_prefers_the_matching_field():
    post = _posted(ROWS)
    doc_len = np.array([3, 3, 1], np.float32)
    got = bm25(post, {"公": 1.0, "积": 1.0, "金": 1.0}, doc_len, 3)
    assert got.argmax() == 1 and 0.0 < got[1] <= 1.0
    assert got[0] == got[2] == 0.0
    assert not bm25(post, {}, doc_len, 3).any()


def test_best_docs_keeps_each_entry_once_by_its_best_row():
    sim = np.array([0.2, 0.9, 0.5, 0.0, -1.0], np.float32)
    row_doc = np.array([0, 0, 1, 2, 3], np.int32)
    assert best_docs(sim, row_doc, 5) == [(0, pytest.approx(0.9)), (1, pytest.approx(0.5))]
    assert best_docs(sim, row_doc, 1) == [(0, pytest.approx(0.9))]
