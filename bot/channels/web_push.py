"""Staff messages pushed to residents' open chat pages: each page's WebSocket is known by its
conversation, and every instance shows the messages claimed for the pages open on it."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Set

_LOGGER = logging.getLogger(__name__)

PUSH_EVERY_S = 1.0
Send = Callable[[Dict[str, Any]], Awaitable[None]]
STAFF_LABEL = "工作人员"


def push_frame(message_id: int, who: str, text: str) -> Dict[str, Any]:
    """The frame a page shows as a message from staff (or from govbot about the handoff)."""
    return {"type": "push", "id": f"h{message_id}", "who": who,
            "messages": [{"text": f"{STAFF_LABEL}：{text}" if who == "staff" else text,
                          "custom": {"type": "staff" if who == "staff" else "handoff_notice"}}]}


class Pushes:
    """The pages open on this instance, by conversation."""

    def __init__(self) -> None:
        self._pages: Dict[str, Set[Send]] = {}

    def register(self, conversation: str, send: Send) -> None:
        """A page of this conversation is open (sent hello, or a message)."""
        self._pages.setdefault(conversation, set()).add(send)

    def unregister(self, send: Send) -> None:
        """The page closed."""
        for conversation in [c for c, sends in self._pages.items() if send in sends]:
            self._pages[conversation].discard(send)
            if not self._pages[conversation]:
                del self._pages[conversation]

    @property
    def conversations(self) -> List[str]:
        """Conversations with an open page here."""
        return list(self._pages)

    async def push_due(self, runner: Any) -> int:
        """Show the messages due to the pages open here; how many were shown."""
        desk = getattr(runner, "handoffs", None)
        if desk is None or not self._pages:
            return 0
        claimed = await runner.blocking(desk.claim_pushes, "web", self.conversations)
        for conversation, message_id, who, text in claimed:
            for send in list(self._pages.get(conversation, ())):
                await send(push_frame(message_id, who, text))
        return len(claimed)

    @staticmethod
    async def claim_for(runner: Any, conversation: str) -> List[Dict[str, Any]]:
        """The push frames due to one conversation, claimed now: a page that fell back to
        plain HTTP asks for them (``POST /webhooks/web/messages`` with its hello)."""
        desk = getattr(runner, "handoffs", None)
        if desk is None:
            return []
        claimed = await runner.blocking(desk.claim_pushes, "web", [conversation])
        return [push_frame(message_id, who, text) for _, message_id, who, text in claimed]

    async def run(self, runner: Any) -> None:
        """Push forever (the channel's lifecycle cancels it)."""
        while True:
            try:
                await self.push_due(runner)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed round is retried next second
                _LOGGER.warning("pushing staff messages failed", exc_info=True)
            await asyncio.sleep(PUSH_EVERY_S)
