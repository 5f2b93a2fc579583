"""The outbox of pushes and the shared access token, on SQLite and the real PostgreSQL server."""
from __future__ import annotations

import pytest

from knowledge.db import make_engine, upgrade
from knowledge.outbox import MAX_ATTEMPTS, OutboxStore, TokenStore, backoff


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, engine):
    if request.param == "sqlite":
        yield engine
        return
    pg = make_engine(request.getfixturevalue("pg_url"))
    upgrade(pg)
    yield pg
    pg.dispose()


def test_pushes_are_leased_once_and_sent_in_order(db) -> None:
    box = OutboxStore(db)
    first = box.add("wechat", "o1", "一", "m1")
    second = box.add("wechat", "o1", "二", "m1")
    taken = box.take_due("wechat")
    assert [p.id for p in taken] == [first, second]
    assert box.take_due("wechat") == []  # leased: another instance takes nothing
    box.sent(first)
    assert [r.status for r in box.list(channel="wechat")] == ["pending", "sent"]


def test_a_promise_is_invisible_until_fulfilled(db) -> None:
    box = OutboxStore(db)
    promise = box.promise("wechat", "o1", "m9")
    assert box.promised("wechat", "o1", "m9") and not box.promised("wechat", "o2", "m9")
    assert box.take_due("wechat") == []
    box.fulfil(promise, ["甲", "乙"])
    assert [p.text for p in box.take_due("wechat")] == ["甲", "乙"]
    other = box.promise("wechat", "o1", "m10")
    box.drop(other)
    assert not box.promised("wechat", "o1", "m10")


def test_failed_tries_back_off_then_stay_failed(db) -> None:
    box = OutboxStore(db)
    push = box.add("wechat", "o1", "答", "m1")
    assert box.failed_try(push, 1, "timeout") == "pending"
    assert box.take_due("wechat") == []  # not due again before its back-off
    assert box.failed_try(push, MAX_ATTEMPTS, "timeout") == "failed"
    assert box.failed_try(box.add("wechat", "o2", "答", "m2"), 1, "45015", final=True) == "failed"
    assert {r.recipient for r in box.list(status="failed")} == {"o1", "o2"}
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [1, 2, 4, 300]


def test_one_refresh_lease_at_a_time(db) -> None:
    a, b = TokenStore(db, "wechat:x"), TokenStore(db, "wechat:x")
    assert a.read().token == ""
    assert a.lease_refresh("").leased
    assert not b.lease_refresh("").leased  # a holds it
    a.store("T1", 7200)
    state = b.lease_refresh("")  # the token changed: b must not refresh again
    assert not state.leased and state.token == "T1"
    assert b.lease_refresh("T1").leased  # T1 refused by the API: b may replace it
    b.release()
    assert a.lease_refresh("T1").leased
