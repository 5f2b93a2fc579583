"""One SIP call: what it is doing (``CallRun``) and its pjsua2 ``Call`` with the prompt player."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

import logging

import pjsua2 as pj

_LOGGER = logging.getLogger(__name__)

if TYPE_CHECKING:
    from voice.sip.endpoint import SipEndpoint


@dataclass
class CallRun:
    """What one call is doing: the verbs left, the prompt playing, the digits gathered."""

    sid: str
    caller: str
    verbs: List[Dict[str, Any]] = field(default_factory=list)
    gather: Optional[Dict[str, Any]] = None
    digits: str = ""
    deadline: float = 0.0  # when silence or a pause in digits ends the gather
    playing: bool = False
    waiting: bool = False  # a webhook request is out
    ended: bool = False
    typeahead: str = ""  # keys pressed before govbot was ready for them
    turn: int = 0  # bumped by every callback: audio for an older turn is dropped


class _Player(pj.AudioMediaPlayer):
    def __init__(self, on_end: Callable[[], None]) -> None:
        super().__init__()
        self._on_end = on_end

    def onEof2(self) -> None:
        self._on_end()


class BotCall(pj.Call):
    """One caller."""

    def __init__(self, endpoint: "SipEndpoint", account: pj.Account, call_id: int) -> None:
        super().__init__(account, call_id)
        self.endpoint = endpoint
        ci = self.getInfo()
        self.run = CallRun(f"sip-{uuid.uuid4().hex}", ci.remoteUri)
        self.media: Optional[pj.AudioMedia] = None
        self.player: Optional[_Player] = None
        self.started = False

    def onCallState(self, prm: Any) -> None:
        state = self.getInfo().state
        if state == pj.PJSIP_INV_STATE_CONFIRMED and not self.started:
            self.started = True
            self.endpoint.submit(self, "call", {"from": self.run.caller, "to": "govbot",
                                                "direction": "inbound",
                                                "call_status": "in-progress"})
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.endpoint.ended(self)

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()  # kept: its media list points into it (SWIG)
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and \
                    media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(i)

    def onDtmfDigit(self, prm: Any) -> None:  # RFC 4733 events and SIP INFO alike
        self.endpoint.digit(self, str(prm.digit))

    def onCallTransferStatus(self, prm: Any) -> None:
        if prm.finalNotify:
            self.endpoint.transferred(self, int(prm.statusCode))

    # media, on the polling thread only
    def play(self, path: Path, on_end: Callable[[], None]) -> None:
        """Play a WAV file to the caller (a file the endpoint wrote)."""
        self.stop()
        if self.media is None:
            on_end()
            return
        player = _Player(on_end)
        player.createPlayer(str(path), pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(self.media)
        self.player = player

    def stop(self) -> None:
        """Stop the prompt (barge-in, or a new prompt)."""
        if self.player is not None and self.media is not None:
            try:
                self.player.stopTransmit(self.media)
            except pj.Error:
                pass
        self.player = None
