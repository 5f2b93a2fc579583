"""Pushed messages kept until sent (retries with back-off, failures left for staff), and
platform access tokens shared by every instance with a refresh lease."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from knowledge.db import session_factory
from knowledge.models import ApiToken, Outbox, as_utc, utcnow

_LOGGER = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
"""Tries before a push is left ``failed`` (about a minute of back-off in all)."""
LEASE = timedelta(seconds=30)
"""How long one instance holds a push it is sending (or a token it is refreshing)."""


def backoff(attempts: int) -> timedelta:
    """Wait after ``attempts`` failed tries: 1, 2, 4, 8, 16 s …, at most 5 minutes."""
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Push:
    """One pending push as a sender takes it."""

    id: int
    channel: str
    recipient: str
    ref: str
    text: str
    attempts: int


class OutboxStore:
    """Blocking calls; servers run them on worker threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    def add(self, channel: str, recipient: str, text: str, ref: str = "") -> int:
        """Queue a push; returns its id (sent in id order within a recipient)."""
        with self._sessions() as session:
            row = Outbox(channel=channel, recipient=recipient, text=text, ref=ref,
                         status="pending", attempts=0, last_error="", next_at=utcnow(),
                         created_at=utcnow(), updated_at=utcnow())
            session.add(row)
            session.commit()
            return int(row.id)

    def promise(self, channel: str, recipient: str, ref: str) -> int:
        """Hold a place for a reply that is not ready yet (``waiting``, not sent): a retry of
        the same message sees it and leaves the reply to the push."""
        with self._sessions() as session:
            row = Outbox(channel=channel, recipient=recipient, text="", ref=ref,
                         status="waiting", attempts=0, last_error="", next_at=utcnow(),
                         created_at=utcnow(), updated_at=utcnow())
            session.add(row)
            session.commit()
            return int(row.id)

    def fulfil(self, push_id: int, texts: List[str]) -> None:
        """Give a promised push its text (more texts become further pushes, in order)."""
        with self._sessions() as session:
            row = session.get(Outbox, push_id)
            row.text, row.status, row.updated_at = texts[0], "pending", utcnow()
            for text in texts[1:]:
                session.add(Outbox(channel=row.channel, recipient=row.recipient, text=text,
                                   ref=row.ref, status="pending", attempts=0, last_error="",
                                   next_at=utcnow(), created_at=utcnow(), updated_at=utcnow()))
            session.commit()

    def drop(self, push_id: int) -> None:
        """Withdraw a promise that another delivery keeps (a retry of the same message)."""
        with self._sessions() as session:
            session.execute(delete(Outbox).where(Outbox.id == push_id,
                                                 Outbox.status == "waiting"))
            session.commit()

    def promised(self, channel: str, recipient: str, ref: str) -> bool:
        """Whether a push was promised (or queued) for this message."""
        with self._sessions() as session:
            return session.execute(select(Outbox.id).where(
                Outbox.channel == channel, Outbox.recipient == recipient,
                Outbox.ref == ref).limit(1)).first() is not None

    def take_due(self, channel: str, limit: int = 20) -> List[Push]:
        """Lease the pushes that are due (none another instance holds), oldest first."""
        now = utcnow()
        taken: List[Push] = []
        with self._sessions() as session:
            rows = session.execute(select(Outbox).where(
                Outbox.channel == channel, Outbox.status == "pending", Outbox.next_at <= now,
                or_(Outbox.lease_until.is_(None), Outbox.lease_until < now))
                .order_by(Outbox.id).limit(limit)).scalars().all()
            for row in rows:
                got = session.execute(update(Outbox).where(
                    Outbox.id == row.id, Outbox.status == "pending",
                    or_(Outbox.lease_until.is_(None), Outbox.lease_until < now))
                    .values(lease_until=now + LEASE)).rowcount
                if got:
                    taken.append(Push(row.id, row.channel, row.recipient, row.ref, row.text,
                                      row.attempts))
            session.commit()
        return taken

    def sent(self, push_id: int) -> None:
        """The push went through."""
        self._set(push_id, status="sent", lease_until=None, updated_at=utcnow())

    def failed_try(self, push_id: int, attempts: int, error: str, final: bool = False) -> str:
        """Record a failed try; returns the new status (``pending`` again, or ``failed`` after
        ``MAX_ATTEMPTS`` or when ``final``: retrying cannot help)."""
        status = "failed" if final or attempts >= MAX_ATTEMPTS else "pending"
        self._set(push_id, status=status, attempts=attempts, last_error=error[:500],
                  next_at=utcnow() + backoff(attempts), lease_until=None, updated_at=utcnow())
        return status

    def _set(self, push_id: int, **values: object) -> None:
        with self._sessions() as session:
            session.execute(update(Outbox).where(Outbox.id == push_id).values(**values))
            session.commit()

    def list(self, status: Optional[str] = None, channel: Optional[str] = None,
             limit: int = 100) -> List[Outbox]:
        """Pushes for staff, newest first (``status="failed"``: what never reached anyone)."""
        with self._sessions() as session:
            query = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
            if status:
                query = query.where(Outbox.status == status)
            if channel:
                query = query.where(Outbox.channel == channel)
            rows = session.execute(query).scalars().all()
            session.expunge_all()
            return list(rows)


@dataclass(frozen=True)
class TokenState:
    """What the shared token row says now."""

    token: str
    expires_at: Optional[datetime]
    leased: bool  # True: this caller holds the refresh lease and must refresh


def _expiry(row: ApiToken) -> Optional[datetime]:
    return as_utc(row.expires_at) if row.expires_at is not None else None


class TokenStore:
    """An access token shared across instances; one instance refreshes it at a time."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.name = name
        self._sessions = session_factory(engine)

    def read(self) -> TokenState:
        """The stored token (empty when there is none)."""
        with self._sessions() as session:
            row = session.get(ApiToken, self.name)
            if row is None:
                return TokenState("", None, False)
            return TokenState(row.token, _expiry(row), False)

    def lease_refresh(self, stale: str) -> TokenState:
        """Take the refresh lease unless the token has changed from ``stale`` (someone else
        refreshed it) or another instance holds the lease."""
        now = utcnow()
        with self._sessions() as session:
            if session.get(ApiToken, self.name) is None:
                try:
                    session.add(ApiToken(name=self.name, token="", expires_at=None))
                    session.commit()
                except IntegrityError:
                    session.rollback()
            got = session.execute(update(ApiToken).where(
                ApiToken.name == self.name, ApiToken.token == stale,
                or_(ApiToken.refreshing_until.is_(None), ApiToken.refreshing_until < now))
                .values(refreshing_until=now + LEASE)).rowcount
            session.commit()
            row = session.get(ApiToken, self.name)
            session.refresh(row)
            return TokenState(row.token, _expiry(row), bool(got))

    def store(self, token: str, expires_in: float) -> None:
        """Save a fresh token and release the lease."""
        with self._sessions() as session:
            session.execute(update(ApiToken).where(ApiToken.name == self.name).values(
                token=token, expires_at=utcnow() + timedelta(seconds=expires_in),
                refreshing_until=None))
            session.commit()

    def release(self) -> None:
        """Give the lease up after a failed refresh."""
        with self._sessions() as session:
            session.execute(update(ApiToken).where(ApiToken.name == self.name)
                            .values(refreshing_until=None))
            session.commit()
