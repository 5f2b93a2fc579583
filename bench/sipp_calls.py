"""sipp calls for ``make bench-phone``: the keys each call presses, as RFC 4733 recordings
renumbered to continue the call, in the test suite's keypad scenario."""
from __future__ import annotations

import random
import re
import socket
import struct
import subprocess
from pathlib import Path
from typing import List, Sequence, Tuple

from bench.bench_chat import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "voice" / "sipp" / "keypad_rfc4733.xml"
PCAPS = Path("/usr/share/sip-tester")


def keys_for(call: int) -> List[Tuple[int, str]]:
    """(pause in ms, key) of one call: a category (during the greeting), an entry, its
    details, "*" to repeat them, then "0" for a person."""
    return [(2500, str(1 + call % 3)), (3000, str(1 + (call // 3) % 3)), (4000, "1"),
            (4000, "*"), (3000, "0")]


def consecutive_udp_ports(n: int) -> int:
    """The first of ``n`` free consecutive loopback UDP ports (for ``GOVBOT_SIP_ENDPOINTS``)."""
    for _ in range(200):
        first = random.randint(20000, 40000)
        socks = []
        try:
            for port in range(first, first + n):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port range")


def free_udp_ports(n: int, step: int = 4) -> List[int]:
    """``n`` free loopback UDP ports, ``step`` apart (sipp uses a few above its media port)."""
    ports: List[int] = []
    while len(ports) < n:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if all(abs(port - p) >= step for p in ports):
            ports.append(port)
    return ports


def key_pcap(key: str, index: int, work: Path) -> Path:
    """sipp's recording of one RFC 4733 key, renumbered as the ``index``-th key of a call.

    Every recording sipp ships has its own fixed sequence numbers and timestamp, so playing
    two of them in one call (or one twice) looks to the receiver like packets from the past
    or a repeat of the last event, which a phone never sends; here each key continues the
    call's sequence numbers and has a timestamp of its own, as a phone's would.
    """
    name = {"*": "star", "#": "pound"}.get(key, key)
    data = bytearray((PCAPS / f"dtmf_2833_{name}.pcap").read_bytes())
    offset, packet = 24, 0
    while offset + 16 <= len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        frame = offset + 16
        ip = frame + 14
        udp = ip + (data[ip] & 0x0F) * 4
        rtp = udp + 8
        seq = struct.unpack_from("!H", data, rtp + 2)[0]
        if packet == 0:
            first = seq
        struct.pack_into("!HII", data, rtp + 2, (1000 + index * 16 + seq - first) % 65536,
                         8000 * (10 + index * 20), 0x60B0B07)
        struct.pack_into("!H", data, udp + 6, 0)  # no UDP checksum (allowed over IPv4)
        offset, packet = frame + length, packet + 1
    path = work / f"key-{index}-{name}.pcap"
    path.write_bytes(bytes(data))
    return path


def scenario(keys: Sequence[Tuple[int, str]], work: Path) -> str:
    """The sipp scenario of the test suite's keypad call, with these keys."""
    text = FIXTURE.read_text()
    pressed = "".join(
        f'  <pause milliseconds="{pause}"/>\n  <nop>\n    <action>\n      <exec play_pcap_audio='
        f'"{key_pcap(key, i, work)}"/>\n    </action>\n  </nop>\n'
        for i, (pause, key) in enumerate(keys))
    text, n = re.subn(r"  <pause milliseconds=.*?(?=  <recv request=\"REFER\"/>)", pressed,
                      text, count=1, flags=re.S)
    assert n == 1, "the keypad scenario changed shape"
    return text


def sipp(target: int, scenario_file: Path, media_port: int, work: Path) -> subprocess.Popen:
    """One sipp call to the endpoint on ``target``."""
    return subprocess.Popen(
        ["sipp", f"127.0.0.1:{target}", "-sf", str(scenario_file), "-m", "1", "-l", "1",
         "-i", "127.0.0.1", "-p", str(free_udp_ports(1)[0]), "-mp", str(media_port),
         "-timeout", "90", "-nostdin", "-trace_err",
         "-error_file", str(work / f"sipp-{media_port}.err")],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
