"""What a caller hears: govbot's SIP endpoint registers with kamailio, baresip calls it through
kamailio with A-law and with μ-law, presses a key, and records the decoded audio; it must be
speech (energy, pauses, a speech-like zero-crossing rate) before and after the key."""
from __future__ import annotations

import audioop
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import wave
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.conftest import LiveServer, missing
from tests.voice.test_sip import free_udp_port

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "voice"
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
BARESIP_MODULES = "/usr/lib/baresip/modules"


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def registrar(tmp_path_factory) -> Iterator[int]:
    if not (shutil.which("kamailio") and Path(KAMAILIO_MODULES).is_dir()):
        missing("kamailio (apt-get install kamailio)")
    work, port = tmp_path_factory.mktemp("kamailio"), free_udp_port()
    cfg = work / "kamailio.cfg"
    cfg.write_text((FIXTURES / "kamailio.cfg").read_text().replace("@PORT@", str(port))
                   .replace("@MODULES@", KAMAILIO_MODULES))
    proc = subprocess.Popen(["kamailio", "-f", str(cfg), "-DD", "-E", "-P", str(work / "pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(1.0)
    assert proc.poll() is None, "kamailio did not start"
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a kamailio worker stuck in its shutdown: end them all
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def phone(trained_model, registrar, tmp_path_factory) -> Iterator[LiveServer]:
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        missing("pjsua2-python (make install)")
    work = tmp_path_factory.mktemp("sip-audio")
    server = LiveServer(work, env={
        "GOVBOT_SIP_LISTEN": f"127.0.0.1:{free_udp_port()}",
        "GOVBOT_SIP_REGISTRAR": f"sip:127.0.0.1:{registrar}",
        "GOVBOT_JAMBONZ_USER": "sip", "GOVBOT_JAMBONZ_PASSWORD": "s3cret",
        "GOVBOT_JAMBONZ_SPEECH": "off", "GOVBOT_SIP_STATS": str(work / "sip.json")}).start()
    deadline = time.monotonic() + 30
    while not (work / "sip.json").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2.0)  # the registration
    yield server
    assert server.stop() == 0


def netstring(command: str, params: str = "") -> bytes:
    body = json.dumps({"command": command, "params": params, "token": command}).encode()
    return str(len(body)).encode() + b":" + body + b","


def call_and_record(registrar: int, work: Path, codec: str, keys: List[str]) -> Path:
    """Dial govbot through kamailio with baresip, press ``keys``, hang up; the decoded audio."""
    if shutil.which("baresip") is None:
        missing("baresip (apt-get install baresip)")
    ctrl, dump = free_tcp_port(), work / "dump"
    dump.mkdir(parents=True, exist_ok=True)
    with wave.open(str(work / "mic.wav"), "wb") as mic:  # the caller says nothing
        mic.setnchannels(1), mic.setsampwidth(2), mic.setframerate(8000)
        mic.writeframes(b"\x00\x00" * 8000 * 30)
    (work / "config").write_text("\n".join([
        "poll_method epoll", f"sip_listen 127.0.0.1:{free_udp_port()}",
        "audio_player aubridge,out", f"audio_source aufile,{work / 'mic.wav'}",
        "audio_alert aubridge,alert", f"module_path {BARESIP_MODULES}", "module sndfile.so",
        "module aubridge.so", f"snd_path {dump}", "module g711.so", "module aufile.so",
        "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
        f"ctrl_tcp_listen 127.0.0.1:{ctrl}", ""]))
    (work / "accounts").write_text(
        f"<sip:caller@127.0.0.1:{registrar}>;regint=0;audio_codecs={codec}\n")
    proc = subprocess.Popen(["baresip", "-f", str(work)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    try:
        time.sleep(1.5)
        with socket.create_connection(("127.0.0.1", ctrl), timeout=5) as sock:
            sock.sendall(netstring("dial", f"sip:govbot@127.0.0.1:{registrar}"))
            time.sleep(7.0)  # the greeting
            for key in keys:
                sock.sendall(netstring("sndcode", key))
                time.sleep(5.0)
            sock.sendall(netstring("hangup"))
            time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    (heard,) = dump.glob("*-dec.wav")
    return heard


def windows(path: Path) -> List[tuple]:
    """(rms, zero-crossing rate) per 20 ms."""
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)
        data = wav.readframes(wav.getnframes())
    step, out = 320, []
    for i in range(0, len(data) - step, step):
        chunk = data[i:i + step]
        samples = struct.unpack(f"<{step // 2}h", chunk)
        crossings = sum((a < 0) != (b < 0) for a, b in zip(samples, samples[1:]))
        out.append((audioop.rms(chunk, 2), crossings / len(samples)))
    return out


@pytest.mark.parametrize("codec", ["PCMA", "PCMU"])
def test_the_caller_hears_speech_before_and_after_a_key(phone, registrar, tmp_path,
                                                         codec) -> None:
    heard = windows(call_and_record(registrar, tmp_path, codec, ["1"]))
    assert len(heard) * 0.02 > 10  # the whole call was recorded
    voiced = [(r, z) for r, z in heard if r > 300]
    assert 0.3 < len(voiced) / len(heard) < 0.98  # speech, with pauses between sentences
    zcr = sorted(z for _, z in voiced)[len(voiced) // 2]
    assert zcr < 0.35  # speech, not noise (white noise crosses zero at about half the samples)
    greeting, after_key = heard[: int(7 / 0.02)], heard[-int(4 / 0.02):]
    assert sum(r > 300 for r, _ in greeting) * 0.02 > 3  # seconds of greeting speech
    assert sum(r > 300 for r, _ in after_key) * 0.02 > 1.5  # the menu the key chose
