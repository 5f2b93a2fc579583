"""``make bench-chat``: govbot's /api/chat against bare ``rasa run`` (REST channel) on the same model."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import aiohttp

_LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGETS = {"p50_ratio": 1.2, "throughput_ratio": 1.0, "cold_start_s": 20.0, "rss_mb": 1536.0}


def progress(what: str) -> None:
    """One line on stderr per step, so a run of some minutes shows where it is."""
    print(f"==> {what}", file=sys.stderr, flush=True)


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_turns(shared: Path, limit: int) -> List[str]:
    """Realistic traffic: citizen messages (shared data) mixed with seed-style questions."""
    path = shared / "citizen_messages_beijing.jsonl"
    turns: List[str] = []
    if path.is_file():
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                msg = json.loads(line)["message"].replace("*", "")[:300]
                if msg.strip():
                    turns.append(msg)
                if len(turns) >= limit:
                    break
    seed = ["社保卡丢了怎么补办", "要带什么材料", "公积金租房怎么提取", "2", "在哪里办",
            "老年卡怎么办", "收费吗", "你好", "谢谢"]
    return [t for pair in zip(turns, seed * (len(turns) // len(seed) + 1)) for t in pair] or seed


async def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> float:
    """Seconds until ``url`` answers 200."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"process exited with {proc.returncode}")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def run_load(post, turns: Sequence[str], senders: int, per_sender: int,
                   tag: str = "") -> Dict[str, object]:
    """``senders`` concurrent conversations of ``per_sender`` turns; raw latencies and wall time."""
    latencies: List[float] = []
    errors = 0

    async def conversation(i: int) -> None:
        nonlocal errors
        for j in range(per_sender):
            text = turns[(i * per_sender + j) % len(turns)]
            t0 = time.perf_counter()
            ok = await post(f"bench{tag}-{senders}-{i}", text)
            latencies.append(time.perf_counter() - t0)
            errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(conversation(i) for i in range(senders)))
    return {"latencies": latencies, "errors": errors, "wall": time.perf_counter() - started}


def summarise(runs: Sequence[Dict[str, object]]) -> Dict[str, float]:
    """Pool the rounds of one system at one concurrency: p50, p99, turns/s, errors."""
    latencies = sorted(x for run in runs for x in run["latencies"])
    wall = sum(run["wall"] for run in runs)
    return {"turns": len(latencies), "errors": sum(run["errors"] for run in runs),
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "turns_per_s": len(latencies) / wall}


def govbot_env(work: Path, database_url: str = "", **settings: str) -> Dict[str, str]:
    """The environment of a benchmark's own ``govbot serve``: files under ``work``, its own
    database (SQLite in ``work`` unless ``database_url``), quiet logs, and ``settings``."""
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3",
                GOVBOT_VAR_DIR=str(work),
                GOVBOT_DATABASE_URL=database_url or f"sqlite:///{work / 'govbot.db'}", **settings)


