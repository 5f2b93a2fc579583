"""Retrieval benchmark query sets: the real sets pass the checker, and the checker catches each kind of defect."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest

from bench import check_querysets as cq
from tests.conftest import missing

FAQ = {
    "faq-1": "如何办理社会保障卡？",
    "faq-2": "住房公积金怎么提取？",
    "faq-3": "驾驶证到期怎么换证？",
}


def _faq_file(tmp_path: Path) -> Path:
    path = tmp_path / cq.FAQ_NAME
    with path.open("w", encoding="utf-8") as handle:
        for fid, question in FAQ.items():
            handle.write(json.dumps({"id": fid, "question": question, "answer": "略", "department": "x"},
                                    ensure_ascii=False) + "\n")
    return path


def _write(path: Path, rows: List[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


GOOD_DEV = [
    {"query": "社保卡丢了去哪补", "gold": ["faq-1"], "style": "colloquial"},
    {"query": "嗯那个设保卡怎么半", "gold": ["faq-1"], "style": "asr"},
    {"query": "明天会下雨吗", "gold": [], "style": "colloquial"},
]
GOOD_TEST = [
    {"query": "駕照快過期了怎麼辦", "gold": ["faq-3"], "style": "traditional"},
    {"query": "驾照换证", "gold": ["faq-3"], "style": "keywords"},
    {"query": "股票行情", "gold": [], "style": "keywords"},
]
SMALL = {"dev": (2, 1), "test": (2, 1)}


def test_real_query_sets_pass_the_checker():
    path = cq.faq_path(cq.default_data_dir())
    if not path.is_file():
        missing(f"shared FAQ file absent: {path} (set GOVBOT_SHARED_DATA)")
    sets = {"dev": cq.load_queries(cq.DEV_PATH), "test": cq.load_queries(cq.TEST_PATH)}
    report = cq.validate(sets, cq.load_faq(path))
    assert report.ok, "\n".join(report.errors)
    for name, (min_ans, min_unans) in cq.MINIMUMS.items():
        assert sum(report.counts[name]["answerable"].values()) >= min_ans
        assert sum(report.counts[name]["unanswerable"].values()) >= min_unans
        assert set(report.counts[name]["answerable"]) == set(cq.STYLES)


def test_clean_small_sets_pass():
    report = cq.validate({"dev": GOOD_DEV, "test": GOOD_TEST}, FAQ, minimums=SMALL)
    assert report.ok, report.errors
    assert report.counts["dev"]["answerable"]["asr"] == 1
    assert report.counts["test"]["unanswerable"]["keywords"] == 1


@pytest.mark.parametrize("row, message", [
    ({"query": "社保卡补办", "gold": ["faq-9"], "style": "keywords"}, "not in the FAQ file"),
    ({"query": "如何办理社会保障卡", "gold": ["faq-1"], "style": "colloquial"}, "verbatim"),
    ({"query": "如何辦理社會保障卡?", "gold": ["faq-1"], "style": "traditional"}, "verbatim"),
    ({"query": "社保卡怎么补", "gold": ["faq-1"], "style": "slang"}, "unknown style"),
    ({"query": "嗯，社保卡怎么补？", "gold": ["faq-1"], "style": "asr"}, "punctuation"),
    ({"query": "社保卡丢失以后在网上补办的流程", "gold": ["faq-1"], "style": "keywords"}, "characters"),
    ({"query": "社保卡丢了怎么补", "gold": ["faq-1"], "style": "traditional"}, "no traditional"),
    ({"query": "社保卡补办", "gold": "faq-1", "style": "keywords"}, "list of ids"),
    ({"query": "社保卡补办", "gold": ["faq-1"]}, "exactly the keys"),
])
def test_bad_rows_are_reported(row, message):
    report = cq.validate({"dev": GOOD_DEV + [row], "test": GOOD_TEST}, FAQ, minimums=SMALL)
    assert not report.ok
    assert any(message in error for error in report.errors), report.errors


def test_overlap_between_dev_and_test_is_reported():
    test_rows = GOOD_TEST + [{"query": "社保卡丢了去哪补", "gold": ["faq-1"], "style": "colloquial"}]
    report = cq.validate({"dev": GOOD_DEV, "test": test_rows}, FAQ, minimums=SMALL)
    assert any("share gold ids: faq-1" in e for e in report.errors), report.errors
    assert any("share 1 queries" in e for e in report.errors), report.errors


def test_minimum_counts_and_duplicates_are_reported():
    report = cq.validate({"dev": GOOD_DEV + GOOD_DEV[:1], "test": GOOD_TEST}, FAQ,
                         minimums={"dev": (5, 3), "test": (0, 0)})
    assert any("duplicate query" in e for e in report.errors)
    assert any("need at least 5" in e for e in report.errors)
    assert any("need at least 3" in e for e in report.errors)


def test_main_exit_codes(tmp_path, capsys):
    faq = _faq_file(tmp_path)
    dev = _write(tmp_path / "dev.jsonl", GOOD_DEV)
    test = _write(tmp_path / "test.jsonl", GOOD_TEST)
    with pytest.raises(SystemExit) as missing:
        cq.main(["--data", str(tmp_path / "nowhere"), "--dev", str(dev), "--test", str(test)])
    assert missing.value.code == 2
    # the tiny sets are far below the real minimums, so the run must fail and say why
    with pytest.raises(SystemExit) as failed:
        cq.main(["--data", str(tmp_path), "--dev", str(dev), "--test", str(test)])
    assert failed.value.code == 1
    out = capsys.readouterr().out
    assert "dev answerable: 2 (colloquial 1, long 0, asr 1, traditional 0, keywords 0)" in out
    assert "FAILED" in out
    assert cq.faq_path(faq) == faq and cq.faq_path(tmp_path) == faq


def test_default_data_dir_follows_environment(tmp_path):
    assert cq.default_data_dir({"GOVBOT_SHARED_DATA": str(tmp_path)}) == tmp_path
    assert cq.default_data_dir({}) == cq.ROOT.parent / "shared" / "data"
