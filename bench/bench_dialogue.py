"""``make bench-dialogue``: scripted conversations and follow-up phrasings through /api/chat."""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from bench.bench_chat import ROOT, govbot_env, govbot_server, progress, seed_kb
from bench.dialogues import (Outcome, follow_up_dialogues, load_dialogues, pass_rates,
                             play_all)

OUT = ROOT / "bench" / "out" / "dialogue.json"
BASELINE = ROOT / "bench" / "baseline" / "dialogue.json"
TARGET_DEV = 1.0
TARGET_FOLLOW_UPS = 0.95


async def run(url: str) -> Dict[str, List[Outcome]]:
    """Play both sets against a server at ``url``."""
    async with aiohttp.ClientSession() as session:
        async def post(sender: str, text: str) -> Dict[str, Any]:
            async with session.post(f"{url}/api/chat", json={"sender": sender, "text": text}) as r:
                if r.status != 200:
                    return {"messages": [], "error": f"HTTP {r.status}"}
                return await r.json()

        progress("playing the scripted conversations")
        dialogues = await play_all(load_dialogues(), post, tag="dlg")
        progress("playing the follow-up phrasings")
        follow_ups = await play_all(follow_up_dialogues(), post, tag="fu")
    return {"dialogues": dialogues, "follow_ups": follow_ups}


async def serve_and_run() -> Dict[str, List[Outcome]]:
    """Seed a fresh knowledge base, start ``govbot serve`` on it, play, stop."""
    env = govbot_env(Path(tempfile.mkdtemp(prefix="govbot-bench-dialogue-")))
    progress("seeding a fresh knowledge base")
    seed_kb(env)
    server, url = govbot_server(env)
    progress("starting govbot serve")
    await server.start()
    try:
        return await run(url)
    finally:
        server.stop()


def summary(results: Dict[str, List[Outcome]]) -> Dict[str, Any]:
    """Pass rates, and each dialogue's pass or first failure (the baseline keeps these)."""
    return {name: {"rates": pass_rates(outcomes),
                   "outcomes": {o.dialogue.id: o.failure for o in outcomes},
                   "heldout": [o.dialogue.id for o in outcomes if o.dialogue.split == "heldout"]}
            for name, outcomes in results.items()}


def _rate(cell: Optional[Dict[str, int]]) -> str:
    if not cell or not cell["total"]:
        return "–"
    return f"{cell['passed']}/{cell['total']} ({cell['passed'] / cell['total']:.0%})"


def report(current: Dict[str, Any], baseline: Optional[Dict[str, Any]],
           show_heldout: bool = False) -> str:
    """Markdown: pass rates per set, split and behaviour, beside the baseline's."""
    base_note = baseline.get("engine", "stored baseline") if baseline else "no baseline stored"
    lines = [f"| set | part | govbot | baseline ({base_note}) |", "|---|---|---|---|"]
    for name in ("dialogues", "follow_ups"):
        rates = current[name]["rates"]
        old = (baseline or {}).get(name, {}).get("rates", {})
        keys = sorted(rates, key=lambda k: (k.split("/")[0] != "dev", "/" in k, k))
        for key in keys:
            lines.append(f"| {name.replace('_', '-')} | {key} | {_rate(rates[key])} | "
                         f"{_rate(old.get(key))} |")
    failures = [(name, d, why) for name in ("dialogues", "follow_ups")
                for d, why in current[name]["outcomes"].items()
                if why and (show_heldout or d not in current[name].get("heldout", ()))]
    if failures:
        lines += ["", "Failures (dev only unless --show-heldout):"]
        lines += [f"- {name} {d}: {why}" for name, d, why in failures]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description="scripted conversation benchmark")
    parser.add_argument("--url", help="play against a running server instead of starting one")
    parser.add_argument("--record-baseline", metavar="ENGINE",
                        help=f"store this run as the baseline ({BASELINE.relative_to(ROOT)}), "
                             "labelled ENGINE (e.g. a commit)")
    parser.add_argument("--show-heldout", action="store_true",
                        help="also list the held-out failures (not while tuning)")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.url) if args.url else serve_and_run())
    current = summary(results)
    if args.record_baseline:
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text(json.dumps({"engine": args.record_baseline, **current},
                                       ensure_ascii=False, indent=1) + "\n")
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(current, ensure_ascii=False, indent=1))
    print(report(current, baseline, args.show_heldout))
    dev = current["dialogues"]["rates"].get("dev", {"passed": 0, "total": 1})
    fu = current["follow_ups"]["rates"].get("dev", {"passed": 0, "total": 1})
    met = dev["passed"] / dev["total"] >= TARGET_DEV and fu["passed"] / fu["total"] >= TARGET_FOLLOW_UPS
    print(f"\ntargets: dev dialogues {TARGET_DEV:.0%}, dev follow-ups ≥ {TARGET_FOLLOW_UPS:.0%}: "
          f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
