"""The SIP endpoint's side of the voice webhook: callbacks out, verb arrays and audio in."""
from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from typing import Any, Dict, List, Mapping, Optional

_LOGGER = logging.getLogger(__name__)

HOOKS = "/webhooks/jambonz"
TIMEOUT_S = 10.0


class Webhook:
    """Posts call events to govbot's voice webhook and fetches prompt audio (blocking: it
    runs on the endpoint's worker threads, never on PJSIP's)."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        self.base = base_url.rstrip("/")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._auth = {"Authorization": f"Basic {token}"}

    def _request(self, path: str, body: Optional[bytes] = None,
                 headers: Optional[Dict[str, str]] = None) -> bytes:
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                     headers={**self._auth, **(headers or {})})
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return resp.read()

    def post(self, hook: str, payload: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """One callback (``call``, ``gather``, ``refer``); the verbs that answer it."""
        raw = self._request(f"{HOOKS}/{hook}", json.dumps(payload, ensure_ascii=False).encode(),
                            {"Content-Type": "application/json"})
        verbs = json.loads(raw)
        if not isinstance(verbs, list):
            raise ValueError("the webhook did not answer with a verb array")
        return verbs

    def status(self, payload: Mapping[str, Any]) -> None:
        """The call-status callback (its answer is empty)."""
        self._request(f"{HOOKS}/status", json.dumps(payload).encode(),
                      {"Content-Type": "application/json"})

    def audio(self, speech: Mapping[str, Any]) -> bytes:
        """WAV bytes of a ``play`` (its URL) or a ``say`` (its SSML, spoken by the webhook's
        ``speech`` hook: 8 kHz, the SSML's pauses exact)."""
        if speech.get("url"):
            return self._request(str(speech["url"]))
        body = json.dumps({"text": str(speech.get("text") or "")}, ensure_ascii=False).encode()
        return self._request(f"{HOOKS}/speech", body, {"Content-Type": "application/json"})
