"""Facts the shipped seed answers must get right (each was once wrong or self-contradictory)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

import pytest

SEED = Path(__file__).resolve().parents[2] / "knowledge" / "seed" / "entries.jsonl"


@pytest.fixture(scope="module")
def seed() -> Dict[str, dict]:
    rows = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line]
    return {row["id"]: row for row in rows}


def text(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False)


def test_replacing_a_lost_id_card_costs_40_yuan(seed) -> None:
    for key in ("answer", "short_answer", "fees"):
        assert "40元" in seed["idcard-lost"][key] and "工本费20元" not in seed["idcard-lost"][key]
    assert "补领40元" in seed["idcard-offsite"]["answer"]
    assert all("2322号" in seed[k]["basis"] for k in ("idcard-lost", "idcard-first", "idcard-renew"))


def test_the_fee_waiver_covers_first_issue_and_renewal(seed) -> None:
    assert "首次申领和换领时免收" in seed["idcard-first"]["answer"]
    assert "免收" in seed["idcard-renew"]["answer"] and "免收" in seed["idcard-renew"]["fees"]


def test_serious_illness_is_deducted_only_in_the_annual_settlement(seed) -> None:
    assert "大病医疗只能在次年" in seed["tax-special-deduction"]["answer"]


def test_family_sharing_reaches_close_relatives(seed) -> None:
    entry = seed["medical-family-sharing"]
    assert "近亲属" in entry["conditions"] and "兄弟姐妹" in entry["answer"]
    assert "以医保部门规定为准" in entry["answer"] and "2024" in entry["basis"] + entry["answer"]


def test_short_answers_agree_with_the_full_ones(seed) -> None:
    assert "已婚的带结婚证" in seed["birth-registration"]["short_answer"]
    assert "第6年和第10年" in seed["vehicle-inspection"]["short_answer"]


def test_similar_questions_are_ones_the_answer_answers(seed) -> None:
    assert not any("退休" in q for q in seed["hukou-info-change"]["similar_questions"])
    assert not any("二手车" in q for q in seed["tax-invoice-issue"]["similar_questions"])
    assert "免予核查经济困难" in seed["legal-aid-apply"]["answer"]


def test_no_city_specific_department_or_deadline_stated_as_universal(seed) -> None:
    everything = "".join(text(e) for e in seed.values())
    assert "规划和自然资源委员会" not in everything and "交通委员会" not in everything
    assert "90天内参保" not in seed["medical-insurance-enroll"]["answer"]
