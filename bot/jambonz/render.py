"""Steps of the call flow rendered as jambonz verb arrays (``jambonz-app`` schema)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional
from xml.sax.saxutils import escape

from bot.jambonz.audio import AudioRequest

from voice.callflow import NO_INPUT_TIMEOUT_S, Step
from voice.prompts import PAUSE_BEFORE_INPUT_MS, PAUSE_BETWEEN_MS, Prompt

SPEECH_END_S = 2.0
"""Silence after speech that ends an utterance (long enough for a slow speaker)."""


def ssml(prompt: Prompt, rate: str = "normal", before_input: bool = False) -> str:
    """SSML: the sentences with pauses between them, slower when the caller asked."""
    body = f'<break time="{PAUSE_BETWEEN_MS}ms"/>'.join(escape(p) for p in prompt.parts)
    if before_input:
        body += f'<break time="{PAUSE_BEFORE_INPUT_MS}ms"/>'
    if rate == "slow":
        body = f'<prosody rate="slow">{body}</prosody>'
    return f"<speak>{body}</speak>"


AudioUrl = Callable[[AudioRequest], Optional[str]]
"""The URL of govbot's own recording of a prompt (None: let the platform speak it)."""


def _speech(step: Step, before_input: bool, audio: Optional[AudioUrl]) -> Dict[str, Any]:
    """``{"url": ...}`` for a ``play`` of govbot's audio, else ``{"text": ssml}`` for ``say``."""
    url = audio(AudioRequest(step.prompt.parts, step.rate, before_input)) if audio else None
    return {"url": url} if url else {"text": ssml(step.prompt, step.rate, before_input)}


def verbs(step: Step, hooks: str, transfer_uri: str = "",
          audio: Optional[AudioUrl] = None) -> List[Dict[str, Any]]:
    """The verbs for one step; ``hooks`` is the path the action hooks live under."""
    if step.action == "listen":
        speech = _speech(step, True, audio)
        gather: Dict[str, Any] = {
            "verb": "gather", "actionHook": f"{hooks}/gather",
            "input": ["digits", "speech"] if step.speech else ["digits"],
            "timeout": NO_INPUT_TIMEOUT_S,
            "listenDuringPrompt": True, "dtmfBargein": True,
            ("play" if "url" in speech else "say"): speech,
        }
        if step.finish_on_key:
            gather.update(maxDigits=step.max_digits, finishOnKey=step.finish_on_key)
        else:
            gather["numDigits"] = step.max_digits
        if step.speech:
            gather.update(bargein=True, speechTimeout=SPEECH_END_S)
        return [gather]
    speech = _speech(step, False, audio)
    out: List[Dict[str, Any]] = [{"verb": "play" if "url" in speech else "say", **speech}]
    if step.action == "transfer" and transfer_uri:
        out.append({"verb": "sip:refer", "referTo": transfer_uri,
                    "actionHook": f"{hooks}/refer"})
    else:
        out.append({"verb": "hangup"})
    return out
