"""Editors' changes to published entries: kept as proposals until a reviewer publishes one
(the live answer changes then, guarded by the version it was written against) or returns it."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from sqlalchemy import func, select

from knowledge.db import session_scope
from knowledge.errors import ConflictError, NotFoundError
from knowledge.models import EntryProposal, as_utc, utcnow
from knowledge.schema import EntryInput
from knowledge.writes import UpsertOutcome


def _view(p: EntryProposal) -> Dict[str, Any]:
    return {"id": p.id, "entry_id": p.entry_id, "base_version": p.base_version, "data": p.data,
            "author": p.author, "status": p.status, "decided_by": p.decided_by,
            "created_at": as_utc(p.created_at).strftime("%Y-%m-%d %H:%M")}


def propose(engine: Any, entry: Mapping[str, Any], base_version: int, author: str) -> int:
    """Keep an editor's change (validated like a save) for a reviewer.

    Raises:
        ValidationError: a bad field, as on a save.
    """
    item = EntryInput.from_mapping(entry)
    data = dict(item.to_row(), status="published")
    with session_scope(engine) as session:
        row = EntryProposal(entry_id=item.ext_id, base_version=base_version, data=data,
                            author=author[:64])
        session.add(row)
        session.flush()
        return int(row.id)


def pending(engine: Any, entry_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """Proposals waiting for a reviewer, oldest first (of one entry, or all)."""
    stmt = select(EntryProposal).where(EntryProposal.status == "pending")
    if entry_id is not None:
        stmt = stmt.where(EntryProposal.entry_id == entry_id)
    with session_scope(engine) as session:
        return [_view(p) for p in session.scalars(stmt.order_by(EntryProposal.id))]


def count_pending(engine: Any) -> int:
    """How many proposals wait."""
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(EntryProposal.id))
                                  .where(EntryProposal.status == "pending")) or 0)


def _row(session: Any, proposal_id: int) -> EntryProposal:
    row = session.get(EntryProposal, proposal_id)
    if row is None:
        raise NotFoundError(f"没有编号为 {proposal_id} 的修改提议")
    return row


def _decide(engine: Any, proposal_id: int, status: str, actor: str) -> Dict[str, Any]:
    with session_scope(engine) as session:
        row = _row(session, proposal_id)
        if row.status != "pending":
            raise ConflictError(f"修改提议 {proposal_id} 已处理")
        row.status, row.decided_by, row.decided_at = status, actor[:64], utcnow()
        return _view(row)


def get(engine: Any, proposal_id: int) -> Dict[str, Any]:
    """One proposal.

    Raises:
        NotFoundError: no such proposal.
    """
    with session_scope(engine) as session:
        return _view(_row(session, proposal_id))


def apply(kb: Any, proposal_id: int, actor: str) -> UpsertOutcome:
    """Publish a proposal: the live entry becomes it, unless the entry changed since the
    proposal was written (then ConflictError, and the proposal still waits)."""
    proposal = get(kb.engine, proposal_id)
    if proposal["status"] != "pending":
        raise ConflictError(f"修改提议 {proposal_id} 已处理")
    current = kb.get_entry(proposal["entry_id"])
    if current is None:
        raise NotFoundError(f"没有编号为 {proposal['entry_id']} 的条目")
    data = dict(proposal["data"], status=current["status"])
    outcome = kb.save_entry(EntryInput.from_mapping(data), actor, proposal["base_version"])
    _decide(kb.engine, proposal_id, "applied", actor)
    return outcome


def reject(engine: Any, proposal_id: int, actor: str) -> Dict[str, Any]:
    """Return a proposal to its author (nothing changes)."""
    return _decide(engine, proposal_id, "rejected", actor)
