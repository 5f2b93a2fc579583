"""SQLAlchemy models: knowledge base, terms, revisions, unanswered log, tickets, handoffs, cases."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Dict, List

from sqlalchemy import (JSON, Column, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import declarative_base, relationship

_LOGGER = logging.getLogger(__name__)

Base = declarative_base()

ENTRY_STATUSES = ("draft", "published", "archived")
UNANSWERED_STATUSES = ("new", "pending", "done", "ignored")
TICKET_KINDS = ("complaint", "question")
TICKET_STATUSES = ("new", "assigned", "in_progress", "answered", "closed")
"""A ticket is a complaint or suggestion, or a question the bot could not answer, left for staff."""

#: Service-guide fields, in display order: (attribute, Chinese label).
GUIDE_FIELDS = (
    ("conditions", "办理条件"),
    ("materials", "申请材料"),
    ("steps", "办理流程"),
    ("time_limit", "办理时限"),
    ("fees", "收费标准"),
    ("place", "办理地点"),
    ("hours", "办理时间"),
    ("phone", "咨询电话"),
    ("online_url", "网上办理"),
    ("basis", "政策依据"),
)
LIST_FIELDS = ("materials", "steps")


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back naive ones)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Entry(Base):
    """One knowledge-base entry (a service or FAQ item)."""

    __tablename__ = "kb_entries"

    id = Column(Integer, primary_key=True)
    ext_id = Column(String(128), nullable=False, unique=True, index=True)
    question = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    short_answer = Column(Text, nullable=False, default="")
    category = Column(String(64), nullable=False, default="", index=True)
    department = Column(String(128), nullable=False, default="", index=True)
    conditions = Column(Text, nullable=False, default="")
    materials = Column(JSON, nullable=False, default=list)
    steps = Column(JSON, nullable=False, default=list)
    time_limit = Column(Text, nullable=False, default="")
    fees = Column(Text, nullable=False, default="")
    place = Column(Text, nullable=False, default="")
    hours = Column(Text, nullable=False, default="")
    phone = Column(Text, nullable=False, default="")
    online_url = Column(Text, nullable=False, default="")
    basis = Column(Text, nullable=False, default="")
    status = Column(String(16), nullable=False, default="published", index=True)
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    updated_by = Column(String(64), nullable=False, default="system")
    #: KbState.generation at the entry's last change; other processes sync by it.
    generation = Column(Integer, nullable=False, default=0, index=True)

    similar = relationship("SimilarQuestion", order_by="SimilarQuestion.position",
                           cascade="all, delete-orphan", lazy="selectin")

    @property
    def similar_questions(self) -> List[str]:
        """Similar questions in their saved order."""
        return [s.text for s in self.similar]


class SimilarQuestion(Base):
    """An alternative wording of an entry's title question."""

    __tablename__ = "kb_similar_questions"

    id = Column(Integer, primary_key=True)
    entry_id = Column(Integer, ForeignKey("kb_entries.id", ondelete="CASCADE"),
                      nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    text = Column(Text, nullable=False)


class Term(Base):
    """A colloquial or dialect variant mapped to a standard term."""

    __tablename__ = "kb_terms"

    id = Column(Integer, primary_key=True)
    variant = Column(String(64), nullable=False, unique=True)
    standard = Column(String(64), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by = Column(String(64), nullable=False, default="system")


class Revision(Base):
    """Audit trail: every change with who, when, before and after."""

    __tablename__ = "kb_revisions"

    id = Column(Integer, primary_key=True)
    object_type = Column(String(16), nullable=False)  # entry | term
    object_key = Column(String(128), nullable=False, index=True)
    version = Column(Integer, nullable=False, default=0)
    action = Column(String(16), nullable=False)
    actor = Column(String(64), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    before = Column(JSON, nullable=True)
    after = Column(JSON, nullable=True)


class Unanswered(Base):
    """A question the bot could not answer, queued for staff review."""

    __tablename__ = "kb_unanswered"

    id = Column(Integer, primary_key=True)
    query = Column(Text, nullable=False)
    channel = Column(String(32), nullable=False, default="")
    sender = Column(String(128), nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    candidates = Column(JSON, nullable=False, default=list)
    status = Column(String(16), nullable=False, default="new", index=True)
    note = Column(Text, nullable=False, default="")
    ticket_number = Column(String(32), nullable=False, default="", server_default="")  # left for staff


class Question(Base):
    """One question a resident asked and what the bot decided (for the most-asked entries
    and the console's figures); no sender is kept."""

    __tablename__ = "kb_questions"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    channel = Column(String(32), nullable=False, default="")
    query = Column(Text, nullable=False)
    decision = Column(String(16), nullable=False)  # answer | clarify | none | out_of_scope | chosen
    entry_id = Column(String(128), nullable=False, default="", index=True)
    offered = Column(JSON, nullable=False, default=list)  # the entries a clarification offered


class Ticket(Base):
    """A complaint or suggestion, or a question left for staff (``kind``), from the ticket form."""

    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)
    content = Column(Text, nullable=False)
    district = Column(String(32), nullable=False, default="")
    phone = Column(String(32), nullable=False, default="")
    sender = Column(String(128), nullable=False, default="")
    channel = Column(String(32), nullable=False, default="")
    status = Column(String(16), nullable=False, default="new")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    kind = Column(String(16), nullable=False, default="complaint", server_default="complaint")
    assigned_to = Column(String(64), nullable=False, default="", server_default="")
    answer = Column(Text, nullable=False, default="", server_default="")
    answer_note = Column(Text, nullable=False, default="", server_default="")  # how it reached them
    answered_by = Column(String(64), nullable=False, default="", server_default="")
    answered_at = Column(DateTime(timezone=True), nullable=True)


class Handoff(Base):
    """A request to reach a person, with the transcript so far."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    sender = Column(String(128), nullable=False, index=True)
    channel = Column(String(32), nullable=False, default="")
    reason = Column(Text, nullable=False, default="")
    transcript = Column(JSON, nullable=False, default=list)
    status = Column(String(16), nullable=False, default="waiting")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    answer = Column(Text, nullable=False, default="", server_default="")
    answer_note = Column(Text, nullable=False, default="", server_default="")  # how it reached them
    answered_by = Column(String(64), nullable=False, default="", server_default="")
    answered_at = Column(DateTime(timezone=True), nullable=True)
    taken_by = Column(String(64), nullable=False, default="", server_default="")
    taken_at = Column(DateTime(timezone=True), nullable=True)
    told_wait = Column(Integer, nullable=False, default=0, server_default="0")  # wait notice sent


class Case(Base):
    """A 办件 (application) whose progress residents can check."""

    __tablename__ = "cases"

    application_number = Column(String(32), primary_key=True)
    service = Column(String(128), nullable=False)
    applicant = Column(String(64), nullable=False, default="")
    status = Column(String(32), nullable=False)
    updated = Column(String(32), nullable=False, default="")
    note = Column(Text, nullable=False, default="")


class KbState(Base):
    """A single row whose generation counter tells other processes the KB changed."""

    __tablename__ = "kb_state"
    __table_args__ = (UniqueConstraint("name"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False, default="kb")
    generation = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)



class Delivery(Base):
    """One inbound message of one conversation on one channel, run at most once.

    The row is claimed (``pending``) before the turn runs and holds the rendered reply once
    it has (``done``): a retried message, on any instance sharing the database, gets that
    reply instead of a second turn.
    """

    __tablename__ = "deliveries"

    channel = Column(String(32), primary_key=True)
    conversation = Column(String(128), primary_key=True)
    message_id = Column(String(128), primary_key=True)
    status = Column(String(16), nullable=False, default="pending")
    reply = Column(JSON, nullable=True)
    claimed_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class Outbox(Base):
    """A message to push to a resident outside a request (WeChat's customer-service API, a
    staff answer): kept until sent, retried with back-off, and left ``failed`` for staff to
    see when every try failed."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    recipient = Column(String(128), nullable=False, index=True)
    ref = Column(String(160), nullable=False, default="")  # what it answers (a message id)
    text = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=False, default="")
    next_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    lease_until = Column(DateTime(timezone=True), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ApiToken(Base):
    """A platform access token shared by every instance, with a lease so that one refreshes."""

    __tablename__ = "api_tokens"

    name = Column(String(64), primary_key=True)  # e.g. "wechat:<appid>"
    token = Column(Text, nullable=False, default="")
    expires_at = Column(DateTime(timezone=True), nullable=True)
    refreshing_until = Column(DateTime(timezone=True), nullable=True)


class VoiceCall(Base):
    """A phone call's flow state between two webhooks (any instance may take the next one)."""

    __tablename__ = "voice_calls"

    channel = Column(String(32), primary_key=True)
    call_id = Column(String(128), primary_key=True)
    state = Column(JSON, nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


def entry_to_dict(entry: Entry) -> Dict[str, Any]:
    """Serialise an entry in the import/export column layout."""
    data: Dict[str, Any] = {
        "id": entry.ext_id,
        "question": entry.question,
        "similar_questions": entry.similar_questions,
        "answer": entry.answer,
        "short_answer": entry.short_answer or "",
        "category": entry.category or "",
        "department": entry.department or "",
    }
    for name, _label in GUIDE_FIELDS:
        value = getattr(entry, name)
        data[name] = list(value or []) if name in LIST_FIELDS else (value or "")
    data["status"] = entry.status
    return data


STAFF_ROLES = ("editor", "reviewer", "admin")
"""Console roles, each allowed what the ones before it are: edit, then publish, then users."""


class StaffUser(Base):
    """A console account (the password as an argon2 hash)."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    password_hash = Column(Text, nullable=False)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class StaffSession(Base):
    """A signed-in console session: only the token's hash is stored."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    csrf = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class AuditEvent(Base):
    """Who did what in the console, and when (knowledge-base edits also keep revisions)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(256), nullable=False, default="")
    detail = Column(JSON, nullable=False, default=dict)


class HandoffMessage(Base):
    """One live message of a handoff: the resident's while staff hold the conversation, and
    staff's (and the system's) to the resident, pushed on the resident's channel."""

    __tablename__ = "handoff_messages"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    who = Column(String(16), nullable=False)  # resident | staff | system
    author = Column(String(64), nullable=False, default="")
    text = Column(Text, nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True), nullable=True, index=True)


class EntryProposal(Base):
    """An editor's change to a published entry, kept until a reviewer publishes or returns it
    (the live answer stays as it is meanwhile)."""

    __tablename__ = "kb_proposals"

    id = Column(Integer, primary_key=True)
    entry_id = Column(String(128), nullable=False, index=True)
    base_version = Column(Integer, nullable=False)
    data = Column(JSON, nullable=False)
    author = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    status = Column(String(16), nullable=False, default="pending", index=True)
    decided_by = Column(String(64), nullable=False, default="")
    decided_at = Column(DateTime(timezone=True), nullable=True)
