"""The turn runner every channel goes through: namespaced conversations, exactly-once
delivery, one turn at a time per conversation, a person on "0", and bounded metrics."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import (Any, AsyncIterator, Callable, Dict, Iterable, Mapping, Optional, Protocol,
                    Tuple)

from bot import metrics
from bot.channels.base import InboundMessage, Preferences, TurnResult

_LOGGER = logging.getLogger(__name__)

HANDOFF_PAYLOAD = "/request_human"
_HANDOFF_WORDS = frozenset({"0", "人工", "转人工", "轉人工", "人工服务", "人工客服", "转人工服务"})
_TRIM = re.compile(r"[\s。，,.!！?？~～、]+")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
WAIT_POLL_S = 0.2
"""How often a retry polls the database while another instance runs the same message."""
WAIT_LIMIT_S = 90.0
"""How long a retry waits for another worker's reply before it is told to try again."""
ACTIVE_TURNS = 8
"""Dialogue turns in progress at once; more wait their turn. NLU runs on the event loop, so
an unbounded pile of turns under overload would delay every request (a WeChat callback past
its 5 s, a health check) behind their CPU work."""


class DialogueLike(Protocol):
    """What the runner needs from ``bot.dialogue.Dialogue``."""

    async def handle(self, message: InboundMessage) -> TurnResult:
        """Run one turn."""


class Deliveries(Protocol):
    """The exactly-once record (``knowledge.deliveries.DeliveryStore``); blocking calls."""

    def claim(self, channel: str, conversation: str, message_id: str) -> Any: ...
    def finish(self, channel: str, conversation: str, message_id: str,
               reply: Dict[str, Any]) -> None: ...
    def release(self, channel: str, conversation: str, message_id: str) -> None: ...
    def reply(self, channel: str, conversation: str, message_id: str) -> Any: ...


class TurnFailed(Exception):
    """The dialogue failed; the claim was released so that a retry runs the turn again."""


class TurnBusy(Exception):
    """Another worker still runs this message; the caller should retry later."""


@dataclass(frozen=True)
class Turn:
    """One resident message as a channel parsed it.

    ``conversation`` is the channel's own id for the resident; the runner namespaces it by
    channel, so no caller of one channel can address another channel's conversation.
    """

    channel: str
    conversation: str
    text: str
    message_id: Optional[str] = None
    preferences: Optional[Preferences] = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        """The dialogue's conversation id."""
        return f"{self.channel}:{self.conversation}"


@dataclass(frozen=True)
class Delivered:
    """A turn's result; ``duplicate`` when it was the stored reply to a retried message."""

    result: TurnResult
    duplicate: bool = False


def is_handoff_request(text: str) -> bool:
    """"0", "人工", "转人工" (alone, give or take punctuation): a person, from any state."""
    return _TRIM.sub("", text.translate(_FULLWIDTH_DIGITS)) in _HANDOFF_WORDS


