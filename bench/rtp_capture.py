"""RTP packets on the loopback interface, captured with kernel timestamps, and what a caller
heard in them: when each key went out, when the answer audio began, gaps in the stream.

The capture is a packet socket (root only) that watches, never touches, the calls: the SIP
endpoint and the caller run unchanged.
"""
from __future__ import annotations

import audioop
import socket
import struct
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
PT_PCMA, PT_PCMU, PT_EVENT = 8, 0, 101
VOICED_RMS = 300
"""Decoded level above which a 20 ms packet carries speech (the endpoint's silence is ~8)."""
QUIET_PACKETS = 2
"""Silent packets in a row that end a prompt (a barge-in, or the prompt's own end). After a
barge-in the next prompt can start 40 ms after the old one stopped (a cached prompt), so a
longer run would skip it; a 40 ms dip inside the old prompt in the 80-150 ms before the bot
stops it would be taken for the stop (a bias towards a shorter delay, seldom met)."""
KEY_GAP_S = 0.3
"""Event packets further apart than this are two key presses."""


@dataclass(frozen=True)
class Packet:
    """One RTP packet: when it was sent, between which UDP ports, and its level."""

    t: float
    src: int
    dst: int
    pt: int
    seq: int
    rms: int


class Capture:
    """Captures RTP on ``lo`` in a thread between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self.packets: List[Packet] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, name="rtp-capture", daemon=True)

    def start(self) -> "Capture":
        """Begin capturing."""
        self._thread.start()
        return self

    def stop(self) -> List[Packet]:
        """Stop; the packets captured."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()
        return self.packets

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, ancillary, _, address = self._sock.recvmsg(2048, 64)
            except socket.timeout:
                continue
            if address[2] != PACKET_OUTGOING:  # loopback shows each packet twice
                continue
            stamp = next((struct.unpack("qq", d[:16]) for level, kind, d in ancillary
                          if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS), None)
            packet = parse(data, stamp[0] + stamp[1] / 1e9 if stamp else 0.0)
            if packet is not None:
                self.packets.append(packet)


def parse(frame: bytes, t: float) -> Optional[Packet]:
    """An RTP packet from an Ethernet frame on ``lo`` (None for anything else)."""
    if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    header = (ip[0] & 0x0F) * 4
    if ip[9] != socket.IPPROTO_UDP:
        return None
    src, dst = struct.unpack("!HH", ip[header:header + 4])
    rtp = ip[header + 8:]
    if rtp[0] >> 6 != 2:
        return None
    pt, seq = rtp[1] & 0x7F, struct.unpack("!H", rtp[2:4])[0]
    if pt not in (PT_PCMA, PT_PCMU, PT_EVENT):
        return None
    payload = rtp[12 + 4 * (rtp[0] & 0x0F):]
    if pt == PT_EVENT:
        rms = 0
    else:
        decode = audioop.alaw2lin if pt == PT_PCMA else audioop.ulaw2lin
        rms = audioop.rms(decode(payload, 2), 2) if payload else 0
    return Packet(t, src, dst, pt, seq, rms)


@dataclass
class CallAudio:
    """One call as the capture saw it: the bot's audio to the caller and the caller's keys."""

    caller_port: int
    audio: List[Packet]
    keys: List[float]

    def answer_delays(self) -> List[Optional[float]]:
        """For each key, seconds until the first packet of the audio that answers it: the
        first voiced packet after the prompt playing at the key has gone quiet (None: none)."""
        out: List[Optional[float]] = []
        for key in self.keys:
            quiet, start = 0, None
            for packet in self.audio:
                if packet.t <= key:
                    continue
                if packet.rms < VOICED_RMS:
                    quiet += 1
                elif quiet >= QUIET_PACKETS:
                    start = packet.t
                    break
                else:
                    quiet = 0
            out.append(None if start is None else start - key)
        return out

    def gaps(self) -> Tuple[float, int]:
        """The longest time between two packets of the bot's stream, and the sequence numbers
        missing from it."""
        longest = max((b.t - a.t for a, b in zip(self.audio, self.audio[1:])), default=0.0)
        lost = sum(((b.seq - a.seq) % 65536) - 1 for a, b in zip(self.audio, self.audio[1:])
                   if (b.seq - a.seq) % 65536 != 1)
        return longest, lost


def calls(packets: List[Packet], caller_ports: List[int]) -> List[CallAudio]:
    """Split the capture into calls by the callers' media ports."""
    audio: Dict[int, List[Packet]] = defaultdict(list)
    bot_port: Dict[int, int] = {}
    for p in packets:
        if p.dst in caller_ports and p.pt != PT_EVENT:
            audio[p.dst].append(p)
            bot_port.setdefault(p.src, p.dst)
    events: Dict[int, List[List[float]]] = defaultdict(list)
    for p in packets:
        if p.pt == PT_EVENT and p.dst in bot_port:
            times = events[bot_port[p.dst]]
            if not times or p.t - times[-1][1] > KEY_GAP_S:
                times.append([p.t, p.t])
            else:
                times[-1][1] = p.t
    return [CallAudio(port, audio[port], [first for first, _ in events[port]])
            for port in caller_ports if audio.get(port)]
