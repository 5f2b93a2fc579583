"""Citizen-message usefulness: outcome kinds, label loading and its errors, the shipped labels."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import kb_citizen
from bench.kb_data import REPO
from knowledge.decide import Candidate, SearchResult
from tests.conftest import SHARED_DATA, missing

LABELS = REPO / "bench" / "data" / "kb_citizen_labels.jsonl"


def _result(decision: str, *ids: str) -> SearchResult:
    return SearchResult("q", decision, tuple(Candidate(i, 0.5, i) for i in ids))


@pytest.mark.parametrize("result, kind", [
    (_result("answer", "a", "b"), "answer right"),
    (_result("answer", "b", "a"), "answer wrong"),
    (_result("answer", "x", "a"), "answer unjudged"),
    (_result("clarify", "b", "a"), "clarify useful"),
    (_result("clarify", "b", "c"), "clarify useless"),
    (_result("clarify", "b", "x"), "clarify unjudged"),
    (_result("none", "a"), "none, KB has it"),
])
def test_each_decision_gets_its_kind(result, kind):
    assert kb_citizen.outcome(result, judged={"a", "b", "c"}, relevant={"a"}) == kind


def test_none_is_right_only_when_no_entry_helps():
    assert kb_citizen.outcome(_result("none", "b"), {"b"}, set()) == "none, KB lacks it"
    assert kb_citizen.outcome(_result("none"), {"b"}, {"b"}) == "none, KB has it"


def _files(tmp_path: Path, labels: list[dict]) -> tuple[Path, Path]:
    messages = tmp_path / "messages.jsonl"
    messages.write_text("".join(json.dumps({"id": f"m{i}", "message": f"问题{i}"}) + "\n"
                                for i in range(3)), encoding="utf-8")
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in labels), encoding="utf-8")
    return path, messages


def test_labels_join_the_messages_and_count(tmp_path):
    labels, messages = _files(tmp_path, [
        {"id": "m0", "judged": ["a", "b"], "relevant": ["a"], "why": ""},
        {"id": "m2", "judged": ["b"], "relevant": [], "why": ""}])
    labelled = kb_citizen.load_labelled(labels, messages)
    assert [m["message"] for m in labelled] == ["问题0", "问题2"]
    answers = {"问题0": _result("clarify", "b", "a"), "问题2": _result("answer", "b")}
    res = kb_citizen.usefulness(answers.__getitem__, labelled)
    assert res["messages"] == 2 and res["with_relevant"] == 1
    assert res["outcomes"]["clarify useful"] == 1 and res["outcomes"]["answer wrong"] == 1
    assert sum(res["outcomes"].values()) == 2
    table = "\n".join(kb_citizen.render({"engine": res}))
    assert "| engine | 0 | 1 | 0 | 1 |" in table


@pytest.mark.parametrize("row, error", [
    ({"id": "m9", "judged": [], "relevant": []}, "line 1: no message m9"),
    ({"id": "m1", "judged": ["a"], "relevant": ["b"]}, "line 1: relevant entries not judged"),
])
def test_a_bad_label_names_its_line(tmp_path, row, error):
    labels, messages = _files(tmp_path, [row])
    with pytest.raises(ValueError, match=error):
        kb_citizen.load_labelled(labels, messages)


def test_the_shipped_labels_hold_ids_only_and_match_the_shared_data():
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 240 and len({r["id"] for r in rows}) == 240
    assert all(set(r) == {"id", "judged", "relevant", "why"} for r in rows)  # no message text
    messages, faq = SHARED_DATA / "citizen_messages_beijing.jsonl", SHARED_DATA / "gov_faq_beijing.jsonl"
    if not faq.exists():
        missing(f"shared data absent: {SHARED_DATA} (set GOVBOT_SHARED_DATA)")
    labelled = kb_citizen.load_labelled(LABELS, messages)
    with open(faq, encoding="utf-8") as fh:
        entries = {json.loads(line)["id"] for line in fh}
    assert all(m["judged"] <= entries for m in labelled)
    assert sum(1 for m in labelled if m["relevant"]) >= 30


def test_the_clarify_sweep_trades_clarifies_for_none_and_restores_the_index():
    from knowledge.index import IndexDoc, SearchIndex

    docs = [IndexDoc("fund", "租房可以提取公积金吗", ("租房提取公积金",), "可以，按月提取。"),
            IndexDoc("card", "社保卡丢了怎么补办", ("社保卡补办",), "到服务网点补办。"),
            IndexDoc("move", "户口迁移需要什么材料", ("迁户口材料",), "带上户口簿。")]
    index = SearchIndex(encoder=None)
    index.build(docs)
    labelled = [{"id": "m0", "message": "租房了公积金能不能取出来用", "judged": {"fund", "card", "move"},
                 "relevant": {"fund"}},
                {"id": "m1", "message": "小区门口的路灯坏了找谁", "judged": {"fund", "card", "move"},
                 "relevant": set()}]
    dev = [{"query": "社保卡补办", "gold": ["card"]}, {"query": "火星移民", "gold": []}]
    before = index.config
    rows = kb_citizen.clarify_sweep(index, labelled, dev, values=(0.0, 1.0))
    assert index.config is before
    loose, strict = rows
    assert strict["outcomes"]["none, KB has it"] + strict["outcomes"]["none, KB lacks it"] == 2
    assert loose["outcomes"]["none, KB lacks it"] == 0  # at 0 every message gets candidates
    assert loose["dev_served"] == 1 and strict["dev_served"] == 0 and loose["dev_answerable"] == 1
    assert "| 0 |" in "\n".join(kb_citizen.render_sweep(rows))
