"""Writes inside one transaction: entry upserts with their revisions, terms, and the change counter."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.models import (GUIDE_FIELDS, Entry, KbState, Revision, SimilarQuestion, Term,
                              entry_to_dict, utcnow)
from knowledge.schema import EntryInput, clean_text

_LOGGER = logging.getLogger(__name__)

_ENTRY_FIELDS = ("question", "answer", "category", "department",
                 *(name for name, _label in GUIDE_FIELDS), "status")


@dataclass(frozen=True)
class UpsertOutcome:
    """What ``save_entry`` did: ``created``, ``updated`` or ``unchanged``."""

    ext_id: str
    action: str
    version: int


def current_generation(session: Session) -> int:
    """The change counter: every write to entries or terms bumps it."""
    value = session.scalar(select(KbState.generation).where(KbState.name == "kb"))
    return int(value or 0)


def bump_generation(session: Session) -> int:
    """Increment the change counter inside the caller's transaction."""
    result = session.execute(update(KbState).where(KbState.name == "kb")
                             .values(generation=KbState.generation + 1, updated_at=utcnow()))
    if result.rowcount == 0:
        session.add(KbState(name="kb", generation=1))
        session.flush()
    return int(session.scalar(select(KbState.generation).where(KbState.name == "kb")))


def upsert_entry(session: Session, item: EntryInput, actor: str, expected_version: Optional[int],
                 generation: int) -> Tuple[UpsertOutcome, Entry]:
    """Create or update an entry and record a revision (nothing when it is unchanged).

    Args:
        session: The caller's transaction.
        item: The entry as edited or imported.
        actor: Who made the change (audited).
        expected_version: The version the editor saw; None skips the check (imports).
        generation: The change counter of this transaction (``bump_generation``).

    Raises:
        ConflictError: The entry's version is not ``expected_version``.
    """
    entry = session.scalar(select(Entry).where(Entry.ext_id == item.ext_id))
    before = entry_to_dict(entry) if entry is not None else None
    if entry is not None and expected_version is not None and entry.version != expected_version:
        raise ConflictError(f"条目 {item.ext_id} 已被他人修改（当前版本 {entry.version}）")
    after = item.to_row()
    after["short_answer"] = item.effective_short_answer()
    if before is not None and before == after:
        return UpsertOutcome(item.ext_id, "unchanged", entry.version), entry
    if entry is None:
        entry = Entry(ext_id=item.ext_id, version=0, created_at=utcnow())
        session.add(entry)
    for name in _ENTRY_FIELDS:
        setattr(entry, name, after[name])
    entry.short_answer = after["short_answer"]
    entry.similar = [SimilarQuestion(position=i, text=t)
                     for i, t in enumerate(item.similar_questions)]
    entry.version = (entry.version or 0) + 1
    entry.updated_at = utcnow()
    entry.updated_by = actor
    entry.generation = generation
    action = "create" if before is None else ("status" if _only_status(before, after) else "update")
    session.add(Revision(object_type="entry", object_key=item.ext_id, version=entry.version,
                         action=action, actor=actor, before=before, after=after))
    session.flush()
    return UpsertOutcome(item.ext_id, "created" if before is None else "updated",
                         entry.version), entry


def write_terms(session: Session, terms: Mapping[str, str], actor: str) -> None:
    """Create or change variant -> standard mappings, each with a revision.

    Raises:
        ValidationError: An empty or identical pair, a standard that is itself a variant, or a
            variant that is another mapping's standard (chains are not allowed).
    """
    current = {t.variant: t for t in session.scalars(select(Term))}
    standards = {t.standard for t in current.values()} | set(terms.values())
    for variant, standard in terms.items():
        variant = clean_text(variant, "variant", 64)
        standard = clean_text(standard, "standard", 64)
        if not variant or not standard or variant == standard:
            raise ValidationError("同义词与标准词都不能为空，且不能相同", "variant")
        if standard in terms or standard in current:
            raise ValidationError(f"标准词“{standard}”本身是另一个词的变体", "standard")
        if variant in standards:
            raise ValidationError(f"“{variant}”已是其他同义词的标准词", "variant")
        term = current.get(variant)
        before = {"variant": variant, "standard": term.standard} if term else None
        if term is None:
            term = Term(variant=variant)
            session.add(term)
        term.standard, term.updated_by, term.updated_at = standard, actor, utcnow()
        session.add(Revision(object_type="term", object_key=variant,
                             action="update" if before else "create", actor=actor,
                             before=before, after={"variant": variant, "standard": standard}))


def remove_term(session: Session, variant: str, actor: str) -> None:
    """Delete a mapping, keeping it in a revision (restorable).

    Raises:
        NotFoundError: There is no such variant.
    """
    term = session.scalar(select(Term).where(Term.variant == variant))
    if term is None:
        raise NotFoundError(f"没有同义词“{variant}”")
    session.add(Revision(object_type="term", object_key=variant, action="delete", actor=actor,
                         before={"variant": variant, "standard": term.standard}, after=None))
    session.delete(term)


def _only_status(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return before.get("status") != after.get("status") and \
        {k: v for k, v in before.items() if k != "status"} == \
        {k: v for k, v in after.items() if k != "status"}
