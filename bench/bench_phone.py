"""``make bench-phone``: the phone line as callers meet it, with sipp as the caller.

It starts ``govbot serve`` with its SIP endpoints (ASR off), watches the calls' RTP on the
loopback interface, and reports: the time from each key press to the first packet of the
audio that answers it (p50, p95; target p95 <= 300 ms), for single calls and for 20 calls at
once; the gaps in the bot's audio stream under that load (target: none over 40 ms); and, from
the synthesised audio itself, the TTS real-time factor and the speech rate in 汉字 a minute in
normal and slow mode. A repeated prompt ("*", served from the TTS cache) is the baseline that
the other keys are compared with.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.bench_chat import OUT, ROOT, free_port, govbot_cmd, govbot_env, progress, seed_kb
from bench.phone_audio import speech_figures
from bench.rtp_capture import Capture, CallAudio, calls
from bench.sipp_calls import consecutive_udp_ports, free_udp_ports, keys_for, scenario, sipp

ENDPOINTS, CALLS_EACH, SINGLE_CALLS = 5, 4, 10
STAGGER_S = 0.15
"""Between the starts of the concurrent calls: all 20 are up within 3 s and stay up together
for the rest of their 15 s, while their keys fall at different moments, as callers' do."""
TARGETS = {"key_to_audio_p95_ms": 300.0, "max_gap_ms": 40.0, "normal_cpm": (180, 200),
           "slow_cpm": (0, 150)}
KINDS = ("category", "answer", "detail", "repeat", "transfer")


def delays(call: CallAudio, kinds: Sequence[str]) -> Dict[str, List[Optional[float]]]:
    """Each key's delay by kind; None when no answer began before the next key."""
    out: Dict[str, List[Optional[float]]] = {k: [] for k in kinds}
    found = call.answer_delays()
    ends = call.keys[1:] + [float("inf")]
    for kind, key, delay, end in zip(kinds, call.keys, found, ends):
        out[kind].append(delay if delay is not None and key + delay < end else None)
    return out


def per_call(call: CallAudio) -> Dict[str, Optional[float]]:
    """One call's delays in ms by key kind (for reading a run's outliers)."""
    return {kind: None if d is None else round(d * 1000, 1)
            for kind, d in zip(KINDS, call.answer_delays())}


def percentiles(values: Sequence[Optional[float]]) -> Dict[str, Any]:
    """p50 and p95 in ms of the delays found, with how many keys got no answer."""
    got = sorted(v * 1000 for v in values if v is not None)
    if not got:
        return {"n": len(values), "missing": len(values)}
    p95 = got[min(len(got) - 1, int(round(0.95 * (len(got) - 1))))]
    return {"n": len(values), "missing": len(values) - len(got),
            "p50_ms": round(statistics.median(got), 1), "p95_ms": round(p95, 1)}


