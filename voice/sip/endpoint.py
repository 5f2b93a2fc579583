"""The SIP endpoint on PJSIP (pjsua2): answers calls with G.711, plays prompts, collects DTMF
(RFC 4733 or SIP INFO), transfers with REFER, and runs each call by govbot's voice webhook.

PJSIP's media runs on its own clock thread. All pjsua2 calls happen on the one thread that
polls the library (``run``); webhook requests and audio downloads run on worker threads and
hand their results back through a queue, so nothing that waits on the network can stall a
call's audio.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Optional

import pjsua2 as pj

from voice.sip.call import BotCall
from voice.sip.webhook import Webhook

_LOGGER = logging.getLogger(__name__)

CODECS = {"PCMA/8000/1": 255, "PCMU/8000/1": 254}
"""G.711 A-law first (the norm in China), then μ-law; every other codec is off, so an offer
without either is refused with 488."""
INTER_DIGIT_S = 5.0
MAX_CALLS = 4
"""Calls one endpoint holds. With the pjsua2-python 2.15.1 wheel any larger setting still
refuses the fifth concurrent call with 486 (measured with sipp; 3 gives 3), as if it were built
with PJSUA_MAX_CALLS 4."""


class _Account(pj.Account):
    def __init__(self, endpoint: "SipEndpoint") -> None:
        super().__init__()
        self.endpoint = endpoint

    def onIncomingCall(self, prm: Any) -> None:
        call = BotCall(self.endpoint, self, prm.callId)
        self.endpoint.calls[call.run.sid] = call
        answer = pj.CallOpParam()
        answer.statusCode = 200
        try:
            call.answer(answer)
        except pj.Error as exc:  # no common codec: PJSIP has refused the offer (488)
            _LOGGER.info("call refused: %s", exc.reason)
            self.endpoint.calls.pop(call.run.sid, None)


class SipEndpoint:
    """The endpoint: PJSIP set up with a null sound device and G.711 only, one account."""

    def __init__(self, host: str, port: int, webhook: Webhook, workers: int = 8,
                 registrar: str = "", user: str = "govbot", password: str = "",
                 stats_path: Optional[Path] = None) -> None:
        self.webhook, self.stats_path = webhook, stats_path
        self.calls: Dict[str, BotCall] = {}
        self.results: "queue.Queue[tuple]" = queue.Queue()
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="sip-webhook")
        self.audio_dir = Path(tempfile.mkdtemp(prefix="govbot-sip-"))
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.uaConfig.userAgent = "govbot"
        cfg.logConfig.level = cfg.logConfig.consoleLevel = 2
        cfg.medConfig.clockRate = cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.noVad = True
        self.ep.libInit(cfg)
        transport = pj.TransportConfig()
        transport.port, transport.boundAddress = port, host
        self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        for codec in self.ep.codecEnum2():
            self.ep.codecSetPriority(codec.codecId, CODECS.get(codec.codecId, 0))
        acc = pj.AccountConfig()
        acc.idUri = f"sip:{user}@{host}:{port}"
        if registrar:  # the address of record is in the registrar's domain
            acc.idUri = f"sip:{user}@{registrar.split(':', 1)[1]}"
            acc.regConfig.registrarUri = registrar
            acc.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
        self.account = _Account(self)
        self.account.create(acc)
        _LOGGER.info("SIP endpoint on udp:%s:%d", host, port)

    # ------------------------------------------------------------------ loop
    def serve(self, stop: threading.Event) -> None:
        """Poll PJSIP and apply webhook results until ``stop`` is set."""
        counted = 0.0
        try:
            while not stop.is_set():
                self.ep.libHandleEvents(20)
                self._apply_results()
                self._timers()
                if time.monotonic() - counted > 1.0:
                    counted = time.monotonic()
                    self._stats()
        finally:
            self.close()

    def close(self) -> None:
        """Hang up, stop the workers and the library."""
        self.ep.hangupAllCalls()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.calls.clear()
        self.account.shutdown()
        self.ep.libDestroy()

    def _stats(self) -> None:
        if self.stats_path is not None:
            stats = {"calls": len(self.calls), "threads": threading.active_count(),
                     "fds": len(os.listdir("/proc/self/fd"))}
            self.stats_path.write_text(json.dumps(stats))

    # ------------------------------------------------------------- webhook
    def submit(self, call: BotCall, hook: str, payload: Dict[str, Any]) -> None:
        """Post a callback on a worker; its verbs come back through the queue."""
        run = call.run
        run.waiting, run.gather, run.turn = True, None, run.turn + 1
        body = dict(payload, call_sid=run.sid)
        self.pool.submit(self._post, run.sid, hook, body)
        self._stats()

    def _post(self, sid: str, hook: str, body: Dict[str, Any]) -> None:
        try:
            verbs = self.webhook.post(hook, body)
        except Exception as exc:  # noqa: BLE001 -- any failure: the caller hears the hangup
            _LOGGER.warning("webhook %s failed for %s: %s", hook, sid, exc)
            verbs = [{"verb": "hangup"}]
        self.results.put(("verbs", sid, verbs))

    def _fetch(self, sid: str, turn: int, speech: Dict[str, Any], then: str) -> None:
        path = self.audio_dir / f"{sid}-{uuid.uuid4().hex[:8]}.wav"
        try:
            path.write_bytes(self.webhook.audio(speech))
        except Exception as exc:  # noqa: BLE001 -- no audio: carry on silently
            _LOGGER.warning("audio failed for %s: %s", sid, exc)
            path = None
        self.results.put(("audio", sid, (turn, path, then)))

    def _apply_results(self) -> None:
        while True:
            try:
                kind, sid, value = self.results.get_nowait()
            except queue.Empty:
                return
            call = self.calls.get(sid)
            stale = kind in ("audio", "eof") and call is not None and value[0] != call.run.turn
            if call is None or call.run.ended or stale:
                if kind == "audio" and value[1] is not None:
                    value[1].unlink(missing_ok=True)
                continue
            if kind == "verbs":
                call.run.waiting, call.run.verbs = False, list(value)
                self._next(call)
            elif kind == "audio":
                self._play(call, *value[1:])
            elif kind == "eof":
                self._after_prompt(call, value[1])

    # ------------------------------------------------------------- verbs
    def _next(self, call: BotCall) -> None:
        """Carry out the call's next verb."""
        run = call.run
        if not run.verbs:
            self._hangup(call)
            return
        verb = run.verbs.pop(0)
        name = verb.get("verb")
        if name == "gather":
            run.gather, run.digits, run.deadline = verb, "", 0.0
            speech = verb.get("play") or verb.get("say")
            if run.typeahead:  # the caller did not wait for the prompt
                keys, run.typeahead = run.typeahead, ""
                for key in keys:
                    self.digit(call, key)
                return
            if speech:
                self.pool.submit(self._fetch, run.sid, run.turn, dict(speech), "gather")
            else:
                self._after_prompt(call, "gather")
        elif name in ("say", "play"):
            self.pool.submit(self._fetch, run.sid, run.turn, dict(verb), "next")
        elif name == "sip:refer":
            op = pj.CallOpParam(True)
            try:
                call.xfer(str(verb.get("referTo", "")), op)
            except pj.Error as exc:
                _LOGGER.warning("REFER failed for %s: %s", run.sid, exc.reason)
                self.submit(call, "refer", {"refer_status": 500})
        elif name == "hangup":
            self._hangup(call)
        else:  # a verb this endpoint does not carry out: skip it
            _LOGGER.warning("skipping verb %r", name)
            self._next(call)

    def _play(self, call: BotCall, path: Optional[Path], then: str) -> None:
        run = call.run
        if path is None:
            self._after_prompt(call, then)
            return
        _LOGGER.info("call %s: playing %s (media %s)", run.sid, path.name, call.media is not None)
        run.playing = True
        turn = run.turn
        call.play(path, lambda: self.results.put(("eof", run.sid, (turn, then))))
        self._stats()

    def _after_prompt(self, call: BotCall, then: str) -> None:
        run = call.run
        run.playing = False
        call.stop()
        if then == "next" or run.gather is None:
            self._next(call)
        elif not run.deadline:  # the prompt ended: the caller's time to answer starts
            run.deadline = time.monotonic() + float(run.gather.get("timeout") or 8)

    def digit(self, call: BotCall, key: str) -> None:
        """A key from the caller: barge-in, then the gather's rules."""
        run = call.run
        if run.gather is None or run.waiting:
            run.typeahead = (run.typeahead + key)[-32:]
            return
        if run.playing:
            run.playing = False
            call.stop()
        gather = run.gather
        finish = gather.get("finishOnKey")
        if finish and key == finish:
            self._gathered(call, "dtmfDetected", run.digits)
            return
        run.digits += key
        wanted = gather.get("numDigits") or gather.get("maxDigits") or 1
        if len(run.digits) >= int(wanted):
            self._gathered(call, "dtmfDetected", run.digits)
        else:
            run.deadline = time.monotonic() + INTER_DIGIT_S

    def _gathered(self, call: BotCall, reason: str, digits: str = "") -> None:
        body: Dict[str, Any] = {"reason": reason, "call_status": "in-progress"}
        if reason == "dtmfDetected":
            body["digits"] = digits
        self.submit(call, "gather", body)

    def _timers(self) -> None:
        now = time.monotonic()
        for call in list(self.calls.values()):
            run = call.run
            if run.gather is not None and run.deadline and now >= run.deadline and not run.waiting:
                run.deadline = 0.0
                if run.digits:
                    self._gathered(call, "dtmfDetected", run.digits)
                else:
                    self._gathered(call, "timeout")

    def transferred(self, call: BotCall, status: int) -> None:
        """The REFER's outcome: done on success, else the webhook decides."""
        if 200 <= status < 300:
            self._hangup(call)
        else:
            self.submit(call, "refer", {"refer_status": 202, "final_referred_call_status": status})

    def _hangup(self, call: BotCall) -> None:
        if not call.run.ended:
            call.stop()
            try:
                call.hangup(pj.CallOpParam(True))
            except pj.Error:
                pass

    def ended(self, call: BotCall) -> None:
        """The call is over (either side hung up): tell the webhook, forget the call."""
        run = call.run
        run.ended = True
        call.stop()
        self.pool.submit(self._status, run.sid)
        self.calls.pop(run.sid, None)
        for leftover in self.audio_dir.glob(f"{run.sid}-*.wav"):
            leftover.unlink(missing_ok=True)
        self._stats()

    def _status(self, sid: str) -> None:
        try:
            self.webhook.status({"call_sid": sid, "call_status": "completed"})
        except Exception as exc:  # noqa: BLE001 -- the server prunes stale calls anyway
            _LOGGER.warning("status callback failed for %s: %s", sid, exc)