def seed_kb(env: Dict[str, str]) -> None:
    """Seed a fresh knowledge base into the database of ``env``."""
    subprocess.run([sys.executable, "-m", "bot.cli", "kb", "seed"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)


def govbot_cmd(port: int) -> List[str]:
    """``govbot serve`` on ``port``."""
    return [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]


def govbot_server(env: Dict[str, str]) -> Tuple["Server", str]:
    """A ``govbot serve`` on a free port (not started) and its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return Server("govbot", govbot_cmd(port), env, f"{url}/healthz", "", None), url


class Server:
    """A server process under test and the way to post one turn to it."""

    def __init__(self, name: str, cmd: List[str], env: Dict[str, str], ready_url: str,
                 post_url: str, body) -> None:
        self.name, self.cmd, self.env = name, cmd, env
        self.ready_url, self.post_url, self.body = ready_url, post_url, body
        self.proc: subprocess.Popen | None = None
        self.cold_start_s = 0.0

    async def start(self) -> None:
        """Start the process and time it until it answers (the cold start)."""
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.cold_start_s = await wait_ready(self.ready_url, self.proc)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL if it lingers."""
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


async def compare(servers: Sequence[Server], turns: Sequence[str], per_sender: int,
                  rounds: int) -> Dict[str, Dict[str, object]]:
    """Interleave the servers round by round (order alternating), so that both see the same
    machine conditions; each round runs 1 sender, then 50 senders, against one server."""
    raw = {s.name: {"c1": [], "c50": []} for s in servers}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        def poster(server: Server):
            async def post(sender: str, text: str) -> bool:
                async with session.post(server.post_url, json=server.body(sender, text)) as resp:
                    await resp.read()
                    return resp.status == 200
            return post

        for server in servers:
            await run_load(poster(server), turns, 2, 3, tag="warm")
        for r in range(rounds):
            for server in (servers if r % 2 == 0 else list(reversed(servers))):
                post = poster(server)
                progress(f"round {r + 1}/{rounds}: {server.name}, 1 sender")
                raw[server.name]["c1"].append(
                    await run_load(post, turns, 1, per_sender * 4, tag=f"r{r}"))
                progress(f"round {r + 1}/{rounds}: {server.name}, 50 senders")
                raw[server.name]["c50"].append(
                    await run_load(post, turns, 50, per_sender, tag=f"r{r}"))
    return {s.name: {"name": s.name, "cold_start_s": s.cold_start_s, "rss_mb": rss_mb(s.proc.pid),
                     "c1": summarise(raw[s.name]["c1"]), "c50": summarise(raw[s.name]["c50"])}
            for s in servers}


def bare_rasa_files(work: Path, db: str, actions_port: int) -> Tuple[Path, Path]:
    """endpoints.yml (same SQL tracker store type, action server) and credentials.yml (REST)."""
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
                         f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n")
    credentials = work / "credentials.yml"
    credentials.write_text("rest:\n")
    return endpoints, credentials


async def main_async(args: argparse.Namespace) -> Dict[str, object]:
    """Start both servers (cold starts timed one at a time), then measure them interleaved."""
    turns = load_turns(Path(args.data), 400)
    work = Path(tempfile.mkdtemp(prefix="govbot-bench-chat-"))
    env = govbot_env(work)
    progress("seeding a fresh knowledge base")
    seed_kb(env)
    port, actions_port, rasa_port = free_port(), free_port(), free_port()
    endpoints, credentials = bare_rasa_files(work, str(work / "rasa-tracker.db"), actions_port)
    ours = Server("govbot /api/chat", govbot_cmd(port), env,
                  f"http://127.0.0.1:{port}/healthz", f"http://127.0.0.1:{port}/api/chat",
                  lambda s, t: {"sender": s, "text": t})
    bare = Server("bare rasa run (REST)",
                  [sys.executable, "-m", "rasa", "run", "-m", str(ROOT / "models" / "govbot.tar.gz"),
                   "--port", str(rasa_port), "--endpoints", str(endpoints), "--credentials",
                   str(credentials), "--enable-api"], env,
                  f"http://127.0.0.1:{rasa_port}/status",
                  f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
                  lambda s, t: {"sender": s, "message": t})
    actions = Server("action server",
                     [sys.executable, "-m", "bot.cli", "actions", "--port", str(actions_port)], env,
                     f"http://127.0.0.1:{actions_port}/health", "", None)
    try:
        for server in (ours, actions, bare):
            progress(f"starting {server.name}")
            await server.start()
            progress(f"{server.name} ready after {server.cold_start_s:.1f} s")
        result = await compare([ours, bare], turns, args.turns, args.rounds)
    finally:
        for server in (ours, bare, actions):
            server.stop()
    return {"ours": result[ours.name], "bare": result[bare.name], "rounds": args.rounds}


def report(result: Dict[str, object]) -> str:
    """Markdown table with ratios and targets."""
    ours, bare = result["ours"], result["bare"]
    rows = ["| metric | govbot | bare Rasa | ratio | target |", "|---|---|---|---|---|"]
    for level in ("c1", "c50"):
        o, b = ours[level], bare[level]
        rows.append(f"| p50 ms @{level[1:]} | {o['p50_ms']:.1f} | {b['p50_ms']:.1f} | "
                    f"{o['p50_ms'] / b['p50_ms']:.2f} | ≤ {TARGETS['p50_ratio']} |")
        rows.append(f"| p99 ms @{level[1:]} | {o['p99_ms']:.1f} | {b['p99_ms']:.1f} | "
                    f"{o['p99_ms'] / b['p99_ms']:.2f} | |")
        rows.append(f"| turns/s @{level[1:]} | {o['turns_per_s']:.1f} | {b['turns_per_s']:.1f} | "
                    f"{o['turns_per_s'] / b['turns_per_s']:.2f} | ≥ {TARGETS['throughput_ratio']} |")
        rows.append(f"| errors @{level[1:]} | {o['errors']} | {b['errors']} | | 0 |")
    rows.append(f"| cold start s | {ours['cold_start_s']:.1f} | {bare['cold_start_s']:.1f} | | "
                f"≤ {TARGETS['cold_start_s']:.0f} |")
    rows.append(f"| RSS MB | {ours['rss_mb']:.0f} | {bare['rss_mb']:.0f} | | ≤ {TARGETS['rss_mb']:.0f} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description="govbot vs bare Rasa chat benchmark")
    parser.add_argument("--data", default=os.environ.get("GOVBOT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--turns", type=int, default=6, help="turns per sender at 50 senders")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds per server (1 sender: 4x turns; 50 senders)")
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "chat.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
