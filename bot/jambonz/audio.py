"""Signed audio URLs: a prompt's sentences travel in the URL, so any instance can speak them."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Optional, Tuple

from bot.errors import BadRequest, Forbidden

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
