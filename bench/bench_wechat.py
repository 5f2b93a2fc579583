"""``make bench-wechat``: real citizen messages as WeChat safe-mode callbacks from 200 residents,
at 1x and 2x the rate one instance sustains; passive within 5 s, pushed, latency, lost, duplicated."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import aiohttp
from aiohttp import web

from bench.bench_chat import free_port, govbot_env, govbot_server, progress
from bench.kb_data import REPO, default_data_dir
from tests.channels.wechat_fakes import APPID, AES_KEY, TOKEN, FakeApi, decrypt_reply, encrypted
from tests.channels.wechat_fakes import message as wechat_message

RESIDENTS = 200
WECHAT_WAIT_S = 5.0  # WeChat gives up on a callback after 5 s and retries, 3 times at most


def load_messages(data: Path, limit: int = 3000) -> List[str]:
    """Citizen messages (the shared data), as residents typed them, trimmed to 600 characters."""
    out: List[str] = []
    with (data / "citizen_messages_beijing.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["message"].replace("*", "").replace("]]>", "").strip()
            if text:
                out.append(text[:600])
            if len(out) >= limit:
                break
    return out


class Recorder(FakeApi):
    """The fake WeChat API, noting when each push arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: Dict[Tuple[str, str], List[float]] = defaultdict(list)

    async def send(self, request: web.Request) -> web.Response:
        count = len(self.pushes)
        response = await super().send(request)
        if len(self.pushes) > count:
            push = self.pushes[-1]
            self.arrivals[(push["touser"], push["text"]["content"])].append(time.monotonic())
        return response


async def deliver(session: aiohttp.ClientSession, url: str, resident: str, text: str,
                  msg_id: str) -> Dict[str, Any]:
    """One message as WeChat sends it: retried with the same MsgId when no answer in 5 s."""
    started = time.monotonic()
    xml = wechat_message("text", sender=resident, msg_id=msg_id, Content=text)
    for attempt in range(4):
        body, query = encrypted(xml, nonce=f"n{msg_id}{attempt}")
        try:
            async with session.post(url, params=query, data=body,
                                    timeout=aiohttp.ClientTimeout(total=WECHAT_WAIT_S)) as resp:
                reply = await resp.text()
                status = resp.status
        except asyncio.TimeoutError:
            continue
        if status != 200:
            return {"resident": resident, "sent": started, "outcome": f"http {status}"}
        if reply == "success":
            return {"id": msg_id, "resident": resident, "sent": started, "outcome": "push",
                    "retries": attempt}
        inner = decrypt_reply(reply, nonce=f"n{msg_id}{attempt}")
        content = inner.split("<Content><![CDATA[")[1].split("]]></Content>")[0]
        return {"id": msg_id, "resident": resident, "sent": started, "outcome": "passive",
                "answered": time.monotonic(), "text": content, "retries": attempt}
    return {"id": msg_id, "resident": resident, "sent": started, "outcome": "no answer",
            "retries": 3}


async def closed_loop(session: aiohttp.ClientSession, url: str, texts: Sequence[str],
                      seconds: float) -> float:
    """Messages per second one instance sustains, 50 residents each waiting for its answer."""
    done = 0
    stop = time.monotonic() + seconds

    async def resident(i: int) -> None:
        nonlocal done
        n = 0
        while time.monotonic() < stop:
            await deliver(session, url, f"oWarm{i}", texts[(i * 31 + n) % len(texts)],
                          f"w{i}-{n}")
            n += 1
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(resident(i) for i in range(50)))
    return done / (time.monotonic() - started)


async def open_loop(session: aiohttp.ClientSession, url: str, texts: Sequence[str], rate: float,
                    seconds: float, tag: str) -> List[Dict[str, Any]]:
    """Messages arriving at ``rate`` per second (Poisson) from ``RESIDENTS`` residents."""
    rng = random.Random(7)
    tasks, n = [], 0
    start = time.monotonic()
    due = start
    while due < start + seconds:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        resident = f"o{tag}{n % RESIDENTS}"
        tasks.append(asyncio.create_task(deliver(session, url, resident,
                                                 texts[(n * 7) % len(texts)], f"{tag}-{n}")))
        n += 1
        due += rng.expovariate(rate)
    return list(await asyncio.gather(*tasks))


