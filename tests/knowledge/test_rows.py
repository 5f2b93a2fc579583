"""Tests for knowledge.rows: question rows, tombstones, compaction copies and term masses."""
import numpy as np
import pytest

from knowledge.rows import QuestionRows, grow
from knowledge.segment import Segmenter

QUESTIONS = ["社保卡怎么补办", "公积金提取条件", "社保卡办理需要什么材料", "护照多少钱"]


@pytest.fixture(scope="module")
def seg():
    return Segmenter()


def _rows(seg, power=1.0, bulk=False):
    rows = QuestionRows(("u", "p"), power)
    for slot, q in enumerate(QUESTIONS):
        assert rows.add(q, slot, seg, power, bulk) == slot
    if bulk:
        rows.refresh_mass(power)
    return rows


def test_grow_doubles_and_keeps_content():
    arr = np.arange(4, dtype=np.int32)
    assert grow(arr, 3) is arr
    bigger = grow(arr, 5)
    assert len(bigger) == 8 and bigger[:4].tolist() == [0, 1, 2, 3] and not bigger[4:].any()
    assert len(grow(arr, 20)) == 20


def test_rows_record_slot_and_question_type(seg):
    rows = _rows(seg)
    assert rows.n == rows.n_alive == 4 and rows.slot[:4].tolist() == [0, 1, 2, 3]
    assert rows.alive[:4].all()
    assert rows.qtype[2] != 0 and rows.qtype[3] != 0 and rows.qtype[2] != rows.qtype[3]


def test_an_exact_question_covers_its_row_best(seg):
    rows = _rows(seg)
    scores = rows.coverage("u", {c: 1.0 for c in "社保卡补办"}, 1.0, 0.5)  # 怎么 is a stop word
    assert scores.argmax() == 0 and scores[0] == pytest.approx(1.0)
    assert scores[1] == 0.0 and 0 < scores[2] < scores[0]


def test_single_adds_weigh_with_their_moment_and_bulk_adds_wait_for_the_refresh(seg):
    rows = QuestionRows(("u",), 1.0)
    for slot, q in enumerate(QUESTIONS):
        row = rows.add(q, slot, seg, 1.0)
        post = rows.post["u"]
        terms = {post.vocab[ch] for ch in "".join(seg.cut(q))}  # its content characters
        expected = sum(post.idf(t, rows.n_alive) for t in terms)
        assert rows._mass["u"][row] == pytest.approx(expected, rel=1e-6)
    bulk = QuestionRows(("u",), 1.0)
    for slot, q in enumerate(QUESTIONS):
        bulk.add(q, slot, seg, 1.0, bulk=True)
    assert not bulk._mass["u"][:bulk.n].any()  # no mass until the one refresh at the end
    bulk.refresh_mass(1.0)
    rows.refresh_mass(1.0)
    np.testing.assert_allclose(bulk._mass["u"][:4], rows._mass["u"][:4], rtol=1e-6)
    assert rows._mass["u"][0] > 0


def test_kill_forgets_terms_and_a_compacted_copy_scores_the_same(seg):
    rows = _rows(seg)
    df_before = rows.post["u"].df[rows.post["u"].vocab["社"]]
    rows.kill(0)
    assert rows.n_alive == 3 and rows.n_dead == 1 and not rows.alive[0]
    assert rows.post["u"].df[rows.post["u"].vocab["社"]] == df_before - 1
    rows.refresh_mass(1.0)
    fresh = rows.emptied(1.0)
    for old in (1, 2, 3):
        fresh.readd(QUESTIONS[old], old, rows, old)
    fresh.refresh_mass(1.0)
    assert fresh.post["u"].vocab is rows.post["u"].vocab  # term ids survive compaction
    query = {c: 1.0 for c in "社保卡办理材料"}
    np.testing.assert_allclose(fresh.coverage("u", query, 1.0, 0.5)[:3],
                               rows.coverage("u", query, 1.0, 0.5)[1:4], rtol=1e-6)
    assert fresh.slot[:3].tolist() == [1, 2, 3] and fresh.n_dead == 0


def test_masses_follow_a_new_idf_power_and_staleness(seg):
    rows = _rows(seg, bulk=True)
    query = {c: 1.0 for c in "公积金提取"}
    squared = rows.coverage("u", query, 2.0, 0.5)  # refreshes the masses for power 2 first
    np.testing.assert_allclose(squared, _rows(seg, 2.0, bulk=True).coverage("u", query, 2.0, 0.5),
                               rtol=1e-6)
    assert not rows.mass_is_stale()
    big = QuestionRows(("u",), 1.0)
    for i in range(120):
        big.add(f"问题{i}", i, seg, 1.0, bulk=True)
    big.refresh_mass(1.0)
    for i in range(11):
        big.kill(i)
    assert not big.mass_is_stale()
    big.kill(11)
    big.kill(12)
    assert big.mass_is_stale()  # 13 of 120 gone: over 10 %
