"""Operational records: unanswered queue, tickets, handoffs and 办件 look-ups."""
from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta, timezone
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Engine

from knowledge.db import session_scope
from knowledge.errors import NotFoundError, ValidationError
from knowledge.index import SearchResult
from knowledge.models import (TICKET_KINDS, UNANSWERED_STATUSES, Case, Handoff, Question, Ticket,
                              Unanswered, utcnow)
from knowledge.tickets import get_ticket

_LOGGER = logging.getLogger(__name__)

LOCAL_TZ = timezone(timedelta(hours=8))  # ticket numbers use the local (Beijing) date
APPLICATION_NUMBER_RE = re.compile(r"^[A-Z]{2}\d{12}$")
MAX_TRANSCRIPT_TURNS = 200


@dataclass(frozen=True)
class CaseView:
    """A 办件 as the progress check reads it back."""

    application_number: str
    service: str
    applicant: str
    status: str
    updated: str
    note: str


def _unanswered_view(u: Unanswered) -> Dict[str, Any]:
    """A queued question as the console and the CLI read it."""
    return {"id": u.id, "query": u.query, "channel": u.channel, "status": u.status,
            "created_at": u.created_at.isoformat(), "candidates": u.candidates,
            "note": u.note, "ticket_number": u.ticket_number}


