"""Nothing blocks the event loop: a conversation held up in the database leaves the rest serving.

Runs ``govbot serve`` on the real PostgreSQL server that ``.ci/run`` starts, and holds up one
conversation with a real lock: an uncommitted claim on its message (the exactly-once record),
or a table lock that its handoff's write must wait for.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from typing import Any, Dict, List

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import LiveServer, new_pg_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _timed(server: LiveServer, path: str, body: Dict[str, Any] | None = None) -> float:
    started = time.monotonic()
    if body is None:
        with urllib.request.urlopen(server.url + path, timeout=30) as resp:
            assert resp.status == 200
    else:
        assert server.chat(**body)["messages"]
    return time.monotonic() - started


def _in_background(server: LiveServer, body: Dict[str, Any], out: List[Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: out.append(server.chat(**body)), daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def pg_server(trained_model, tmp_path_factory) -> Any:
    with new_pg_database() as pg_url:
        server = LiveServer(tmp_path_factory.mktemp("nonblocking"),
                            env={"GOVBOT_DATABASE_URL": pg_url}).start()
        engine = create_engine(pg_url, future=True)
        yield server, engine
        engine.dispose()
        assert server.stop() == 0


def _others_still_answer(server: LiveServer, held: threading.Thread) -> None:
    time.sleep(0.5)  # the held request is now waiting on the database
    assert held.is_alive()
    for _ in range(3):
        assert _timed(server, "/healthz") < 1.0
        assert _timed(server, "/api/chat", {"sender": "free-" + uuid.uuid4().hex[:8],
                                            "text": "你好"}) < 1.0
    assert held.is_alive()


def test_a_claim_held_in_the_database_blocks_only_its_own_message(pg_server) -> None:
    server, engine = pg_server
    sender = "held-" + uuid.uuid4().hex[:8]
    out: List[Any] = []
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("INSERT INTO deliveries (channel, conversation, message_id, status, "
                          "claimed_at) VALUES ('api', :s, 'm1', 'pending', now())"), {"s": sender})
        held = _in_background(server, {"sender": sender, "text": "你好", "message_id": "m1"}, out)
        _others_still_answer(server, held)
        tx.rollback()  # the row never existed: the held message now runs
    held.join(30)
    assert out and out[0]["messages"], out


def test_an_action_waiting_on_a_table_lock_blocks_only_its_conversation(pg_server) -> None:
    server, engine = pg_server
    sender = "locked-" + uuid.uuid4().hex[:8]
    out: List[Any] = []
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("LOCK TABLE handoffs IN ACCESS EXCLUSIVE MODE"))
        held = _in_background(server, {"sender": sender, "text": "人工"}, out)
        _others_still_answer(server, held)
        tx.commit()
    held.join(30)
    customs = [m.get("custom") or {} for m in out[0]["messages"]]
    assert any(c.get("type") == "handoff" for c in customs), out
