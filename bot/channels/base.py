"""Small base classes and typed payloads shared by every channel."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple

from aiohttp import web

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Button:
    """A tappable choice; ``payload`` is sent back as the user's text."""

    title: str
    payload: str

    def to_dict(self) -> Dict[str, str]:
        """Serialise for JSON output."""
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class BotMessage:
    """One bot reply, independent of channel."""

    text: str = ""
    buttons: Tuple[Button, ...] = ()
    custom: Optional[Dict[str, Any]] = None

    @classmethod
    def from_rasa(cls, raw: Mapping[str, Any]) -> "BotMessage":
        """Build from a message collected by Rasa's ``CollectingOutputChannel``."""
        buttons = tuple(
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in (raw.get("buttons") or [])
        )
        custom = raw.get("custom")
        return cls(text=str(raw.get("text") or ""), buttons=buttons,
                   custom=dict(custom) if isinstance(custom, Mapping) else None)

    def to_dict(self) -> Dict[str, Any]:
        """Serialise as ``{"text", "buttons"?, "custom"?}``."""
        out: Dict[str, Any] = {"text": self.text}
        if self.buttons:
            out["buttons"] = [b.to_dict() for b in self.buttons]
        if self.custom:
            out["custom"] = self.custom
        return out

    def plain_text(self) -> str:
        """Rich output falls back to plain text: the text plus numbered choices."""
        lines = [self.text] if self.text else []
        for i, button in enumerate(self.buttons, 1):
            lines.append(f"{i}. {button.title}")
        return "\n".join(lines)


RATES = ("normal", "slow")
VOLUMES = ("normal", "loud")


@dataclass(frozen=True)
class Preferences:
    """Per-conversation accessibility preferences that channels honour."""

    rate: str = "normal"  # normal | slow
    volume: str = "normal"  # normal | loud
    large_text: bool = False

    @classmethod
    def parse(cls, raw: Any) -> "Preferences":
        """Validate preferences from outside (an action's payload, a stored reply).

        Raises:
            ValueError: Not a mapping, an unknown key, or a value out of range.
        """
        if not isinstance(raw, Mapping):
            raise ValueError(f"preferences must be an object, not {type(raw).__name__}")
        unknown = set(raw) - {"rate", "volume", "large_text"}
        if unknown:
            raise ValueError(f"unknown preference keys: {sorted(unknown)}")
        prefs = cls(rate=raw.get("rate", "normal"), volume=raw.get("volume", "normal"),
                    large_text=raw.get("large_text", False))
        if prefs.rate not in RATES or prefs.volume not in VOLUMES or \
                not isinstance(prefs.large_text, bool):
            raise ValueError(f"preference value out of range: {dict(raw)}")
        return prefs

    @classmethod
    def lenient(cls, raw: Any) -> Optional["Preferences"]:
        """A browser's preferences: unknown keys and values fall back to the defaults."""
        if not isinstance(raw, Mapping):
            return None
        return cls(rate=raw["rate"] if raw.get("rate") in RATES else "normal",
                   volume=raw["volume"] if raw.get("volume") in VOLUMES else "normal",
                   large_text=raw.get("large_text") is True)

    def to_dict(self) -> Dict[str, Any]:
        """Serialise for JSON output."""
        return {"rate": self.rate, "volume": self.volume, "large_text": self.large_text}


@dataclass(frozen=True)
class InboundMessage:
    """A resident's message, parsed once at the channel edge."""

    sender: str
    text: str
    channel: str
    metadata: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnResult:
    """Everything one turn produced."""

    messages: Tuple[BotMessage, ...]
    preferences: Preferences = Preferences()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TurnResult":
        """Rebuild a stored ``to_dict`` (a retried message's reply)."""
        prefs = data.get("preferences")
        return cls(messages=messages_from_rasa(data.get("messages") or []),
                   preferences=Preferences.parse(prefs) if prefs else Preferences())

    def to_dict(self) -> Dict[str, Any]:
        """Serialise as the ``/api/chat`` response body."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "preferences": self.preferences.to_dict(),
        }


class ChannelInput(ABC):
    """The receiving half of a channel, mounted as a sub-application at ``/webhooks/<name>/``.

    The server hands each channel the turn runner (``bot.turns.TurnRunner``), as Rasa hands
    its channels ``on_new_message``; the channel parses its protocol into ``bot.turns.Turn``
    and renders what the runner returns.
    """

    name: ClassVar[str]
    runner: Any = None

    @property
    def enabled(self) -> bool:
        """Whether the server mounts it (a channel without its credentials stays off)."""
        return True

    @classmethod
    def from_settings(cls, settings: Any) -> "ChannelInput":
        """Build the channel for the server; override to take settings (hotline, secrets)."""
        return cls()

    @abstractmethod
    def routes(self) -> List[web.RouteDef]:
        """Routes relative to the channel's mount point."""

    def middlewares(self) -> List[Any]:
        """The sub-application's middlewares: errors answered in JSON by default."""
        from bot.errors import error_middleware
        return [error_middleware]

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """Start and stop hooks (``cleanup_ctx``): open listeners, refresh tokens, close."""
        yield

    def subapp(self, runner: Any) -> web.Application:
        """The channel's own sub-application, running its turns through ``runner``."""
        self.runner = runner
        app = web.Application(middlewares=self.middlewares())
        app.add_routes(self.routes())
        app.cleanup_ctx.append(self.lifecycle)
        return app


class ChannelOutput(ABC):
    """The rendering half of a channel."""

    @abstractmethod
    def render(self, result: TurnResult) -> Any:
        """Render one turn's replies for the channel."""


def messages_from_rasa(raw: Sequence[Mapping[str, Any]]) -> Tuple[BotMessage, ...]:
    """Convert collected Rasa messages into typed ones."""
    return tuple(BotMessage.from_rasa(m) for m in raw)