def place_calls(endpoints: Sequence[int], per_endpoint: int, work: Path,
                numbers: Sequence[int]) -> Tuple[List[CallAudio], List[int]]:
    """Place calls (``per_endpoint`` at once on each endpoint, all together) while capturing;
    the calls' audio and the sipp exit codes."""
    ports = free_udp_ports(len(endpoints) * per_endpoint)
    capture = Capture().start()
    procs = []
    files = []
    for i in range(len(ports)):  # written before any call starts: sipp reads them mid-call
        number = numbers[i % len(numbers)]
        (work / f"call-{number}").mkdir(exist_ok=True)
        path = work / f"call-{number}" / "scenario.xml"
        path.write_text(scenario(keys_for(number), path.parent))
        files.append(path)
    for i, (port, path) in enumerate(zip(ports, files)):
        if i:
            time.sleep(STAGGER_S)  # calls overlap, but their keys are not pressed in unison
        procs.append(sipp(endpoints[i // per_endpoint], path, port, work))
    codes = [p.wait(timeout=120) for p in procs]
    time.sleep(0.5)
    return calls(capture.stop(), ports), codes


def run_calls(first_port: int, work: Path) -> Dict[str, Any]:
    """Single calls one after another, then ``ENDPOINTS * CALLS_EACH`` at once."""
    single: Dict[str, List[Optional[float]]] = {k: [] for k in KINDS}
    single_calls: List[Dict[str, Optional[float]]] = []
    codes: List[int] = []
    for number in range(SINGLE_CALLS):
        progress(f"single call {number + 1}/{SINGLE_CALLS}")
        heard, got = place_calls([first_port], 1, work, [number])
        codes += got
        for call in heard:
            single_calls.append(per_call(call))
            for kind, values in delays(call, KINDS).items():
                single[kind].extend(values)
    progress(f"{ENDPOINTS * CALLS_EACH} calls at once")
    endpoints = [first_port + i for i in range(ENDPOINTS)]
    heard, got = place_calls(endpoints, CALLS_EACH, work, list(range(ENDPOINTS * CALLS_EACH)))
    together: Dict[str, List[Optional[float]]] = {k: [] for k in KINDS}
    for call in heard:
        for kind, values in delays(call, KINDS).items():
            together[kind].extend(values)
    gaps = [call.gaps() for call in heard]
    return {
        "per_call_ms": {"single": single_calls, "concurrent": [per_call(c) for c in heard]},
        "single": {"all": percentiles([v for vs in single.values() for v in vs]),
                   **{k: percentiles(v) for k, v in single.items()}},
        "concurrent": {"calls": len(heard), "sipp_failed": sum(c != 0 for c in got),
                       "all": percentiles([v for vs in together.values() for v in vs]),
                       **{k: percentiles(v) for k, v in together.items()},
                       "max_gap_ms": round(max((g for g, _ in gaps), default=0) * 1000, 1),
                       "gaps_over_40ms": sum(g > 0.04 for g, _ in gaps),
                       "lost_packets": sum(lost for _, lost in gaps)},
        "single_sipp_failed": sum(c != 0 for c in codes)}


def ready(url: str) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def serve(work: Path, first_port: int) -> subprocess.Popen:
    """Seed a knowledge base and start ``govbot serve`` with its SIP endpoints."""
    env = govbot_env(work, GOVBOT_SIP_LISTEN=f"127.0.0.1:{first_port}",
                     GOVBOT_SIP_ENDPOINTS=str(ENDPOINTS), GOVBOT_JAMBONZ_USER="sip",
                     GOVBOT_JAMBONZ_PASSWORD="bench", GOVBOT_JAMBONZ_SPEECH="off",
                     GOVBOT_SIP_TRANSFER_URI="sip:agent@127.0.0.1:5999",
                     GOVBOT_SIP_STATS=str(work / "sip.json"))
    seed_kb(env)
    port = free_port()
    proc = subprocess.Popen(govbot_cmd(port), cwd=ROOT, env=env, start_new_session=True,
                            stdout=(work / "server.log").open("wb"), stderr=subprocess.STDOUT)
    stats = [work / "sip.json"] + [work / f"sip.json.{i}" for i in range(1, ENDPOINTS)]
    deadline = time.monotonic() + 180
    while not (all(s.exists() for s in stats) and ready(f"http://127.0.0.1:{port}/healthz")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("govbot serve did not start its SIP endpoints: "
                               + (work / "server.log").read_text()[-2000:])
        time.sleep(0.5)
    return proc


def report(result: Dict[str, Any]) -> str:
    """The figures as a table."""
    rows = [("measure", "value", "target")]
    for where in ("single", "concurrent"):
        part = result["calls"][where]
        for kind in ("all",) + KINDS:
            cell = part[kind]
            rows.append((f"{where}: key to answer audio, {kind} (n={cell['n']})",
                         f"p50 {cell.get('p50_ms', '-')} ms, p95 {cell.get('p95_ms', '-')} ms"
                         + (f", {cell['missing']} without audio" if cell["missing"] else ""),
                         "p95 <= 300 ms" if kind == "all" else ""))
    single = result["calls"]["single"]
    if single["repeat"].get("p50_ms") and single["all"].get("p50_ms"):
        rows.append(("single: p50 all keys / p50 repeat (cached prompt)",
                     f"{single['all']['p50_ms'] / single['repeat']['p50_ms']:.2f}", ""))
    both = result["calls"]["concurrent"]
    rows.append((f"concurrent: longest gap in the bot's audio ({both['calls']} calls)",
                 f"{both['max_gap_ms']} ms ({both['gaps_over_40ms']} calls over 40 ms, "
                 f"{both['lost_packets']} packets lost)", "<= 40 ms"))
    speech = result["speech"]
    rows.append(("TTS real-time factor (synthesis time / audio time)",
                 f"{speech['rtf']:.3f}", "< 1"))
    rows.append(("speech rate, normal", f"{speech['normal_cpm']:.0f} 汉字/min", "180-200"))
    rows.append(("speech rate, slow", f"{speech['slow_cpm']:.0f} 汉字/min", "<= 150"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:<52}  {c}" for a, b, c in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    for tool in ("sipp",):
        if shutil.which(tool) is None:
            print("bench-phone needs sipp (apt-get install sip-tester)", file=sys.stderr)
            return 2
    try:
        import pjsua2  # noqa: F401
        Capture().stop()
    except ImportError:
        print("bench-phone needs pjsua2-python (make install)", file=sys.stderr)
        return 2
    except PermissionError:
        print("bench-phone watches RTP on the loopback interface: run it as root "
              "(or with CAP_NET_RAW)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="govbot-bench-phone-"))
    first = consecutive_udp_ports(ENDPOINTS)
    progress("measuring speech from the TTS worker")
    result: Dict[str, Any] = {"speech": asyncio.run(speech_figures())}
    progress("starting govbot serve with its SIP endpoints")
    proc = serve(work, first)
    try:
        result["calls"] = run_calls(first, work)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    OUT.mkdir(exist_ok=True)
    (OUT / "phone.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
