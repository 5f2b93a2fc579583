"""Facts the shipped seed answers must get right (each was once wrong or self-contradictory)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, List

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


# ------------------------------------------------------------------ numbers and hotlines
NUMBER = re.compile(r"(\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)\s*"
                    r"(元|块钱|个工作日|工作日|周岁|岁|年|个月|日|天|%|％|万元|倍|小时|分钟|周)")
YEAR = re.compile(r"(19|20)\d\d年")
LOCAL_HEDGE = re.compile(r"以[^。；]{0,16}为准")
LOCAL_WORDS = re.compile(r"本市|当地|各地|多数地方|部分地方|不少地方|很多地方|很多城市|各城市|一些地方|北京")
NATIONAL_BASIS = re.compile(r"《[^》]+(法|条例|办法|规定|意见|决定|通知|细则)》")
TOPIC_LINES = re.compile(r"(?<!\d)(12333|12393|12329|12366|12315|12367|12348|12385|12338|12122|"
                         r"12351|12349|12380|12358|12369)(?!\d)")
NUMBER_FIELDS = ("answer", "short_answer", "fees", "time_limit", "conditions", "hours")


def unbacked_numbers(entry: dict) -> List[str]:
    """Sentences stating a specific number (fee, time limit, age, amount) that neither rest on
    a national instrument named in ``basis`` nor say that local rules decide. A sentence that
    speaks of local practice ("部分地方", "本市") must say so even with a national basis."""
    national = bool(NATIONAL_BASIS.search(entry.get("basis") or ""))
    found = []
    for field in NUMBER_FIELDS:
        for sentence in re.split(r"[。；\n]", str(entry.get(field) or "")):
            numbers = [m.group(0) for m in NUMBER.finditer(sentence) if not YEAR.match(m.group(0))]
            if not numbers or LOCAL_HEDGE.search(sentence):
                continue
            if LOCAL_WORDS.search(sentence) or not national:
                found.append(f"{entry['id']}.{field}: {sentence}")
    return found


def test_every_number_cites_a_national_basis_or_says_local_rules_decide(seed) -> None:
    problems = [p for entry in seed.values() for p in unbacked_numbers(entry)]
    assert problems == []


def test_the_number_rule_catches_a_local_figure_stated_as_universal() -> None:
    entry = {"id": "x", "answer": "多数地方给年满80周岁的老人发放高龄津贴。",
             "basis": "《中华人民共和国老年人权益保障法》"}
    assert unbacked_numbers(entry) == ["x.answer: 多数地方给年满80周岁的老人发放高龄津贴"]
    assert unbacked_numbers(dict(entry, answer=entry["answer"][:-1] + "，以当地规定为准。")) == []
    assert unbacked_numbers({"id": "y", "fees": "工本费10元", "basis": ""}) == ["y.fees: 工本费10元"]


def test_a_topic_line_merged_into_12345_is_given_with_12345(seed) -> None:
    for entry in seed.values():
        said = " ".join(str(entry.get(k) or "") for k in ("answer", "short_answer", "phone"))
        if TOPIC_LINES.search(said):
            assert "12345" in said, (entry["id"], entry.get("phone"))
