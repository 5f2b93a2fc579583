"""jambonz callbacks parsed once at the edge into typed payloads (``callbacks/*`` schemas)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from bot.errors import BadRequest

CALL_SID_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
ENDED = frozenset({"completed", "failed", "busy", "no-answer"})
"""Call statuses after which the call is over."""
MAX_TRANSCRIPT_CHARS = 500


def _call_sid(body: Mapping[str, Any]) -> str:
    sid = body.get("call_sid")
    if not isinstance(sid, str) or not CALL_SID_RE.match(sid):
        raise BadRequest("缺少或无效的 call_sid", "invalid_call_sid")
    return sid


@dataclass(frozen=True)
class CallStart:
    """``session-new``: a call arrived."""

    call_sid: str
    caller: str

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> "CallStart":
        """Raises BadRequest without a usable ``call_sid``."""
        caller = body.get("from")
        return cls(_call_sid(body), caller if isinstance(caller, str) else "")


@dataclass(frozen=True)
class GatherResult:
    """The ``gather`` actionHook: keys, speech, or nothing (``kind`` is a ``CallEvent`` kind)."""

    call_sid: str
    kind: str  # digits | speech | silence
    value: str = ""

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> "GatherResult":
        """Raises BadRequest without a usable ``call_sid`` or with a malformed result."""
        sid = _call_sid(body)
        reason = body.get("reason")
        if reason == "dtmfDetected":
            digits = body.get("digits")
            if not isinstance(digits, str) or not re.fullmatch(r"[0-9*#A-Da-d]{0,32}", digits):
                raise BadRequest("按键内容无效", "invalid_digits")
            return cls(sid, "digits", digits)
        if reason == "speechDetected":
            speech = body.get("speech")
            alternatives = speech.get("alternatives") if isinstance(speech, Mapping) else None
            first = alternatives[0] if isinstance(alternatives, list) and alternatives else None
            text = first.get("transcript") if isinstance(first, Mapping) else None
            if not isinstance(text, str):
                raise BadRequest("语音识别结果无效", "invalid_speech")
            return cls(sid, "speech", text.strip()[:MAX_TRANSCRIPT_CHARS])
        if reason in ("timeout", "error", "stt-low-confidence", None):
            # Nothing usable was heard: for the caller, the same as silence.
            return cls(sid, "silence")
        raise BadRequest(f"未知的 gather 结果：{reason!r}", "invalid_reason")


@dataclass(frozen=True)
class CallStatus:
    """The call-status callback."""

    call_sid: str
    status: str

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> "CallStatus":
        """Raises BadRequest without a usable ``call_sid``."""
        status = body.get("call_status")
        return cls(_call_sid(body), status if isinstance(status, str) else "")

    @property
    def ended(self) -> bool:
        """Whether the call is over."""
        return self.status in ENDED