class Records:
    """Writes and reads the records the dialogue and the console share."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------- questions
    def log_question(self, query: str, channel: str, decision: str, entry_id: str = "",
                     offered: Sequence[str] = ()) -> None:
        """Log one question and the bot's decision: the entry it answered with, or the
        entries a clarification offered."""
        with session_scope(self.engine) as session:
            session.add(Question(query=query[:500], channel=channel[:32], decision=decision[:16],
                                 entry_id=entry_id[:128], offered=list(offered)[:5]))

    # ------------------------------------------------------------ unanswered
    def log_unanswered(self, query: str, channel: str, sender: str,
                       result: Optional[SearchResult] = None) -> int:
        """Queue a question the bot could not answer, with its best candidates."""
        candidates = [{"id": c.id, "score": round(float(c.score), 4), "question": c.question}
                      for c in (result.candidates if result else ())][:5]
        with session_scope(self.engine) as session:
            row = Unanswered(query=query[:2000], channel=channel[:32], sender=sender[:128],
                             candidates=candidates)
            session.add(row)
            session.flush()
            return int(row.id)

    def list_unanswered(self, status: Optional[str] = "new", limit: int = 100) -> List[Dict[str, Any]]:
        """The review queue, newest first."""
        stmt = select(Unanswered).order_by(Unanswered.id.desc()).limit(max(1, min(limit, 1000)))
        if status:
            stmt = stmt.where(Unanswered.status == status)
        with session_scope(self.engine) as session:
            return [_unanswered_view(u) for u in session.scalars(stmt)]

    def get_unanswered(self, item_id: int) -> Dict[str, Any]:
        """One queued question.

        Raises:
            NotFoundError: no such question.
        """
        with session_scope(self.engine) as session:
            u = session.get(Unanswered, item_id)
            if u is None:
                raise NotFoundError(f"没有编号为 {item_id} 的待答问题")
            return _unanswered_view(u)

    def set_unanswered_status(self, item_id: int, status: str, note: str = "") -> None:
        """Move a queued question to pending, done or ignored."""
        if status not in UNANSWERED_STATUSES:
            raise ValidationError(f"状态应为 {'/'.join(UNANSWERED_STATUSES)}", "status")
        with session_scope(self.engine) as session:
            row = session.get(Unanswered, item_id)
            if row is None:
                raise NotFoundError(f"没有编号为 {item_id} 的待答问题")
            row.status = status
            if note:
                row.note = note[:2000]

    # --------------------------------------------------------------- tickets
    def create_ticket(self, content: str, district: str, phone: str, sender: str,
                      channel: str, kind: str = "complaint",
                      unanswered_id: Optional[int] = None) -> str:
        """Save a ticket and return its number, e.g. ``GD20261122-000007``.

        Args:
            kind: ``complaint`` (complaint or suggestion) or ``question`` (left for staff).
            unanswered_id: The queued question this ticket answers for: the queue then shows
                the ticket's number, so staff know a resident waits for the answer.
        """
        content = (content or "").strip()
        if not content:
            raise ValidationError("诉求内容不能为空", "content")
        if kind not in TICKET_KINDS:
            raise ValidationError(f"工单类型应为 {'/'.join(TICKET_KINDS)}", "kind")
        day = utcnow().astimezone(LOCAL_TZ).strftime("%Y%m%d")
        with session_scope(self.engine) as session:
            ticket = Ticket(number=f"pending-{uuid.uuid4().hex}", content=content[:5000],
                            district=district[:32], phone=phone[:32], sender=sender[:128],
                            channel=channel[:32], kind=kind)
            session.add(ticket)
            session.flush()  # the row id makes the number unique across instances
            number = ticket.number = f"GD{day}-{ticket.id:06d}"
            queued = session.get(Unanswered, unanswered_id) if unanswered_id else None
            if queued is not None:
                queued.ticket_number = number
        _LOGGER.info("ticket %s created", number)
        return number

    def get_ticket(self, number: str) -> Optional[Dict[str, Any]]:
        """A ticket by its number (``tickets.get_ticket``), or None."""
        try:
            return get_ticket(self.engine, number)
        except NotFoundError:
            return None

    # -------------------------------------------------------------- handoffs
    def create_handoff(self, sender: str, channel: str, reason: str,
                       transcript: Sequence[Dict[str, Any]], status: str = "waiting") -> int:
        """Record a request for a person, with the conversation so far (``transferred``: a
        phone call already put through to a person, kept as a record)."""
        with session_scope(self.engine) as session:
            row = Handoff(sender=sender[:128], channel=channel[:32], reason=reason[:2000],
                          transcript=list(transcript)[-MAX_TRANSCRIPT_TURNS:], status=status)
            session.add(row)
            session.flush()
            return int(row.id)

    def get_handoff(self, handoff_id: int) -> Optional[Dict[str, Any]]:
        """One handoff, with the reference its answer's push carries."""
        with session_scope(self.engine) as session:
            h = session.get(Handoff, handoff_id)
            if h is None:
                return None
            return {"id": h.id, "sender": h.sender, "channel": h.channel, "status": h.status,
                    "answer": h.answer, "answer_note": h.answer_note, "ref": f"handoff-{h.id}"}

    def save_answer(self, kind: str, record_id: int, text: str, note: str, actor: str) -> None:
        """Record a staff answer on a handoff or ticket, and how it reached the resident."""
        model = {"handoff": Handoff, "ticket": Ticket}[kind]
        with session_scope(self.engine) as session:
            row = session.get(model, record_id)
            if row is None:
                raise NotFoundError(f"no {kind} {record_id}")
            row.answer, row.answer_note = text[:5000], note[:500]
            row.answered_by, row.answered_at, row.status = actor[:64], utcnow(), "answered"
            if kind == "ticket":  # the question the ticket carried leaves the review queue
                for queued in session.scalars(select(Unanswered).where(
                        Unanswered.ticket_number == row.number)):
                    queued.status = "done"

    # ----------------------------------------------------------------- cases
    def find_case(self, application_number: str) -> Optional[CaseView]:
        """Look up a 办件 by its number (exact, upper-cased)."""
        number = (application_number or "").strip().upper()
        if not APPLICATION_NUMBER_RE.match(number):
            raise ValidationError("办件编号应为两位大写字母加12位数字", "application_number")
        with session_scope(self.engine) as session:
            c = session.get(Case, number)
            if c is None:
                return None
            return CaseView(c.application_number, c.service, c.applicant, c.status,
                            c.updated, c.note)

    def load_cases(self, path: Path) -> int:
        """Insert sample cases from a JSONL file; numbers already present are left as they are."""
        count = 0
        with session_scope(self.engine) as session:
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                if session.get(Case, row["application_number"]) is not None:
                    continue
                session.add(Case(**{k: row.get(k, "") for k in (
                    "application_number", "service", "applicant", "status", "updated", "note")}))
                count += 1
        return count
