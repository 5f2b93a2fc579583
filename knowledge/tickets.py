"""Tickets for the console: complaints, suggestions and questions left for staff, listed,
assigned, moved through their statuses and answered; with the conversation behind each."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from knowledge.db import session_scope
from knowledge.errors import NotFoundError, ValidationError
from knowledge.models import TICKET_KINDS, TICKET_STATUSES, Ticket, as_utc

_LOGGER = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_TURNS = 200


def ticket_view(t: Ticket) -> Dict[str, Any]:
    """A ticket as staff and the records see it (``ref`` names its answer's push)."""
    return {"id": t.id, "number": t.number, "kind": t.kind, "content": t.content,
            "district": t.district, "phone": t.phone, "sender": t.sender, "channel": t.channel,
            "status": t.status, "assigned_to": t.assigned_to, "answer": t.answer,
            "answer_note": t.answer_note, "answered_by": t.answered_by,
            "created_at": as_utc(t.created_at).strftime("%Y-%m-%d %H:%M"),
            "ref": f"ticket-{t.number}"}


def list_tickets(engine: Any, kind: str = "", status: str = "",
                 page: int = 1) -> Tuple[List[Dict[str, Any]], int]:
    """One page of tickets (newest first) and how many match."""
    stmt, count = select(Ticket), select(func.count(Ticket.id))
    if kind in TICKET_KINDS:
        stmt, count = stmt.where(Ticket.kind == kind), count.where(Ticket.kind == kind)
    if status in TICKET_STATUSES:
        stmt, count = stmt.where(Ticket.status == status), count.where(Ticket.status == status)
    with session_scope(engine) as session:
        total = int(session.scalar(count) or 0)
        rows = session.scalars(stmt.order_by(Ticket.id.desc()).limit(PAGE_SIZE)
                               .offset((max(1, page) - 1) * PAGE_SIZE))
        return [ticket_view(t) for t in rows], total


def get_ticket(engine: Any, number: str) -> Dict[str, Any]:
    """One ticket.

    Raises:
        NotFoundError: no such number.
    """
    with session_scope(engine) as session:
        t = session.scalar(select(Ticket).where(Ticket.number == number))
        if t is None:
            raise NotFoundError(f"没有编号为 {number[:40]} 的工单")
        return ticket_view(t)


def update_ticket(engine: Any, number: str, status: Optional[str] = None,
                  assigned_to: Optional[str] = None) -> None:
    """Assign a ticket or move it to another status.

    Raises:
        ValidationError: an unknown status.
        NotFoundError: no such ticket.
    """
    if status is not None and status not in TICKET_STATUSES:
        raise ValidationError(f"状态应为 {'/'.join(TICKET_STATUSES)}", "status")
    with session_scope(engine) as session:
        t = session.scalar(select(Ticket).where(Ticket.number == number))
        if t is None:
            raise NotFoundError(f"没有编号为 {number[:40]} 的工单")
        if assigned_to is not None:
            t.assigned_to = assigned_to[:64]
            if t.status == "new" and assigned_to:
                t.status = "assigned"
        if status is not None:
            t.status = status


def conversation(engine: Any, sender: str) -> List[Dict[str, str]]:
    """The resident's conversation with the bot (from Rasa's tracker store on the same
    database), oldest first; empty when there is none or the store lives elsewhere."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT type_name, data FROM events WHERE sender_id = :s AND type_name IN "
                "('user', 'bot') ORDER BY id DESC LIMIT :n"), {"s": sender, "n": MAX_TURNS}).all()
    except SQLAlchemyError:
        return []
    turns = []
    for kind, data in reversed(rows):
        try:
            said = json.loads(data).get("text") or ""
        except (TypeError, ValueError):
            continue
        if said:
            turns.append({"who": "居民" if kind == "user" else "机器人", "text": said})
    return turns
