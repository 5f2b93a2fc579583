"""knowledge.writes: one transaction's entry upserts, revisions, terms and the change counter."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.db import session_scope
from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.models import Revision, Term
from knowledge.schema import EntryInput
from knowledge.writes import (bump_generation, current_generation, remove_term, upsert_entry,
                              write_terms)


def _item(status: str = "published", answer: str = "到社区服务中心申请。") -> EntryInput:
    return EntryInput.from_mapping({"id": "w-1", "question": "高龄津贴怎么申请", "answer": answer,
                                    "status": status})


def _actions(engine) -> list[str]:
    with session_scope(engine) as session:
        return [r.action for r in session.scalars(select(Revision).order_by(Revision.id))]


def test_the_counter_starts_at_zero_and_counts_transactions(engine):
    with session_scope(engine) as session:
        assert current_generation(session) == 0
        assert bump_generation(session) == 1
        assert bump_generation(session) == 2
    with session_scope(engine) as session:
        assert current_generation(session) == 2


def test_upsert_records_create_update_and_status_only_changes(engine):
    moved = "到街道申请。"
    steps = [(_item(), None, "created", 1), (_item(), 1, "unchanged", 1),
             (_item(answer=moved), 1, "updated", 2), (_item("archived", moved), 2, "updated", 3)]
    for item, expected, action, version in steps:
        with session_scope(engine) as session:
            outcome, entry = upsert_entry(session, item, "staff", expected, bump_generation(session))
            assert (outcome.action, outcome.version, entry.version) == (action, version, version)
    assert _actions(engine) == ["create", "update", "status"]  # unchanged writes no revision


def test_a_stale_version_is_refused_and_the_transaction_writes_nothing(engine):
    with session_scope(engine) as session:
        upsert_entry(session, _item(), "staff", None, bump_generation(session))
    with pytest.raises(ConflictError):
        with session_scope(engine) as session:
            upsert_entry(session, _item(answer="改了"), "other", 7, bump_generation(session))
    with session_scope(engine) as session:
        assert current_generation(session) == 1
    assert _actions(engine) == ["create"]


def test_one_bad_term_keeps_the_whole_batch_out(engine):
    with pytest.raises(ValidationError):
        with session_scope(engine) as session:
            write_terms(session, {"医保卡": "社保卡", "社保卡": "社会保障卡"}, "staff")  # a chain
    with session_scope(engine) as session:
        assert session.scalars(select(Term)).all() == []
        write_terms(session, {"医保卡": "社保卡"}, "staff")
    with session_scope(engine) as session:
        remove_term(session, "医保卡", "staff")
    assert _actions(engine) == ["create", "delete"]
    with pytest.raises(NotFoundError):
        with session_scope(engine) as session:
            remove_term(session, "医保卡", "staff")
