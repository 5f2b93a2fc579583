"""Speed and memory of one retrieval system: build time, latency percentiles, throughput, RSS."""
from __future__ import annotations

import gc
import logging
import resource
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence

from knowledge.index import IndexDoc

_LOGGER = logging.getLogger(__name__)


def rss_mb() -> float:
    """Current resident set size in MB (``/proc/self/status``, else peak from getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed(make_index: Callable[[], object], docs: Sequence[IndexDoc], queries: Sequence[str],
          search: Callable[[object, str], object], reps: int = 5, edit: bool = False) -> dict:
    """Build time, query latency percentiles, throughput and RSS growth for one system."""
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    index = make_index()
    index.build(docs)
    build = time.perf_counter() - t0
    cold = []
    for q in queries:  # first pass: caches (segmentation, pinyin) are cold for every query
        s = time.perf_counter()
        search(index, q)
        cold.append((time.perf_counter() - s) * 1000)
    lat, p99s = [], []
    t1 = time.perf_counter()
    for _ in range(reps):
        rep = []
        for q in queries:
            s = time.perf_counter()
            search(index, q)
            rep.append((time.perf_counter() - s) * 1000)
        lat += rep
        p99s.append(sorted(rep)[min(len(rep) - 1, int(0.99 * len(rep)))])
    wall = time.perf_counter() - t1
    cold.sort()
    edits = []
    if edit:  # live edits after the latency passes: replace 100 entries, then remove 20
        for d in list(docs)[:100]:
            s = time.perf_counter()
            index.upsert(IndexDoc(d.id, d.title + "（修订）", d.similar, d.answer, d.category,
                                  d.department))
            edits.append((time.perf_counter() - s) * 1000)
        for d in list(docs)[100:120]:
            s = time.perf_counter()
            index.remove(d.id)
            edits.append((time.perf_counter() - s) * 1000)
    return {"docs": len(docs), "build_s": round(build, 3),
            "p50_ms": round(statistics.median(lat), 3),
            "p99_ms": round(statistics.median(p99s), 3),
            "p99_per_pass_ms": [round(p, 3) for p in p99s],
            "edit_ms_median": round(statistics.median(edits), 3) if edits else None,
            "edit_ms_max": round(max(edits), 3) if edits else None,
            "p99_cold_ms": round(cold[min(len(cold) - 1, int(0.99 * len(cold)))], 3),
            "qps": round(len(lat) / wall, 1), "rss_mb": round(rss_mb(), 1),
            "rss_growth_mb": round(rss_mb() - before, 1), "_index": index}
