"""Tests for knowledge.decide: calibration and the answer / clarify / none decision."""
from dataclasses import replace

import pytest

from knowledge.decide import Candidate, RetrievalConfig, calibrate, decide, with_thresholds
from knowledge.errors import ValidationError

CFG = RetrievalConfig(answer_threshold=0.7, clarify_threshold=0.3, answer_margin=0.15,
                      max_clarify=3, clarify_window=0.25)


def cands(*scores):
    return [Candidate(f"e{i}", s, f"问题{i}") for i, s in enumerate(scores)]


def test_none_when_empty_or_weak():
    assert decide("q", [], CFG).decision == "none"
    result = decide("q", cands(0.2, 0.1), CFG)
    assert result.decision == "none" and len(result.candidates) == 2


def test_answer_needs_score_and_margin():
    result = decide("q", cands(0.9, 0.5, 0.2), CFG)
    assert result.decision == "answer" and result.candidates[0].id == "e0"
    assert decide("q", cands(0.9, 0.8), CFG).decision == "clarify"
    assert decide("q", cands(0.6, 0.1), CFG).decision == "clarify"


def test_log_odds_lead_counts_near_the_top():
    # 0.99 vs 0.90 differ by only 0.09, but by 2.4 in log-odds: a clear lead.
    assert decide("q", cands(0.99, 0.90), CFG).decision == "answer"
    strict = RetrievalConfig(**{**CFG.__dict__, "answer_logit_margin": 5.0})
    assert decide("q", cands(0.99, 0.90), strict).decision == "clarify"


def test_clarify_offers_two_or_three_close_candidates():
    result = decide("q", cands(0.65, 0.6, 0.55, 0.5, 0.45), CFG)
    assert result.decision == "clarify"
    assert [c.id for c in result.candidates] == ["e0", "e1", "e2"]
    lone = decide("q", cands(0.5, 0.16, 0.01), CFG)
    assert lone.decision == "clarify" and [c.id for c in lone.candidates] == ["e0", "e1"]
    single = decide("q", cands(0.5, 0.01), CFG)
    assert [c.id for c in single.candidates] == ["e0"]


def test_identical_questions_do_not_block_an_answer():
    scored = cands(0.9, 0.9, 0.4)
    assert decide("q", scored, CFG).decision == "clarify"
    assert decide("q", scored, CFG, keys=["同一问题", "同一问题", "别的问题"]).decision == "answer"


def test_query_is_echoed():
    assert decide("社保卡", cands(0.9), CFG).query == "社保卡"


def test_calibrate_is_monotone_and_bounded():
    cfg = RetrievalConfig(calib_slope=10.0, calib_offset=0.4)
    assert calibrate(0.4, cfg) == pytest.approx(0.5)
    values = [calibrate(x / 10, cfg) for x in range(-5, 20)]
    assert values == sorted(values)
    assert all(0.0 < v < 1.0 for v in values)
    assert calibrate(1e9, cfg) <= 1.0 and calibrate(-1e9, cfg) >= 0.0


def test_operator_thresholds_replace_only_what_is_given():
    cfg = with_thresholds(CFG, clarify=0.5)
    assert (cfg.answer_threshold, cfg.clarify_threshold) == (0.7, 0.5)
    assert cfg.weight_d == CFG.weight_d and CFG.clarify_threshold == 0.3  # a copy
    assert decide("q", cands(0.4, 0.3), CFG).decision == "clarify"
    assert decide("q", cands(0.4, 0.3), cfg).decision == "none"
    assert with_thresholds(CFG) == CFG


def test_a_stricter_answer_threshold_raises_the_bar_for_settled_close_calls():
    from knowledge.decide import RetrievalConfig
    base = RetrievalConfig()
    assert with_thresholds(base, answer=base.answer_threshold + 0.2).sibling_min_score == \
        pytest.approx(base.sibling_min_score + 0.2)
    assert with_thresholds(base, answer=0.5).sibling_min_score == base.sibling_min_score
    off = replace(CFG, sibling_min_score=0.0)
    assert with_thresholds(off, answer=0.9).sibling_min_score == 0.0  # off stays off


@pytest.mark.parametrize("answer, clarify, field", [
    (1.5, None, "answer_threshold"), (None, -0.1, "clarify_threshold"),
    (float("nan"), None, "answer_threshold"), (0.4, 0.5, "clarify_threshold")])
def test_operator_thresholds_out_of_range_are_refused(answer, clarify, field):
    with pytest.raises(ValidationError) as err:
        with_thresholds(CFG, answer, clarify)
    assert err.value.field == field and err.value.code == "invalid"
