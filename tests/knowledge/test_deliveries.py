"""The exactly-once record on SQLite and on the real PostgreSQL server."""
from __future__ import annotations

from datetime import timedelta

import pytest

from knowledge.db import make_engine, upgrade
from knowledge.deliveries import DeliveryStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, engine):
    if request.param == "sqlite":
        yield DeliveryStore(engine)
        return
    url = request.getfixturevalue("pg_url")
    pg = make_engine(url)
    upgrade(pg)
    yield DeliveryStore(pg)
    pg.dispose()


def test_claim_finish_replay(store) -> None:
    assert store.claim("web", "c1", "m1").state == "new"
    assert store.claim("web", "c1", "m1").state == "pending"
    store.finish("web", "c1", "m1", {"messages": [{"text": "好"}]})
    claim = store.claim("web", "c1", "m1")
    assert claim.state == "done" and claim.reply == {"messages": [{"text": "好"}]}
    assert store.claim("web", "c2", "m1").state == "new"  # another resident's m1
    assert store.claim("api", "c1", "m1").state == "new"  # another channel's


def test_release_lets_a_retry_run(store) -> None:
    store.claim("web", "c1", "m1")
    store.release("web", "c1", "m1")
    assert store.reply("web", "c1", "m1").state == "new"
    assert store.claim("web", "c1", "m1").state == "new"


def test_prune_forgets_old_records(store) -> None:
    store.claim("web", "c1", "old")
    store.finish("web", "c1", "old", {"messages": []})
    assert store.prune(keep_for=timedelta(days=1)) == 0
    assert store.prune(keep_for=timedelta(seconds=-1)) == 1
    assert store.reply("web", "c1", "old").state == "new"
