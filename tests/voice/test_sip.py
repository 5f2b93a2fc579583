"""The built-in SIP endpoint with a real SIP peer (sipp) against ``govbot serve``: A-law calls
driven by SIP INFO and RFC 4733 keys through the greeting, a menu choice, "0" and REFER;
OPTIONS answered; an unknown codec refused with 488; a caller hanging up mid-prompt; garbage on
the SIP port and on the call's RTP port; and no call, thread or file descriptor left behind."""
from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import LiveServer, missing

pytestmark = pytest.mark.slow

SCENARIOS = Path(__file__).resolve().parents[1] / "fixtures" / "voice" / "sipp"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def phone(trained_model, tmp_path_factory):
    if shutil.which("sipp") is None:
        missing("sipp (apt-get install sip-tester)")
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        missing("pjsua2-python (make install)")
    work = tmp_path_factory.mktemp("sip")
    port = free_udp_port()
    server = LiveServer(work, env={
        "GOVBOT_SIP_LISTEN": f"127.0.0.1:{port}", "GOVBOT_JAMBONZ_USER": "sip",
        "GOVBOT_JAMBONZ_PASSWORD": "s3cret", "GOVBOT_JAMBONZ_SPEECH": "off",
        "GOVBOT_SIP_TRANSFER_URI": "sip:agent@127.0.0.1:5999",
        "GOVBOT_SIP_STATS": str(work / "sip.json")}).start()
    deadline = time.monotonic() + 30
    while not (work / "sip.json").exists() and time.monotonic() < deadline:
        options(port)  # the endpoint writes its counts once it has handled something
        time.sleep(0.5)
    server.sip_port, server.stats = port, work / "sip.json"
    yield server
    assert server.stop() == 0


def options(port: int) -> None:
    """An OPTIONS request (any answer will do; it wakes the endpoint's counters)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto((f"OPTIONS sip:govbot@127.0.0.1:{port} SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKprobe\r\n"
                     "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:govbot@127.0.0.1>\r\n"
                     "Call-ID: probe@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                     "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))


def sipp(phone, scenario: str, calls: int = 1, timeout: int = 40) -> subprocess.CompletedProcess:
    local = free_udp_port()
    return subprocess.run(
        ["sipp", f"127.0.0.1:{phone.sip_port}", "-sf", str(SCENARIOS / scenario),
         "-m", str(calls), "-l", str(calls), "-r", str(calls), "-i", "127.0.0.1",
         "-p", str(local), "-mp", str(free_udp_port()), "-timeout", str(timeout),
         "-nostdin", "-trace_err", "-error_file", str(phone.workdir / f"{scenario}.err")],
        cwd=phone.workdir, capture_output=True, text=True, timeout=timeout + 20)


def counts(phone) -> dict:
    time.sleep(1.0)
    return json.loads(phone.stats.read_text())


def live_calls(phone) -> int:
    url = phone.env["GOVBOT_DATABASE_URL"][len("sqlite:///"):]
    with sqlite3.connect(url) as db:
        return db.execute("select count(*) from voice_calls").fetchone()[0]


def _explain(phone, scenario: str, done: subprocess.CompletedProcess) -> str:
    err = phone.workdir / f"{scenario}.err"
    return (done.stdout[-1500:] + (err.read_text()[-1500:] if err.exists() else ""))


def test_answering_options_without_a_call(phone) -> None:
    assert counts(phone)["calls"] == 0


@pytest.mark.parametrize("scenario", ["keypad_info.xml", "keypad_rfc4733.xml"])
def test_a_keypad_call_reaches_a_person_by_refer(phone, scenario) -> None:
    before = counts(phone)
    done = sipp(phone, scenario)
    assert done.returncode == 0, _explain(phone, scenario, done)
    after = counts(phone)
    assert after["calls"] == 0 and live_calls(phone) == 0
    assert after["fds"] <= before["fds"] + 1 and after["threads"] <= before["threads"] + 8


def test_options_is_answered(phone) -> None:
    done = sipp(phone, "options.xml", timeout=15)
    assert done.returncode == 0, _explain(phone, "options.xml", done)


def test_an_unknown_codec_is_refused_with_488(phone) -> None:
    done = sipp(phone, "unknown_codec.xml", timeout=15)
    assert done.returncode == 0, _explain(phone, "unknown_codec.xml", done)


def test_a_caller_who_hangs_up_mid_prompt_leaves_nothing(phone) -> None:
    done = sipp(phone, "hang_up_mid_prompt.xml", calls=3, timeout=20)
    assert done.returncode == 0, _explain(phone, "hang_up_mid_prompt.xml", done)
    deadline = time.monotonic() + 10
    while live_calls(phone) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert counts(phone)["calls"] == 0 and live_calls(phone) == 0


def test_a_cancel_that_crosses_the_answer_is_answered_and_the_call_ends_cleanly(phone) -> None:
    """govbot answers at once, so a caller's CANCEL meets a call already answered: it gets
    200 (RFC 3261 9.2), the caller ACKs and hangs up, and nothing of the call is left."""
    done = sipp(phone, "cancel.xml", calls=2, timeout=20)
    assert done.returncode == 0, _explain(phone, "cancel.xml", done)
    deadline = time.monotonic() + 10
    while live_calls(phone) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert counts(phone)["calls"] == 0 and live_calls(phone) == 0


def test_garbage_rtp_mid_call_does_not_break_the_call(phone) -> None:
    done = sipp(phone, "garbage_rtp.xml")
    assert done.returncode == 0, _explain(phone, "garbage_rtp.xml", done)
    assert counts(phone)["calls"] == 0


def test_garbage_on_the_sip_port_leaves_the_endpoint_answering(phone) -> None:
    before = counts(phone)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for junk in (b"\x00\xff" * 300, b"INVITE\r\n\r\n", b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n",
                     ("INVITE sip:x SIP/2.0\r\nContent-Length: 99999\r\n\r\n" + "v=0\r\n" * 50
                      ).encode(), bytes(range(256)) * 4):
            sock.sendto(junk, ("127.0.0.1", phone.sip_port))
    done = sipp(phone, "keypad_info.xml")
    assert done.returncode == 0, _explain(phone, "keypad_info.xml", done)
    after = counts(phone)
    assert after["calls"] == 0 and after["fds"] <= before["fds"] + 1
