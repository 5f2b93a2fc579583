"""bench.kb_speed: the speed and memory measurement of one system."""
from __future__ import annotations

from bench.kb_speed import rss_mb, speed
from knowledge.index import IndexDoc, SearchIndex

DOCS = [IndexDoc(f"d{i}", f"第{i}个问题：社保卡怎么补办", (), "到网点补办。") for i in range(5)]


def test_speed_reports_each_pass_and_the_live_edits():
    run = speed(SearchIndex, DOCS, ["社保卡丢了", "公积金提取", ""], lambda ix, q: ix.search(q),
                reps=4, edit=True)
    index = run.pop("_index")
    assert len(run["p99_per_pass_ms"]) == 4 and run["docs"] == 5
    assert 0 < run["p50_ms"] <= max(run["p99_per_pass_ms"])
    assert min(run["p99_per_pass_ms"]) <= run["p99_ms"] <= max(run["p99_per_pass_ms"])
    assert run["edit_ms_median"] > 0 and run["qps"] > 0 and run["rss_mb"] > 0
    assert len(index) == 5 and index.search("社保卡怎么补办（修订）").candidates  # edits applied


def test_rss_is_the_resident_size():
    assert 10 < rss_mb() < 100_000
