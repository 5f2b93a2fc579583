"""Exactly-once record of inbound messages, shared by every instance on one database."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from knowledge.db import session_factory
from knowledge.models import Delivery, as_utc, utcnow

_LOGGER = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)
"""A claim older than this whose reply never came (its instance died) may be taken over."""
KEEP_FOR = timedelta(days=2)
"""How long a delivered reply is kept for retries (WeChat retries within 15 s; browsers
re-send after a reconnect)."""

NEW, DONE, PENDING = "new", "done", "pending"


@dataclass(frozen=True)
class Claim:
    """What ``claim`` found: ``new`` (run the turn), ``done`` (with the stored reply) or
    ``pending`` (another worker is running it now)."""

    state: str
    reply: Optional[Dict[str, Any]] = None


class DeliveryStore:
    """Claims, replies and releases keyed by (channel, conversation, message id).

    Every method is blocking: callers on an event loop run them on a worker thread.
    """

    def __init__(self, engine: Engine, stale_after: timedelta = STALE_AFTER) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self._sessions = session_factory(engine)

    def claim(self, channel: str, conversation: str, message_id: str) -> Claim:
        """Claim a message for this worker, or report who has it and what they answered."""
        key = {"channel": channel, "conversation": conversation, "message_id": message_id}
        with self._sessions() as session:
            try:
                session.add(Delivery(**key, status=PENDING, claimed_at=utcnow()))
                session.commit()
                return Claim(NEW)
            except IntegrityError:
                session.rollback()
        return self._existing(key)

    def _existing(self, key: Dict[str, str]) -> Claim:
        with self._sessions() as session:
            row = session.get(Delivery, key)
            if row is None:  # released between our insert and this read: try again
                return self.claim(**key)
            if row.status == DONE:
                return Claim(DONE, row.reply)
            claimed_at = row.claimed_at
            if utcnow() - as_utc(claimed_at) < self.stale_after:
                return Claim(PENDING)
            taken = session.execute(
                update(Delivery).filter_by(**key, status=PENDING, claimed_at=claimed_at)
                .values(claimed_at=utcnow())).rowcount
            session.commit()
        if taken:
            _LOGGER.warning("taking over a stale claim on %s/%s", key["channel"],
                            key["message_id"])
            return Claim(NEW)
        return Claim(PENDING)

    def finish(self, channel: str, conversation: str, message_id: str,
               reply: Dict[str, Any]) -> None:
        """Store the reply of a claimed message."""
        with self._sessions() as session:
            session.execute(update(Delivery).filter_by(
                channel=channel, conversation=conversation, message_id=message_id)
                .values(status=DONE, reply=reply))
            session.commit()

    def release(self, channel: str, conversation: str, message_id: str) -> None:
        """Drop a claim whose turn failed, so that a retry runs it again."""
        with self._sessions() as session:
            session.execute(delete(Delivery).filter_by(
                channel=channel, conversation=conversation, message_id=message_id,
                status=PENDING))
            session.commit()

    def reply(self, channel: str, conversation: str, message_id: str) -> Claim:
        """The current state of a message (``new`` when nobody holds it any more)."""
        with self._sessions() as session:
            row = session.execute(select(Delivery.status, Delivery.reply).filter_by(
                channel=channel, conversation=conversation, message_id=message_id)).first()
        if row is None:
            return Claim(NEW)
        return Claim(row.status, row.reply)

    def last_message_at(self, channel: str, conversation: str) -> Optional[datetime]:
        """When the resident last sent a message on ``channel`` (within ``KEEP_FOR``)."""
        with self._sessions() as session:
            value = session.execute(select(func.max(Delivery.claimed_at)).filter_by(
                channel=channel, conversation=conversation)).scalar()
        return as_utc(value) if value is not None else None

    def prune(self, keep_for: timedelta = KEEP_FOR) -> int:
        """Forget deliveries older than ``keep_for``; returns how many."""
        with self._sessions() as session:
            count = session.execute(delete(Delivery).where(
                Delivery.claimed_at < utcnow() - keep_for)).rowcount
            session.commit()
        return int(count or 0)
