"""The phone bench's measuring parts: RTP read from captured frames, when the answer audio
began after a key, gaps and losses, and sipp's key recordings renumbered for one call."""
from __future__ import annotations

import struct
from pathlib import Path

from bench.rtp_capture import PT_EVENT, PT_PCMA, CallAudio, Packet, calls, parse
from bench.sipp_calls import PCAPS, key_pcap, scenario
from tests.conftest import missing

LOUD, QUIET = 2000, 0


def frame(src: int, dst: int, pt: int, seq: int, payload: bytes) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, pt, seq, 1234, 0x1) + payload
    udp = struct.pack("!HHHH", src, dst, 8 + len(rtp), 0) + rtp
    ip = bytes([0x45, 0]) + struct.pack("!H", 20 + len(udp)) + bytes(5) + bytes([17]) \
        + bytes(10)
    return bytes(12) + b"\x08\x00" + ip + udp


def test_rtp_is_read_from_a_frame_with_its_level() -> None:
    loud = parse(frame(4000, 5000, PT_PCMA, 7, bytes([0x2A]) * 160), 1.5)
    silent = parse(frame(4000, 5000, PT_PCMA, 8, bytes([0xD5]) * 160), 1.52)
    assert (loud.src, loud.dst, loud.pt, loud.seq, loud.t) == (4000, 5000, PT_PCMA, 7, 1.5)
    assert loud.rms > 300 > silent.rms
    assert parse(frame(4000, 5000, 96, 1, b"x" * 10), 0) is None  # not G.711 or an event
    assert parse(b"\x00" * 20, 0) is None


def stream(levels: str, start: float = 0.0) -> list:
    """Bot packets every 20 ms: '#' loud, '.' quiet."""
    return [Packet(start + i * 0.02, 4000, 5000, PT_PCMA, i, LOUD if c == "#" else QUIET)
            for i, c in enumerate(levels)]


def test_the_answer_begins_after_the_prompt_at_the_key_has_gone_quiet() -> None:
    #               key at 0.05 s  ->  prompt stops at 0.1  ->  answer at 0.3
    audio = stream("#####..........####")
    assert CallAudio(5000, audio, [0.05]).answer_delays() == [0.3 - 0.05]
    # a short pause inside the old prompt is not the answer
    audio = stream("###.##.#####....####")
    assert abs(CallAudio(5000, audio, [0.01]).answer_delays()[0] - 0.31) < 1e-9
    assert CallAudio(5000, stream("#########"), [0.01]).answer_delays() == [None]
    # a cached prompt can start 40 ms after the barge-in stopped the old one
    assert abs(CallAudio(5000, stream("#####..####"), [0.01]).answer_delays()[0] - 0.13) < 1e-9
    # one silent packet inside the old prompt is not its end
    assert abs(CallAudio(5000, stream("##.###..####"), [0.01]).answer_delays()[0] - 0.15) < 1e-9


def test_gaps_and_lost_packets() -> None:
    audio = stream("....") + [Packet(0.2, 4000, 5000, PT_PCMA, 6, 0)]
    longest, lost = CallAudio(5000, audio, []).gaps()
    assert abs(longest - 0.14) < 1e-9 and lost == 2


def test_calls_are_split_by_the_callers_media_port_with_their_keys() -> None:
    packets = stream("..##") + [Packet(0.01, 6000, 4000, PT_EVENT, 1, 0),
                                Packet(0.03, 6000, 4000, PT_EVENT, 2, 0),
                                Packet(0.50, 6000, 4000, PT_EVENT, 3, 0)]
    (call,) = calls(packets, [5000])
    assert call.keys == [0.01, 0.50] and len(call.audio) == 4


def test_key_recordings_continue_the_calls_numbering(tmp_path: Path) -> None:
    if not (PCAPS / "dtmf_2833_1.pcap").exists():
        missing("sipp's RFC 4733 recordings (apt-get install sip-tester)")
    firsts = []
    for index, key in enumerate("11*"):
        data = key_pcap(key, index, tmp_path).read_bytes()
        rtp = 24 + 16 + 14 + 20 + 8
        seq, ts, ssrc = struct.unpack_from("!HII", data, rtp + 2)
        firsts.append((seq, ts, ssrc))
    assert len({s for s, _, _ in firsts}) == 3 and len({t for _, t, _ in firsts}) == 3
    assert firsts[0][0] < firsts[1][0] < firsts[2][0] and len({x for _, _, x in firsts}) == 1
    text = scenario([(1000, "1"), (2000, "0")], tmp_path)
    assert text.count("play_pcap_audio") == 2 and '<recv request="REFER"/>' in text