class TurnRunner:
    """Created by the server and handed to every channel, as Rasa hands ``on_new_message``."""

    def __init__(self, dialogue: Callable[[], DialogueLike], channels: Iterable[str],
                 deliveries: Optional[Deliveries] = None,
                 executor: Optional[Executor] = None) -> None:
        self._dialogue = dialogue
        self.channels = frozenset(channels)
        self.deliveries = deliveries
        self._executor = executor
        self._inflight: Dict[Tuple[str, str, str], "asyncio.Future[Delivered]"] = {}
        self._locks: Dict[Tuple[str, str], Tuple[asyncio.Lock, list]] = {}
        self._active: Optional[asyncio.Semaphore] = None
        self.turns = 0  # dialogue turns actually run (duplicates excluded)
        self.handoffs: Any = None  # knowledge.handoffs.HandoffDesk: staff hold a conversation
        self.held: Dict[str, int] = {}  # sender -> handoff, as of the last refresh_held()

    async def blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call (a database query) on the server's worker pool."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def refresh_held(self) -> None:
        """Re-read the conversations staff hold (the server does it every second, so a turn
        never waits on the handoffs table, whatever holds a lock on it)."""
        if self.handoffs is not None:
            self.held = await self.blocking(self.handoffs.held)

    @property
    def engine(self) -> Any:
        """The database the deliveries live on, for channels' own tables (WeChat's outbox)."""
        return getattr(self.deliveries, "engine", None)

    async def __call__(self, turn: Turn) -> Delivered:
        """Run ``turn`` once; a retried message id gets the reply already given.

        Raises:
            ValueError: ``turn.channel`` is not a registered channel (a programming error).
            TurnFailed: The dialogue failed; retrying the same message runs it again.
            TurnBusy: Another instance has been running the same message for too long.
        """
        if turn.channel not in self.channels:
            raise ValueError(f"unregistered channel {turn.channel!r}")
        if turn.message_id is None or self.deliveries is None:
            async with self._in_order(turn):
                return Delivered(await self._run(turn))
        key = (turn.channel, turn.conversation, turn.message_id)
        local = self._inflight.get(key)
        if local is not None:  # the same message is running in this process
            return Delivered((await asyncio.shield(local)).result, duplicate=True)
        future: "asyncio.Future[Delivered]" = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "never retrieved"
        self._inflight[key] = future
        try:
            async with self._in_order(turn):
                delivered = await self._deliver_once(turn, key)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(delivered)
        return delivered

    @contextlib.asynccontextmanager
    async def _in_order(self, turn: Turn) -> AsyncIterator[None]:
        """One conversation's messages, one at a time in arrival order (its claim included);
        other conversations run side by side."""
        conv = (turn.channel, turn.conversation)
        lock, users = self._locks.setdefault(conv, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                self._locks.pop(conv, None)

    async def _deliver_once(self, turn: Turn, key: Tuple[str, str, str]) -> Delivered:
        assert self.deliveries is not None
        deadline = time.monotonic() + WAIT_LIMIT_S
        claim = await self.blocking(self.deliveries.claim, *key)
        while claim.state == "pending":  # another instance runs it: wait for its reply
            if time.monotonic() > deadline:
                raise TurnBusy(turn.message_id)
            await asyncio.sleep(WAIT_POLL_S)
            claim = await self.blocking(self.deliveries.reply, *key)
            if claim.state == "new":  # it failed there and was released: run it here
                claim = await self.blocking(self.deliveries.claim, *key)
        if claim.state == "done":
            metrics.DUPLICATES.labels(turn.channel).inc()
            return Delivered(TurnResult.from_dict(claim.reply or {}), duplicate=True)
        try:
            result = await self._run(turn)
        except BaseException:
            await asyncio.shield(self.blocking(self.deliveries.release, *key))
            raise
        await asyncio.shield(self.blocking(self.deliveries.finish, *key, result.to_dict()))
        return Delivered(result)

    async def _run(self, turn: Turn) -> TurnResult:
        """One dialogue turn (the caller holds the conversation's turn); while staff hold
        the conversation, the resident's words go to them and the bot stays quiet."""
        held = self.held.get(turn.sender) if self.handoffs is not None else None
        if held is not None:
            await self.blocking(self.handoffs.record_resident, held, turn.text)
            return TurnResult(messages=())
        text = HANDOFF_PAYLOAD if is_handoff_request(turn.text) else turn.text
        metadata: Dict[str, Any] = dict(turn.metadata)
        if turn.message_id is not None:
            metadata["message_id"] = turn.message_id
        if turn.preferences is not None:
            metadata["preferences"] = turn.preferences.to_dict()
        message = InboundMessage(sender=turn.sender, text=text, channel=turn.channel,
                                 metadata=metadata)
        if self._active is None:
            self._active = asyncio.Semaphore(ACTIVE_TURNS)
        try:
            async with self._active:
                self.turns += 1
                result = await self._dialogue().handle(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged here, reported by the channel
            _LOGGER.exception("%s turn failed for %s", turn.channel, turn.sender)
            metrics.TURN_FAILURES.labels(turn.channel).inc()
            raise TurnFailed(str(exc)) from exc
        count(turn.channel, result)
        return result


_DECISIONS = {"answer": "answer", "guide": "answer", "candidates": "clarify", "none": "none"}


def count(channel: str, result: TurnResult) -> None:
    """Turns, knowledge-base decisions, handoffs and tickets, by registered channel."""
    metrics.TURNS.labels(channel).inc()
    for message in result.messages:
        kind = (message.custom or {}).get("type")
        if kind in _DECISIONS:
            metrics.KB_DECISIONS.labels(channel, _DECISIONS[kind]).inc()
        elif kind == "handoff":
            metrics.HANDOFFS.labels(channel).inc()
        elif kind == "ticket":
            metrics.TICKETS.labels(channel).inc()
