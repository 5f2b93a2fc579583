"""``make bench-console``: the staff console's pages on ``govbot serve`` with 20,000 entries.

Two servers run one after the other, each with its own SQLite database: the baseline with
the seed knowledge base (about a hundred entries), and the large one with the 2,080 Beijing
FAQ entries scaled up to 20,000 (``bench.kb_data.synthetic_docs``), a full unanswered queue,
a month of questions and open handoffs and tickets. A signed-in session requests every
page in turn; each page's p50 and p95 are reported, with the ratio of the large server's p95
to the baseline's. Target: p95 under 200 ms on every page with 20,000 entries.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import aiohttp

from bench.bench_chat import OUT, ROOT, govbot_env, govbot_server, progress

PASSWORD = "bench password 2026"
ROUNDS = 30
TARGET_P95_MS = 200.0
LARGE = 20_000


def pages(sample: str, category: str) -> Dict[str, str]:
    """The pages measured, by name."""
    return {"entries": "/admin/entries", "entries p200": "/admin/entries?page=200",
            "search": "/admin/entries?q=%E7%A4%BE%E4%BF%9D",  # 社保
            "category": f"/admin/entries?category={category}&status=published",
            "entry": f"/admin/entries/{sample}", "history": f"/admin/entries/{sample}/history",
            "try": "/admin/try?q=%E7%A4%BE%E4%BF%9D%E5%8D%A1%E4%B8%A2%E4%BA%86",
            "queue": "/admin/queue", "confusable": "/admin/confusable",
            "handoffs": "/admin/handoffs", "tickets": "/admin/tickets",
            "proposals": "/admin/proposals", "terms": "/admin/terms",
            "dashboard": "/admin/dashboard", "audit": "/admin/audit"}


def fill_large(db_url: str, data_dir: Path) -> Dict[str, str]:
    """20,000 entries and a month of activity in a fresh database; a sample entry id."""
    import random

    from bench.kb_data import load_faq_docs, synthetic_docs
    from knowledge.db import make_engine, upgrade
    from knowledge.records import Records
    from knowledge.schema import EntryInput
    from knowledge.service import KnowledgeService
    rng = random.Random(7)
    docs = synthetic_docs(load_faq_docs(data_dir / "gov_faq_beijing.jsonl"), LARGE)
    engine = make_engine(db_url)
    upgrade(engine)
    kb = KnowledgeService(engine)
    kb.save_entries([EntryInput.from_mapping({
        "id": d.id, "question": d.title, "answer": d.answer, "category": d.category or "其他",
        "department": d.department, "similar_questions": list(d.similar)[:20]}) for d in docs],
        "bench")
    records = Records(engine)
    ids = [d.id for d in docs]
    for i in range(300):
        records.log_unanswered(f"没有答案的问题{i % 120}", "web", f"r{i}", None)
    for i in range(5000):
        pair = rng.sample(ids[:400], 3)
        decision = rng.choice(("answer", "answer", "clarify", "none"))
        records.log_question(f"问题{i}", rng.choice(("web", "wechat", "jambonz")), decision,
                             pair[0] if decision == "answer" else "",
                             pair if decision == "clarify" else ())
    for i in range(200):
        records.create_handoff(f"web:wbench{i:08d}", "web", "人工", [{"who": "居民", "text": "人工"}])
        records.create_ticket(f"诉求{i}", "朝阳区", "13800138000", f"web:wbench{i:08d}", "web")
    sample = docs[len(docs) // 2]
    engine.dispose()
    return {"sample": sample.id, "category": sample.category or "其他"}


async def measure(url: str, paths: Dict[str, str], user: str) -> Dict[str, Dict[str, float]]:
    """Sign in, warm each page once, then request every page ``ROUNDS`` times in turn."""
    async with aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get("/admin/login") as resp:
            token = re.search(r'name="csrf" value="([^"]+)"', await resp.text()).group(1)
        async with http.post("/admin/login", data={"csrf": token, "username": user,
                                                   "password": PASSWORD}) as resp:
            assert resp.status == 200, await resp.text()
        times: Dict[str, List[float]] = {name: [] for name in paths}
        for name, path in paths.items():  # warm-up: first loads, caches
            async with http.get(path) as resp:
                assert resp.status == 200, (name, resp.status)
                await resp.read()
        for _ in range(ROUNDS):
            for name, path in paths.items():
                started = time.perf_counter()
                async with http.get(path) as resp:
                    await resp.read()
                    assert resp.status == 200, (name, resp.status)
                times[name].append((time.perf_counter() - started) * 1000)
    out = {}
    for name, values in times.items():
        values.sort()
        out[name] = {"p50_ms": round(statistics.median(values), 1),
                     "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1)}
    return out


async def run_server(work: Path, db_url: str, sample: Dict[str, str]) -> Dict[str, Any]:
    """Start ``govbot serve`` on ``db_url``, make an account, measure, stop."""
    env = govbot_env(work, db_url)
    made = subprocess.run([sys.executable, "-m", "bot.cli", "admin", "create-user", "bench",
                           "--role", "admin", "--password-stdin"], input=PASSWORD + "\n",
                          text=True, cwd=ROOT, env=env, capture_output=True)
    if made.returncode != 0:
        raise RuntimeError(made.stderr)
    server, url = govbot_server(env)
    await server.start()
    try:
        return await measure(url,
                             pages(sample["sample"], sample["category"]), "bench")
    finally:
        server.stop()


def report(result: Dict[str, Any]) -> str:
    """One row per page: both servers' p95 and their ratio."""
    rows = [("page", "seed p95 ms", f"{LARGE} p50 ms", f"{LARGE} p95 ms", "ratio", "target")]
    for name, large in result["large"].items():
        base = result["baseline"].get(name, {})
        ratio = large["p95_ms"] / base["p95_ms"] if base.get("p95_ms") else float("nan")
        rows.append((name, str(base.get("p95_ms", "-")), str(large["p50_ms"]),
                     str(large["p95_ms"]), f"{ratio:.2f}",
                     "ok" if large["p95_ms"] < TARGET_P95_MS else "MISSED"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    from bench.kb_data import default_data_dir
    data_dir = default_data_dir()
    if not (data_dir / "gov_faq_beijing.jsonl").exists():
        print(f"bench-console needs the Beijing FAQ in {data_dir} (GOVBOT_SHARED_DATA)",
              file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="govbot-bench-console-"))
    small = f"sqlite:///{work / 'seed.db'}"
    progress("seeding the baseline knowledge base")
    subprocess.run([sys.executable, "-m", "bot.cli", "kb", "seed"], cwd=ROOT, check=True,
                   env=dict(os.environ, GOVBOT_DATABASE_URL=small), stdout=subprocess.DEVNULL)
    progress(f"building {LARGE} entries with a month of activity")
    large = f"sqlite:///{work / 'large.db'}"
    sample = fill_large(large, data_dir)
    result: Dict[str, Any] = {}
    progress("measuring the console on the seed knowledge base")
    result["baseline"] = asyncio.run(run_server(work / "a", small,
                                                {"sample": "shebao-enroll", "category": "社保"}))
    progress(f"measuring the console on {LARGE} entries")
    result["large"] = asyncio.run(run_server(work / "b", large, sample))
    OUT.mkdir(exist_ok=True)
    (OUT / "console.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
