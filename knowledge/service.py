"""KnowledgeService: audited entry and term edits that keep the search index live."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from knowledge.db import session_scope
from knowledge.decide import RetrievalConfig, with_thresholds
from knowledge.encoder import load_default
from knowledge.errors import NotFoundError, ValidationError
from knowledge.index import IndexDoc, SearchIndex, SearchResult
from knowledge.models import ENTRY_STATUSES, Entry, Revision, Term, entry_to_dict
from knowledge.schema import EntryInput
from knowledge.writes import (UpsertOutcome, bump_generation, current_generation, remove_term,
                              upsert_entry, write_terms)

__all__ = ["KnowledgeService", "UpsertOutcome"]

_LOGGER = logging.getLogger(__name__)


def _doc(entry: Entry) -> IndexDoc:
    return IndexDoc(id=entry.ext_id, title=entry.question, similar=tuple(entry.similar_questions),
                    answer=entry.answer, category=entry.category or "",
                    department=entry.department or "")


class KnowledgeService:
    """The knowledge base as the dialogue layer, the CLI and the staff console see it.

    Every write is audited in ``kb_revisions`` and bumps ``kb_state.generation``; the
    in-memory index follows at once in this process, and other processes (another
    instance, a separate action server) catch up within ``poll_seconds``.
    """

    def __init__(self, engine: Engine, config: Optional[RetrievalConfig] = None,
                 poll_seconds: float = 2.0, encoder: Any = "default",
                 thresholds: Tuple[Optional[float], Optional[float]] = (None, None)) -> None:
        """Args:
            engine: The database.
            config: Retrieval settings (default: tuned for the index as built).
            poll_seconds: How often to check for other processes' writes.
            encoder: A ``SentenceEncoder``, None for lexical retrieval only, or ``"default"``
                for the installed one (``GOVBOT_ENCODER=off`` switches it off).
            thresholds: The operator's (answer, clarify) thresholds; None keeps the tuned one.

        Raises:
            ValidationError: A threshold out of range (see ``decide.with_thresholds``).
        """
        self.engine = engine
        if encoder == "default":
            encoder = load_default()
        self.index = SearchIndex(config=config, encoder=encoder)
        self.index.config = with_thresholds(self.index.config, *thresholds)
        self.poll_seconds = poll_seconds
        self._generation = -1
        self._checked_at = 0.0
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- index
    def load_index(self) -> int:
        """(Re)build the index from all published entries and the terms."""
        with session_scope(self.engine) as session:
            generation = current_generation(session)
            terms = {t.variant: t.standard for t in session.scalars(select(Term))}
            entries = session.scalars(select(Entry).where(Entry.status == "published")).all()
            docs = [_doc(e) for e in entries]
        with self._lock:
            self.index.set_terms(terms)
            try:
                self.index.build(docs, prune=False)
            except BaseException:
                self._generation = -1  # the index is empty: the next search builds it again
                raise
            self._generation = generation
            self._checked_at = time.monotonic()
        _LOGGER.info("index built: %d entries, %d terms", len(docs), len(terms))
        self.index.prune_vectors()  # outside the lock: a large prune takes a second or so
        return len(docs)

    def refresh_if_stale(self, force: bool = False) -> bool:
        """Apply changes other processes made since the last sync; cheap when nothing changed."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.poll_seconds:
            return False
        self._checked_at = now
        with session_scope(self.engine) as session:
            generation = current_generation(session)
            if generation == self._generation:
                return False
            changed = session.scalars(select(Entry).where(Entry.generation > self._generation)).all()
            terms = {t.variant: t.standard for t in session.scalars(select(Term))}
            updates = [(e.ext_id, e.status, _doc(e)) for e in changed]
        with self._lock:
            self.index.set_terms(terms)
            for ext_id, status, doc in updates:
                self._apply(ext_id, status, doc)
            self._generation = generation
        _LOGGER.info("index refreshed to generation %d (%d entries changed)", generation, len(updates))
        return True

    def search(self, query: str, top: int = 5) -> SearchResult:
        """Search published entries; see ``knowledge.decide`` for the decision."""
        if not self.index_loaded:
            self.load_index()
        self.refresh_if_stale()
        with self._lock:
            return self.index.search(query, top=top)

    def _apply(self, ext_id: str, status: str, doc: IndexDoc) -> None:
        if status == "published":
            self.index.upsert(doc)
        else:
            self.index.remove(ext_id)

    # ----------------------------------------------------------------- reads
    def get_entry(self, ext_id: str, include_unpublished: bool = True) -> Optional[Dict[str, Any]]:
        """An entry as a plain dict (import/export layout plus version and audit fields)."""
        with session_scope(self.engine) as session:
            entry = session.scalar(select(Entry).where(Entry.ext_id == ext_id))
            if entry is None or (not include_unpublished and entry.status != "published"):
                return None
            data = entry_to_dict(entry)
            data.update(version=entry.version, updated_by=entry.updated_by,
                        updated_at=entry.updated_at.isoformat() if entry.updated_at else "")
            return data

    def list_entries(self, status: Optional[str] = None, text: str = "", limit: int = 50,
                     offset: int = 0) -> List[Dict[str, Any]]:
        """Entries for the console, newest change first, optionally filtered."""
        stmt = select(Entry).order_by(Entry.updated_at.desc(), Entry.id.desc())
        if status:
            stmt = stmt.where(Entry.status == status)
        if text:
            like = f"%{text}%"
            stmt = stmt.where(Entry.question.like(like) | Entry.ext_id.like(like))
        with session_scope(self.engine) as session:
            rows = session.scalars(stmt.limit(max(1, min(limit, 500))).offset(max(0, offset)))
            return [dict(entry_to_dict(e), version=e.version) for e in rows]

    def count(self, status: Optional[str] = None) -> int:
        """Number of entries (optionally with a status)."""
        stmt = select(func.count(Entry.id))
        if status:
            stmt = stmt.where(Entry.status == status)
        with session_scope(self.engine) as session:
            return int(session.scalar(stmt) or 0)

    def terms(self) -> Dict[str, str]:
        """All terms, variant -> standard."""
        with session_scope(self.engine) as session:
            return {t.variant: t.standard for t in session.scalars(select(Term).order_by(Term.variant))}

    def history(self, object_key: str) -> List[Dict[str, Any]]:
        """All revisions of an entry or term, oldest first."""
        with session_scope(self.engine) as session:
            revs = session.scalars(select(Revision).where(Revision.object_key == object_key)
                                   .order_by(Revision.id))
            return [{"id": r.id, "type": r.object_type, "key": r.object_key, "version": r.version,
                     "action": r.action, "actor": r.actor, "at": r.at.isoformat(),
                     "before": r.before, "after": r.after} for r in revs]

    # ---------------------------------------------------------------- writes
    def save_entries(self, items: Iterable[EntryInput], actor: str) -> List[UpsertOutcome]:
        """Upsert many entries in one transaction (used by import and seed)."""
        outcomes: List[UpsertOutcome] = []
        applied: List[tuple] = []
        with session_scope(self.engine) as session:
            generation = bump_generation(session)
            for item in items:
                outcome, entry = upsert_entry(session, item, actor, None, generation)
                outcomes.append(outcome)
                if outcome.action != "unchanged":
                    applied.append((entry.ext_id, entry.status, _doc(entry)))
        self._after_write(applied, generation)
        return outcomes

    def preview_entries(self, items: Iterable[EntryInput]) -> List[UpsertOutcome]:
        """What ``save_entries`` would do, without writing (for ``--dry-run``)."""
        with session_scope(self.engine) as session:
            current = {e.ext_id: e for e in session.scalars(select(Entry))}
            outcomes = []
            for item in items:
                entry = current.get(item.ext_id)
                after = dict(item.to_row(), short_answer=item.effective_short_answer())
                if entry is None:
                    outcomes.append(UpsertOutcome(item.ext_id, "created", 1))
                elif entry_to_dict(entry) == after:
                    outcomes.append(UpsertOutcome(item.ext_id, "unchanged", entry.version))
                else:
                    outcomes.append(UpsertOutcome(item.ext_id, "updated", entry.version + 1))
            return outcomes

    def save_entry(self, item: EntryInput, actor: str,
                   expected_version: Optional[int] = None) -> UpsertOutcome:
        """Create or update one entry; ``expected_version`` guards against lost updates."""
        with session_scope(self.engine) as session:
            generation = bump_generation(session)
            outcome, entry = upsert_entry(session, item, actor, expected_version, generation)
            applied = [(entry.ext_id, entry.status, _doc(entry))]
        self._after_write(applied, generation)
        return outcome

    def set_status(self, ext_id: str, status: str, actor: str,
                   expected_version: Optional[int] = None) -> UpsertOutcome:
        """Publish, archive or return an entry to draft."""
        if status not in ENTRY_STATUSES:
            raise ValidationError(f"状态应为 {'/'.join(ENTRY_STATUSES)}", "status")
        current = self.get_entry(ext_id)
        if current is None:
            raise NotFoundError(f"没有编号为 {ext_id} 的条目")
        current["status"] = status
        return self.save_entry(EntryInput.from_mapping(current), actor,
                               expected_version if expected_version is not None
                               else current["version"])

    def restore_revision(self, revision_id: int, actor: str) -> UpsertOutcome:
        """Bring back an entry (or term) as it was after ``revision_id``."""
        with session_scope(self.engine) as session:
            rev = session.get(Revision, revision_id)
            if rev is None:
                raise NotFoundError(f"没有编号为 {revision_id} 的修订")
            snapshot = rev.after if rev.after is not None else rev.before
            kind = rev.object_type
        if kind == "term":
            if rev.after is None:
                self.delete_term(snapshot["variant"], actor)
                return UpsertOutcome(snapshot["variant"], "deleted", 0)
            self.save_term(snapshot["variant"], snapshot["standard"], actor)
            return UpsertOutcome(snapshot["variant"], "updated", 0)
        return self.save_entry(EntryInput.from_mapping(snapshot), actor)

    @property
    def index_loaded(self) -> bool:
        """Whether this service keeps an index (CLI imports and seeding do not need one)."""
        return self._generation >= 0

    def _after_write(self, applied: List[tuple], generation: int) -> None:
        if not self.index_loaded:
            return  # load_index() builds from the database when an index is wanted
        with self._lock:
            for ext_id, status, doc in applied:
                self._apply(ext_id, status, doc)
            if self._generation == generation - 1:
                self._generation = generation

    # ----------------------------------------------------------------- terms
    def save_term(self, variant: str, standard: str, actor: str) -> None:
        """Create or change a variant -> standard mapping (audited, live)."""
        self.save_terms({variant: standard}, actor)

    def save_terms(self, terms: Mapping[str, str], actor: str) -> int:
        """Save many terms in one transaction (seed, bulk edits); audited like ``save_term``."""
        with session_scope(self.engine) as session:
            write_terms(session, terms, actor)
            bump_generation(session)
        if self.index_loaded:
            self.refresh_if_stale(force=True)
        return len(terms)

    def delete_term(self, variant: str, actor: str) -> None:
        """Remove a term mapping (audited; restorable from its revision)."""
        with session_scope(self.engine) as session:
            remove_term(session, variant, actor)
            bump_generation(session)
        if self.index_loaded:
            self.refresh_if_stale(force=True)

