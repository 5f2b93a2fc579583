"""The published entries by category, most-asked first, for keypad menus (reloaded when the
knowledge base changes, and at most every few minutes for the counts)."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from knowledge.db import session_scope
from knowledge.models import Entry, Question
from knowledge.writes import current_generation

_LOGGER = logging.getLogger(__name__)

OTHER = "其他业务"
"""The category of entries that have none."""
RECOUNT_S = 300.0
"""How often the ask counts that order the menus are read again."""


class KbCatalog:
    """Categories (the largest first: the first menu stays the same from call to call) and
    their entries (the most asked first, then in the order they were added). An entry counts
    as asked when the bot answered with it or a resident picked it from an offer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._generation = -1
        self._counted = -RECOUNT_S
        self._by_category: "OrderedDict[str, List[Tuple[str, str]]]" = OrderedDict()

    def _load(self) -> "OrderedDict[str, List[Tuple[str, str]]]":
        with session_scope(self.engine) as session:
            generation = current_generation(session)
            now = time.monotonic()
            if generation == self._generation and now - self._counted < RECOUNT_S:
                return self._by_category
            rows = session.execute(select(Entry.ext_id, Entry.question, Entry.category)
                                   .where(Entry.status == "published").order_by(Entry.id)).all()
            asked = dict(session.execute(
                select(Question.entry_id, func.count()).where(Question.entry_id != "")
                .group_by(Question.entry_id)).all())
        groups: Dict[str, List[Tuple[str, str]]] = {}
        for ext_id, question, category in rows:
            groups.setdefault((category or "").strip() or OTHER, []).append((ext_id, question))
        for entries in groups.values():  # stable: ties keep the order they were added in
            entries.sort(key=lambda item: -asked.get(item[0], 0))
        ordered = OrderedDict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))
        with self._lock:
            self._by_category, self._generation, self._counted = ordered, generation, now
        return ordered

    def categories(self) -> List[str]:
        """Category names, the largest first."""
        return list(self._load())

    def entries(self, category: str) -> List[Tuple[str, str]]:
        """``(entry id, question)`` of one category."""
        return list(self._load().get(category, ()))

    def entry(self, entry_id: str) -> Optional[Mapping[str, Any]]:
        """A published entry's question, short answer and answer."""
        with session_scope(self.engine) as session:
            row = session.execute(select(Entry.question, Entry.short_answer, Entry.answer)
                                  .where(Entry.ext_id == entry_id,
                                         Entry.status == "published")).first()
        if row is None:
            return None
        return {"question": row[0], "short_answer": row[1] or "", "answer": row[2]}
