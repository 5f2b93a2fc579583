"""Content checks for the shipped seed knowledge base (knowledge/seed/*)."""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import pytest

_LOGGER = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "seed"
FIELDS = ("id", "question", "similar_questions", "answer", "short_answer", "category", "department",
          "conditions", "materials", "steps", "time_limit", "fees", "place", "hours", "phone",
          "online_url", "basis")
LIST_FIELDS = ("similar_questions", "materials", "steps")
CATEGORIES = ("社保", "医保", "公积金", "户籍", "居住证", "身份证", "出入境", "婚姻登记", "生育", "老年人优待",
              "高龄津贴", "残疾人服务", "不动产", "税务", "营业执照", "12345热线", "一网通办", "跨省通办",
              "电子证照", "交通", "社会救助", "法律服务")
DISTRICTS = ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区", "通州区", "顺义区",
             "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区")
CASE_STATUSES = {"已受理", "审核中", "已办结", "需补正材料", "不予受理"}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CASE_RE = re.compile(r"^[A-Z]{2}\d{12}$")
TERMINATORS = re.compile(r"[。！？!?；;]")
PUNCT = re.compile(r"[\s，。！？、,.!?；;：:“”\"'（）()]")


def read_jsonl(path: Path) -> List[Dict[str, Any]]:
    """Parse a UTF-8 JSON-lines file; every non-blank line must be one JSON object."""
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has a BOM"
    rows = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            assert isinstance(row, dict), f"{path.name}:{number} is not an object"
            rows.append(row)
    return rows


def key(text: str) -> str:
    """Comparison key for questions: punctuation and spaces removed."""
    return PUNCT.sub("", text)


def entry_text(entry: Dict[str, Any]) -> str:
    """All text of an entry, lists flattened."""
    parts: List[str] = []
    for value in entry.values():
        parts.extend(value if isinstance(value, list) else [value])
    return "\n".join(parts)


@pytest.fixture(scope="module")
def entries() -> List[Dict[str, Any]]:
    """The seed entries."""
    return read_jsonl(SEED_DIR / "entries.jsonl")


@pytest.fixture(scope="module")
def terms() -> List[Dict[str, Any]]:
    """The seed term mappings."""
    return read_jsonl(SEED_DIR / "terms.jsonl")


def test_entry_count_and_fields(entries: List[Dict[str, Any]]) -> None:
    assert len(entries) >= 90
    for entry in entries:
        assert tuple(entry) == FIELDS, entry.get("id")
        for name in FIELDS:
            if name in LIST_FIELDS:
                assert isinstance(entry[name], list), (entry["id"], name)
                assert all(isinstance(s, str) and s.strip() for s in entry[name]), (entry["id"], name)
            else:
                assert isinstance(entry[name], str), (entry["id"], name)
        for name in ("question", "answer", "short_answer", "category", "department"):
            assert entry[name].strip(), (entry["id"], name)


def test_ids_unique_slugs(entries: List[Dict[str, Any]]) -> None:
    ids = [e["id"] for e in entries]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not ID_RE.match(i)] == []


def test_similar_questions_specific(entries: List[Dict[str, Any]]) -> None:
    owner: Dict[str, str] = {}
    clashes = []
    for entry in entries:
        assert len(entry["similar_questions"]) >= 4, entry["id"]
        assert len({key(q) for q in entry["similar_questions"]}) == len(entry["similar_questions"]), entry["id"]
        for question in [entry["question"], *entry["similar_questions"]]:
            other = owner.setdefault(key(question), entry["id"])
            if other != entry["id"]:
                clashes.append((question, other, entry["id"]))
    assert clashes == []


def test_short_answers_speakable(entries: List[Dict[str, Any]]) -> None:
    bad = []
    for entry in entries:
        short = entry["short_answer"]
        sentences = len(TERMINATORS.findall(short))
        if len(short) > 80 or not 1 <= sentences <= 2 or "http" in short or "www." in short:
            bad.append((entry["id"], len(short), sentences))
    assert bad == []


def test_categories_cover_topics(entries: List[Dict[str, Any]]) -> None:
    counts = Counter(e["category"] for e in entries)
    assert set(counts) <= set(CATEGORIES), set(counts) - set(CATEGORIES)
    assert {c: counts[c] for c in CATEGORIES if counts[c] < 3} == {}


def test_answers_have_no_links(entries: List[Dict[str, Any]]) -> None:
    assert [e["id"] for e in entries if re.search(r"https?://", entry_text(e))] == []


def test_terms_consistent(terms: List[Dict[str, Any]], entries: List[Dict[str, Any]]) -> None:
    assert len(terms) >= 70
    assert all(set(t) == {"variant", "standard"} and t["variant"] and t["standard"] for t in terms)
    variants = [t["variant"] for t in terms]
    standards = {t["standard"] for t in terms}
    assert [v for v, n in Counter(variants).items() if n > 1] == []
    assert [t for t in terms if t["variant"] == t["standard"]] == []
    assert sorted(standards & set(variants)) == []
    # The map is general colloquial -> official vocabulary that also serves imported knowledge
    # bases (the Beijing FAQ bench), so a standard need not occur in the seed entries; most must.
    corpus = "\n".join(entry_text(e) for e in entries)
    missing = [s for s in standards if s not in corpus]
    assert len(missing) <= 0.2 * len(standards), sorted(missing)


def test_cases() -> None:
    cases = read_jsonl(SEED_DIR / "cases.jsonl")
    assert len(cases) == 8
    numbers = [c["application_number"] for c in cases]
    assert len(set(numbers)) == len(numbers)
    for case in cases:
        assert set(case) == {"application_number", "service", "applicant", "status", "updated", "note"}
        assert CASE_RE.match(case["application_number"]), case
        assert case["status"] in CASE_STATUSES, case
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", case["updated"]), case
        assert "*" in case["applicant"], "applicant names must be masked"
    needs = [c for c in cases if c["status"] == "需补正材料"]
    assert needs and all(len(c["note"]) >= 6 for c in needs)


def test_gazetteer(entries: List[Dict[str, Any]]) -> None:
    gaz = json.loads((SEED_DIR / "gazetteer.json").read_text(encoding="utf-8"))
    assert set(DISTRICTS) <= set(gaz["districts"])
    assert all(full in gaz["districts"] for full in gaz["district_aliases"].values())
    assert all(alias != full for alias, full in gaz["district_aliases"].items())
    assert {e["department"] for e in entries} <= set(gaz["departments"])
    services = gaz["services"]
    assert len(services) >= 60 and len(set(services)) == len(services)
    assert all(isinstance(s, str) and s.strip() for s in services)


def test_seed_size() -> None:
    total = sum(p.stat().st_size for p in SEED_DIR.iterdir() if p.is_file())
    assert total < 400 * 1024
