"""Small base classes and typed payloads shared by every channel."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple

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


@dataclass(frozen=True)
class Preferences:
    """Per-conversation accessibility preferences that channels honour."""

    rate: str = "normal"  # normal | slow
    volume: str = "normal"  # normal | loud
    large_text: bool = False

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

    def to_dict(self) -> Dict[str, Any]:
        """Serialise as the ``/api/chat`` response body."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "preferences": self.preferences.to_dict(),
        }


class ChannelInput(ABC):
    """The receiving half of a channel, mounted at ``/webhooks/<name>/``."""

    name: ClassVar[str]

    @classmethod
    def from_settings(cls, settings: Any) -> "ChannelInput":
        """Build the channel for the server; override to take settings (hotline, secrets)."""
        return cls()

    @abstractmethod
    def routes(self) -> List[web.RouteDef]:
        """Routes relative to the channel's mount point."""

    async def close(self, app: web.Application) -> None:
        """Called on server shutdown (close sockets, flush queues)."""


class ChannelOutput(ABC):
    """The rendering half of a channel."""

    @abstractmethod
    def render(self, result: TurnResult) -> Any:
        """Render one turn's replies for the channel."""


def messages_from_rasa(raw: Sequence[Mapping[str, Any]]) -> Tuple[BotMessage, ...]:
    """Convert collected Rasa messages into typed ones."""
    return tuple(BotMessage.from_rasa(m) for m in raw)
