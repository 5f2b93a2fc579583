"""Steps of the call flow rendered as jambonz verb arrays (``jambonz-app`` schema)."""
from __future__ import annotations

from typing import Any, Dict, List
from xml.sax.saxutils import escape

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


def verbs(step: Step, hooks: str, transfer_uri: str = "") -> List[Dict[str, Any]]:
    """The verbs for one step; ``hooks`` is the path the action hooks live under."""
    if step.action == "listen":
        gather: Dict[str, Any] = {
            "verb": "gather", "actionHook": f"{hooks}/gather",
            "input": ["digits", "speech"] if step.speech else ["digits"],
            "timeout": NO_INPUT_TIMEOUT_S,
            "listenDuringPrompt": True, "dtmfBargein": True,
            "say": {"text": ssml(step.prompt, step.rate, before_input=True)},
        }
        if step.finish_on_key:
            gather.update(maxDigits=step.max_digits, finishOnKey=step.finish_on_key)
        else:
            gather["numDigits"] = step.max_digits
        if step.speech:
            gather.update(bargein=True, speechTimeout=SPEECH_END_S)
        return [gather]
    out: List[Dict[str, Any]] = [{"verb": "say", "text": ssml(step.prompt, step.rate)}]
    if step.action == "transfer" and transfer_uri:
        out.append({"verb": "sip:refer", "referTo": transfer_uri,
                    "actionHook": f"{hooks}/refer"})
    else:
        out.append({"verb": "hangup"})
    return out