def outbox_rows(db: Path, prefix: str) -> List[Tuple[str, str, str]]:
    """(ref, status, text) of the phase's pushes, as govbot's database holds them."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT ref, status, text FROM outbox WHERE channel = 'wechat' AND "
                            "ref LIKE ? ORDER BY id", (prefix + "%",)).fetchall()


def summarise(results: List[Dict[str, Any]], api: Recorder,
              rows: List[Tuple[str, str, str]]) -> Dict[str, Any]:
    """Per message: what reached the resident (the passive reply and the pushes sent for it,
    which the outbox ties to the message's id). Lost: nothing reached them. Duplicated: one
    text of the answer reached them twice."""
    sent: Dict[str, List[str]] = defaultdict(list)
    for ref, status, text in rows:
        if status == "sent":
            sent[ref].append(text)
    latencies: List[float] = []
    lost = duplicated = passive = pushed = 0
    for r in results:
        texts = ([r["text"]] if r["outcome"] == "passive" else []) + sent.get(r["id"], [])
        if not texts:
            lost += 1
            continue
        if len(set(texts)) < len(texts):
            duplicated += 1
        if r["outcome"] == "passive":
            passive += 1
            latencies.append(r["answered"] - r["sent"])
        else:
            pushed += 1
            arrivals = [t for t in api.arrivals.get((r["resident"], texts[0]), [])
                        if t >= r["sent"]]
            latencies.append((min(arrivals) if arrivals else time.monotonic()) - r["sent"])
    latencies.sort()
    total = len(results)

    def pct(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) \
            if latencies else 0.0

    return {"messages": total, "passive_share": round(passive / total, 4),
            "pushed_share": round(pushed / total, 4), "p50_ms": pct(0.5), "p95_ms": pct(0.95),
            "lost": lost, "duplicated": duplicated,
            "retried": sum(1 for r in results if r.get("retries"))}


async def main_async(args: argparse.Namespace) -> Dict[str, Any]:
    texts = load_messages(Path(args.data))
    api = Recorder()
    api_runner = web.AppRunner(api.app())
    await api_runner.setup()
    api_port = free_port()
    await web.TCPSite(api_runner, "127.0.0.1", api_port).start()
    work = Path(tempfile.mkdtemp(prefix="govbot-bench-wechat-"))
    env = govbot_env(work, GOVBOT_WECHAT_TOKEN=TOKEN, GOVBOT_WECHAT_APPID=APPID,
                     GOVBOT_WECHAT_SECRET="s3cret", GOVBOT_WECHAT_AES_KEY=AES_KEY,
                     GOVBOT_WECHAT_API_BASE=f"http://127.0.0.1:{api_port}")
    server, base = govbot_server(env)
    url = f"{base}/webhooks/wechat/"
    report: Dict[str, Any] = {}
    try:
        progress("starting govbot with the WeChat channel")
        await server.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            progress(f"measuring the sustained rate ({args.warm:.0f} s, 50 residents waiting)")
            rate = await closed_loop(session, url, texts, args.warm)
            report["sustained_per_s"] = round(rate, 2)
            for factor in (1, 2):
                progress(f"{factor}x: {rate * factor:.1f} messages/s for {args.seconds:.0f} s "
                         f"from {RESIDENTS} residents")
                results = await open_loop(session, url, texts, rate * factor, args.seconds,
                                          f"x{factor}")
                progress(f"{factor}x: waiting up to {args.drain:.0f} s for the pushes")
                db, prefix = work / "govbot.db", f"x{factor}-"
                deadline = time.monotonic() + args.drain
                while time.monotonic() < deadline:
                    rows = outbox_rows(db, prefix)
                    if not any(status in ("waiting", "pending") for _, status, _ in rows):
                        break
                    await asyncio.sleep(1.0)
                await asyncio.sleep(3.0)  # a duplicate would be sent now
                report[f"x{factor}"] = summarise(results, api, outbox_rows(db, prefix))
    finally:
        server.stop()
        await api_runner.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return report


def render(report: Dict[str, Any]) -> str:
    lines = [f"Sustained by one instance (50 residents, closed loop): "
             f"{report['sustained_per_s']} messages/s", "",
             "| load | messages | passive within 5 s | pushed | p50 ms | p95 ms | lost | "
             "duplicated | retried by WeChat |", "|---|---|---|---|---|---|---|---|---|"]
    for factor in (1, 2):
        r = report[f"x{factor}"]
        lines.append(f"| {factor}x | {r['messages']} | {100 * r['passive_share']:.1f}% | "
                     f"{100 * r['pushed_share']:.1f}% | {r['p50_ms']} | {r['p95_ms']} | "
                     f"{r['lost']} | {r['duplicated']} | {r['retried']} |")
    lines.append("")
    lines.append("Targets: lost 0, duplicated 0.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--warm", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--drain", type=float, default=240.0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "wechat.json")
    args = parser.parse_args(argv)
    report = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(render(report))
    failed = any(report[f"x{f}"]["lost"] or report[f"x{f}"]["duplicated"] for f in (1, 2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
