"""Prompt audio requests: signed URLs (a prompt's sentences travel in the URL, so any instance
can speak them), and the SSML of a ``say`` verb read back into sentences and pauses."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Tuple
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.errors import BadRequest, Forbidden
from voice.prompts import PAUSE_BEFORE_INPUT_MS

MAX_SSML_CHARS = 20000

MAX_TOKEN_CHARS = 6000
"""Longer prompts (a whole answer read out) are left to the platform's own speech."""


@dataclass(frozen=True)
class AudioRequest:
    """What one audio URL asks to be spoken."""

    parts: Tuple[str, ...]
    rate: str = "normal"
    before_input: bool = False


def _sign(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()[:32]


def audio_path(request: AudioRequest, secret: str) -> Optional[str]:
    """``<signature>/<token>.wav`` for ``request`` (None when it is too long for a URL)."""
    raw = json.dumps([list(request.parts), request.rate, request.before_input],
                     ensure_ascii=False, separators=(",", ":")).encode()
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if len(token) > MAX_TOKEN_CHARS:
        return None
    return f"{_sign(secret, token)}/{token}.wav"


def parse_audio(signature: str, token: str, secret: str) -> AudioRequest:
    """The request behind a URL.

    Raises:
        Forbidden: The signature does not match (a forged or altered URL).
        BadRequest: A signed token that does not decode (cannot happen unless the secret
            leaked).
    """
    if not hmac.compare_digest(signature.encode(), _sign(secret, token).encode()):
        raise Forbidden("音频地址无效", "bad_signature")
    try:
        parts, rate, before = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(parts, list) and all(isinstance(p, str) for p in parts)
                and rate in ("normal", "slow") and isinstance(before, bool)):
            raise ValueError("bad audio token")
    except (ValueError, TypeError) as exc:
        raise BadRequest("音频地址无效", "bad_audio_token") from exc
    return AudioRequest(tuple(parts), rate, before)


def from_ssml(ssml: str) -> AudioRequest:
    """The sentences, rate and closing pause of a ``say`` verb's SSML (``render.ssml``).

    Raises:
        BadRequest: Not SSML of that shape, or nothing to say.
    """
    try:
        root = fromstring(ssml)
    except (ParseError, DefusedXmlException) as exc:
        raise BadRequest("SSML 无法解析", "invalid_ssml") from exc
    if root.tag != "speak":
        raise BadRequest("SSML 应以 <speak> 开头", "invalid_ssml")
    body, rate = root, "normal"
    if len(root) == 1 and root[0].tag == "prosody" and not (root.text or "").strip():
        body, rate = root[0], "slow" if root[0].get("rate") == "slow" else "normal"
    parts: List[str] = [body.text or ""]
    before_input = False
    for child in body:
        if child.tag != "break":
            raise BadRequest(f"SSML 中不支持 <{child.tag}>", "invalid_ssml")
        before_input = child.get("time") == f"{PAUSE_BEFORE_INPUT_MS}ms"
        parts.append(child.tail or "")
    said = tuple(p.strip() for p in parts if p.strip())
    if not said:
        raise BadRequest("没有要朗读的内容", "empty_text")
    return AudioRequest(said, rate, before_input and not (body[-1].tail or "").strip())


def parse_speech(body: Mapping[str, Any]) -> AudioRequest:
    """``{"text": ssml}`` from the SIP endpoint: the prompt it asks to hear.

    Raises:
        BadRequest: No text, too long, or not the SSML govbot renders.
    """
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("缺少要朗读的内容", "empty_text")
    if len(text) > MAX_SSML_CHARS:
        raise BadRequest(f"朗读内容超过 {MAX_SSML_CHARS} 字", "text_too_long")
    return from_ssml(text)
