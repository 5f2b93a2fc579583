"""Confusable entries: the pairs that residents' questions keep splitting between (the ones
a clarification offered first and second), the questions behind each pair, and merging two
entries into one."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any, Dict, List, Tuple

from sqlalchemy import select

from knowledge.db import session_scope
from knowledge.errors import ValidationError
from knowledge.models import Entry, Question, utcnow
from knowledge.schema import MAX_SIMILAR, EntryInput

QUESTIONS_SHOWN = 8


def confusable_pairs(engine: Any, days: int = 30, limit: int = 30) -> List[Dict[str, Any]]:
    """Pairs of entries offered together most often in the last ``days`` days, each with the
    questions behind it and which of the two residents then picked."""
    since = utcnow() - timedelta(days=days)
    with session_scope(engine) as session:
        rows = session.execute(select(Question.id, Question.query, Question.offered,
                                      Question.decision, Question.entry_id, Question.channel)
                               .where(Question.at >= since).order_by(Question.id)).all()
    counts: Counter = Counter()
    asked: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    picked: Dict[Tuple[str, str], Counter] = defaultdict(Counter)
    for _id, query, offered, decision, entry_id, _channel in rows:
        if not offered or len(offered) < 2:
            continue
        pair = tuple(sorted(offered[:2]))
        if decision == "clarify":
            counts[pair] += 1
            if len(asked[pair]) < QUESTIONS_SHOWN and query not in asked[pair]:
                asked[pair].append(query)
        elif decision == "chosen":  # what the resident picked from that offer
            picked[pair][entry_id if entry_id in pair else "other"] += 1
    titles = _titles(engine, {eid for pair in counts for eid in pair})
    return [{"a": a, "b": b, "a_title": titles.get(a, ""), "b_title": titles.get(b, ""),
             "count": n, "questions": asked[(a, b)], "picked": dict(picked[(a, b)])}
            for (a, b), n in counts.most_common(limit)]


def _titles(engine: Any, ids: set) -> Dict[str, str]:
    if not ids:
        return {}
    with session_scope(engine) as session:
        return dict(session.execute(select(Entry.ext_id, Entry.question)
                                    .where(Entry.ext_id.in_(list(ids)))).all())


def merge_entries(kb: Any, keep: str, fold: str, actor: str) -> Dict[str, Any]:
    """Fold entry ``fold`` into ``keep``: its title and similar questions become similar
    questions of ``keep`` (which answers them from now on), and ``fold`` is archived.

    Raises:
        ValidationError: the same entry twice, or too many similar questions together.
        NotFoundError / ConflictError: from the knowledge service.
    """
    if keep == fold:
        raise ValidationError("不能把条目合并到它自己", "fold")
    kept, folded = kb.get_entry(keep), kb.get_entry(fold)
    if kept is None or folded is None:
        raise ValidationError(f"没有编号为 {fold if kept else keep} 的条目", "keep")
    similar = list(dict.fromkeys(list(kept["similar_questions"]) + [folded["question"]]
                                 + list(folded["similar_questions"])))
    similar = [s for s in similar if s != kept["question"]]
    if len(similar) > MAX_SIMILAR:
        raise ValidationError(f"合并后相似问题超过 {MAX_SIMILAR} 条，请先精简", "fold")
    kept["similar_questions"] = similar
    kb.save_entry(EntryInput.from_mapping(kept), actor, kept["version"])
    kb.set_status(fold, "archived", actor)
    return kb.get_entry(keep)
