"""Retrieval benchmark pieces: metrics, baselines, synthetic data and the target check."""
from __future__ import annotations

from bench.bench_kb import quality
from bench.kb_baselines import Bm25Baseline, TfidfBaseline, tune_threshold
from bench.kb_data import synthetic_docs
from bench.kb_report import SHIPPED, render, target_rows
from knowledge.decide import Candidate, SearchResult
from knowledge.index import IndexDoc

DOCS = [
    IndexDoc("sb", "社保卡丢了怎么补办", (), "带身份证到银行网点补办。"),
    IndexDoc("gjj", "住房公积金怎么提取", (), "购房、租房、退休可以提取。"),
    IndexDoc("jz", "驾驶证到期怎么换证", (), "到期前九十日内申请换证。"),
]


def _system(answers: dict[str, tuple[str, list[str]]]):
    def search(query: str) -> SearchResult:
        decision, ids = answers[query]
        return SearchResult(query, decision, tuple(Candidate(i, 0.9, i) for i in ids))
    return search


def test_quality_counts_each_outcome():
    queries = [
        {"query": "a", "gold": ["sb"], "style": "x"},       # answered right
        {"query": "b", "gold": ["gjj"], "style": "x"},      # gold second: MRR 1/2, top-1 miss
        {"query": "c", "gold": ["jz"], "style": "y"},       # answered wrong: confident-wrong
        {"query": "d", "gold": [], "style": "none"},        # declined
        {"query": "e", "gold": [], "style": "none"},        # answered: not declined, wrong
    ]
    system = _system({"a": ("answer", ["sb", "gjj"]), "b": ("clarify", ["sb", "gjj"]),
                      "c": ("answer", ["sb"]), "d": ("none", []), "e": ("answer", ["sb"])})
    m = quality(system, queries)
    assert m["top1"] == 1 / 3
    assert m["mrr5"] == (1 + 0.5 + 0) / 3
    assert m["declined"] == 0.5
    assert m["confident_wrong"] == 2 / 5
    assert m["answered_right"] == 1 / 3
    assert m["per_style"] == {"none": 0.5, "x": 0.5, "y": 0.0}
    assert m["per_style_answered"] == {"x": 0.5, "y": 0.0}
    assert m["per_style_wrong"] == {"none": 1, "x": 0, "y": 1}


def test_baselines_rank_titles_and_tune_a_threshold():
    dev = [{"query": "社保卡丢了", "gold": ["sb"]}, {"query": "公积金提取", "gold": ["gjj"]},
           {"query": "护照怎么办", "gold": []}]
    for cls in (Bm25Baseline, TfidfBaseline):
        base = cls()
        base.build(DOCS)
        assert base.search("公积金怎么提取").candidates[0].id == "gjj"
        threshold = tune_threshold(base, dev)
        assert base.search("社保卡丢了").decision == "answer"
        assert threshold <= base.search("社保卡丢了").candidates[0].score


def test_synthetic_docs_scale_up_with_unique_ids():
    big = synthetic_docs(DOCS, 50)
    assert len(big) == 50 and len({d.id for d in big}) == 50
    assert big[:3] == DOCS


def test_targets_and_report():
    good = {"top1": 0.95, "mrr5": 0.97, "declined": 0.95, "confident_wrong": 0.01,
            "answered_right": 0.6, "per_style": {}}
    report = {"quality": {SHIPPED: {"dev": good, "test": dict(good, top1=0.9)}},
              "matching": {"lcqmc_test": 0.81},
              "speed": [{"system": f"{SHIPPED} (first build)", "docs": 2080, "build_s": 6.0,
                         "p50_ms": 4, "p99_ms": 9.5, "p99_cold_ms": 12, "qps": 200,
                         "rss_mb": 500, "rss_growth_mb": 100,
                         "p99_per_pass_ms": [9.1, 9.5, 12.25, 8.0, 9.6]}]}
    rows = {name: ok for name, _, _, ok in target_rows(report)}
    assert rows["top-1 (dev)"] and not rows["top-1 (test)"]
    assert rows["LCQMC test accuracy"]
    assert rows[f"p99 @2080 ({SHIPPED} (first build))"]
    assert not rows[f"build @2080 ({SHIPPED} (first build); after the process warm-up)"]
    text = render(report)
    assert "| top-1 (test) ≥ 94% | 90.00% | NO |" in text
    assert "| answered right (direct) (dev) ≥ 80% | 60.00% | NO |" in text
    assert "| 4 | 9.5 | 9.1, 9.5, 12.25, 8, 9.6 | 12 |" in text  # every pass is shown
    report["quality"][SHIPPED]["dev"] = dict(good, top1=175 / 187)
    assert "| top-1 (dev) ≥ 94% | 93.58% | NO |" in render(report)
    report["citizen"] = {SHIPPED: {"outcomes": {"clarify useless": 30, "clarify unjudged": 11,
                                                "clarify useful": 22}}}
    rows = {name: ok for name, _, _, ok in target_rows(report)}
    assert not rows["useless clarifications (240 labelled messages)"]
    assert rows["useful clarifications kept"]
