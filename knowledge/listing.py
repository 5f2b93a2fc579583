"""Entry lists for the console: filtered, paged and counted in the database, and the
categories and departments to filter by; plus the figures of the console's dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, List, Tuple

from sqlalchemy import func, select

from knowledge.db import session_scope
from knowledge.models import Entry, Handoff, Question, Ticket, Unanswered, as_utc, utcnow

PAGE_SIZE = 50


@dataclass(frozen=True)
class EntryFilter:
    """What the entry list is narrowed to (empty: everything)."""

    text: str = ""
    category: str = ""
    department: str = ""
    status: str = ""
    page: int = 1


def list_entries(engine: Any, wanted: EntryFilter) -> Tuple[List[Dict[str, Any]], int]:
    """One page of entries (newest change first) and how many match in all."""
    stmt = select(Entry.ext_id, Entry.question, Entry.category, Entry.department,
                  Entry.status, Entry.version, Entry.updated_at, Entry.updated_by)
    count = select(func.count(Entry.id))
    conditions = []
    if wanted.text:
        like = f"%{wanted.text}%"
        conditions.append(Entry.question.like(like) | Entry.ext_id.like(like))
    if wanted.category:
        conditions.append(Entry.category == wanted.category)
    if wanted.department:
        conditions.append(Entry.department == wanted.department)
    if wanted.status:
        conditions.append(Entry.status == wanted.status)
    for condition in conditions:
        stmt, count = stmt.where(condition), count.where(condition)
    offset = (max(1, wanted.page) - 1) * PAGE_SIZE
    with session_scope(engine) as session:
        total = int(session.scalar(count) or 0)
        rows = session.execute(stmt.order_by(Entry.updated_at.desc(), Entry.id.desc())
                               .limit(PAGE_SIZE).offset(offset)).all()
    return [{"id": r[0], "question": r[1], "category": r[2], "department": r[3],
             "status": r[4], "version": r[5],
             "updated_at": as_utc(r[6]).strftime("%Y-%m-%d %H:%M") if r[6] else "",
             "updated_by": r[7]} for r in rows], total


def facets(engine: Any) -> Dict[str, List[str]]:
    """The categories and departments in use, for the filters."""
    with session_scope(engine) as session:
        categories = session.scalars(select(Entry.category).distinct().order_by(Entry.category))
        departments = session.scalars(select(Entry.department).distinct()
                                      .order_by(Entry.department))
        return {"categories": [c for c in categories if c],
                "departments": [d for d in departments if d]}


def dashboard(engine: Any, days: int = 14) -> Dict[str, Any]:
    """Questions per day and per channel, decision shares, handoffs and tickets, and the top
    questions and top unanswered questions, over the last ``days`` days."""
    since = utcnow() - timedelta(days=days)
    with session_scope(engine) as session:
        rows = session.execute(select(Question.at, Question.channel, Question.decision)
                               .where(Question.at >= since)).all()
        top = session.execute(
            select(Entry.question, func.count(Question.id).label("n"))
            .join(Entry, Entry.ext_id == Question.entry_id).where(Question.at >= since)
            .group_by(Entry.question).order_by(func.count(Question.id).desc()).limit(10)).all()
        unanswered = session.execute(
            select(Unanswered.query, func.count(Unanswered.id))
            .where(Unanswered.created_at >= since).group_by(Unanswered.query)
            .order_by(func.count(Unanswered.id).desc()).limit(10)).all()
        handoffs = int(session.scalar(select(func.count(Handoff.id))
                                      .where(Handoff.created_at >= since)) or 0)
        tickets = int(session.scalar(select(func.count(Ticket.id))
                                     .where(Ticket.created_at >= since)) or 0)
    per_day: Dict[str, int] = {}
    per_channel: Dict[str, int] = {}
    decisions: Dict[str, int] = {"answer": 0, "clarify": 0, "none": 0}
    for at, channel, decision in rows:
        day = as_utc(at).strftime("%m-%d")
        per_day[day] = per_day.get(day, 0) + 1
        per_channel[channel or "unknown"] = per_channel.get(channel or "unknown", 0) + 1
        if decision == "chosen":
            continue  # a pick from an offer: the question itself was counted as clarify
        key = "none" if decision == "out_of_scope" else decision
        decisions[key] = decisions.get(key, 0) + 1
    days_list = [(utcnow() - timedelta(days=i)).strftime("%m-%d") for i in range(days - 1, -1, -1)]
    asked = sum(decisions.values())
    return {"days": [(d, per_day.get(d, 0)) for d in days_list],
            "channels": sorted(per_channel.items(), key=lambda kv: -kv[1]),
            "decisions": [(k, v, round(100 * v / asked, 1) if asked else 0.0)
                          for k, v in decisions.items()],
            "handoffs": handoffs, "tickets": tickets,
            "top": [(q, n) for q, n in top], "unanswered": [(q, n) for q, n in unanswered]}
