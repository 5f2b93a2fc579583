"""The console bench's report: each page's p95 beside the baseline's, the ratio, the target."""
from __future__ import annotations

from bench.bench_console import TARGET_P95_MS, pages, report


def test_the_report_marks_pages_over_the_target() -> None:
    result = {"baseline": {"entries": {"p50_ms": 10.0, "p95_ms": 20.0}},
              "large": {"entries": {"p50_ms": 50.0, "p95_ms": 60.0},
                        "try": {"p50_ms": 150.0, "p95_ms": TARGET_P95_MS + 1}}}
    lines = report(result).splitlines()
    assert "3.00" in lines[1] and lines[1].rstrip().endswith("ok")
    assert lines[2].rstrip().endswith("MISSED") and "nan" in lines[2]


def test_every_console_page_is_measured() -> None:
    measured = pages("x", "社保")
    for path in ("/admin/entries", "/admin/queue", "/admin/handoffs", "/admin/tickets",
                 "/admin/dashboard", "/admin/confusable", "/admin/try"):
        assert any(p.startswith(path) for p in measured.values()), path
