"""Pluggable speech recognition: a ``Recognizer`` interface, a backend registry and ``none``.

No Mandarin model ships with govbot. Backends register themselves with
:func:`register_backend` and are chosen by ``GOVBOT_ASR_BACKEND``: ``none`` (the default),
``funasr`` and ``vosk-server`` (WebSocket servers) and ``vosk`` (in-process, a model folder).
"""
from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import AsyncIterator, Callable, Dict, List, Mapping

from aiohttp import web

_LOGGER = logging.getLogger(__name__)

ENV_BACKEND = "GOVBOT_ASR_BACKEND"
DEFAULT_BACKEND = "none"
NOT_CONFIGURED_MESSAGE = "语音识别未配置，请直接输入文字，或拨打热线电话。"
UNREACHABLE_MESSAGE = "语音识别服务暂时不可用，请直接输入文字，或拨打热线电话。"
"""What residents see when a configured recognition server cannot be reached."""
# Containers browsers' MediaRecorder and phone gateways produce.
ACCEPTED_TYPES = ("audio/webm", "audio/ogg", "audio/wav", "audio/x-wav", "audio/wave",
                  "audio/mp4", "audio/mpeg", "audio/pcm", "audio/l16")


@dataclass(frozen=True)
class AsrResult:
    """Recognised text with a 0..1 confidence."""

    text: str
    confidence: float = 0.0


class AsrError(Exception):
    """Recognition failed; ``message`` is safe to show to residents."""

    def __init__(self, message: str, code: str = "asr_failed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class AsrNotConfigured(AsrError):
    """No recogniser backend is configured on this server."""

    def __init__(self, message: str = NOT_CONFIGURED_MESSAGE) -> None:
        super().__init__(message, code="asr_not_configured")


class Recognizer(ABC):
    """One speech recogniser backend."""

    name: str = ""

    @property
    def available(self) -> bool:
        """Whether :meth:`recognize` can work at all."""
        return True

    @property
    def status_message(self) -> str:
        """Resident-readable status shown next to the microphone button."""
        return "可以使用语音输入" if self.available else NOT_CONFIGURED_MESSAGE

    @abstractmethod
    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        """Transcribe ``audio`` (container given by ``content_type``) to text.

        Raises:
            AsrError: the audio could not be recognised.
            AsrNotConfigured: the backend has no model.
        """

    async def close(self) -> None:
        """Release resources (models, sockets); default: nothing."""


class NoneRecognizer(Recognizer):
    """The default: no speech recognition; every call says so clearly."""

    name = "none"

    @property
    def available(self) -> bool:
        return False

    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        raise AsrNotConfigured()


BackendFactory = Callable[[Mapping[str, str]], Recognizer]
_BACKENDS: Dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Register ``factory(env) -> Recognizer`` under ``name`` (a later call replaces it)."""
    _BACKENDS[name.strip().lower()] = factory


def backend_names() -> List[str]:
    """Names of all registered backends."""
    return sorted(set(_BACKENDS) | set(BUILT_IN))


BUILT_IN = {"funasr": "voice.asr_funasr", "vosk-server": "voice.asr_vosk",
            "vosk": "voice.asr_vosk"}
"""Backends that ship with govbot, imported when named (they register themselves)."""


def create_recognizer(env: Mapping[str, str]) -> Recognizer:
    """Build the recogniser named by ``GOVBOT_ASR_BACKEND`` (default ``none``).

    Raises:
        ValueError: the name is not registered (a configuration mistake should stop start-up).
    """
    name = (env.get(ENV_BACKEND) or DEFAULT_BACKEND).strip().lower()
    if name in BUILT_IN and name not in _BACKENDS:
        importlib.import_module(BUILT_IN[name])
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown {ENV_BACKEND}={name!r}; known: {', '.join(backend_names())}") from None
    recognizer = factory(env)
    _LOGGER.info("ASR backend %s (available=%s)", name, recognizer.available)
    return recognizer


register_backend("none", lambda env: NoneRecognizer())

ASR = web.AppKey("asr", Recognizer)


def asr_ctx(env: Mapping[str, str]) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context creating the recogniser that ``env`` (the operator's
    ``GOVBOT_ASR_*`` settings) names, and closing it on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        recognizer = create_recognizer(env)
        app[ASR] = recognizer
        yield
        await recognizer.close()

    return ctx
