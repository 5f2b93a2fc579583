"""Phone calls' flow state, kept between webhooks in the shared database."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Dict, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from knowledge.db import session_scope
from knowledge.models import VoiceCall, utcnow

_LOGGER = logging.getLogger(__name__)

CALL_TTL = timedelta(hours=2)
"""A call state untouched this long belongs to a call that ended without telling us."""
MAX_CALL_ID = 128


class CallStore:
    """Per-call JSON state, keyed by (channel, call id)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, channel: str, call_id: str) -> Optional[Dict[str, Any]]:
        """The state of a live call, or None."""
        with session_scope(self.engine) as session:
            row = session.get(VoiceCall, (channel, call_id[:MAX_CALL_ID]))
            return dict(row.state) if row is not None else None

    def put(self, channel: str, call_id: str, state: Dict[str, Any]) -> None:
        """Save a call's state (insert or replace)."""
        with session_scope(self.engine) as session:
            row = session.get(VoiceCall, (channel, call_id[:MAX_CALL_ID]))
            if row is None:
                session.add(VoiceCall(channel=channel, call_id=call_id[:MAX_CALL_ID],
                                      state=state, updated_at=utcnow()))
            else:
                row.state, row.updated_at = state, utcnow()

    def drop(self, channel: str, call_id: str) -> bool:
        """Forget an ended call; whether it was known."""
        with session_scope(self.engine) as session:
            result = session.execute(delete(VoiceCall).where(
                VoiceCall.channel == channel, VoiceCall.call_id == call_id[:MAX_CALL_ID]))
            return bool(result.rowcount)

    def live(self, channel: str) -> int:
        """How many calls of a channel have state (for tests and metrics)."""
        with session_scope(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(VoiceCall).where(
                VoiceCall.channel == channel)) or 0)

    def prune(self, older_than: timedelta = CALL_TTL) -> int:
        """Delete states of calls untouched for ``older_than``; how many."""
        with session_scope(self.engine) as session:
            result = session.execute(delete(VoiceCall).where(
                VoiceCall.updated_at < utcnow() - older_than))
            return int(result.rowcount or 0)
