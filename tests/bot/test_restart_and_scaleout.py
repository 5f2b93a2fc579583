"""A restart mid-conversation continues; two instances on PostgreSQL + Redis share conversations."""
from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.slow


def _customs(body: dict, kind: str) -> list:
    return [m["custom"] for m in body["messages"] if (m.get("custom") or {}).get("type") == kind]


def test_restart_mid_conversation_continues(trained_model, tmp_path):
    server = LiveServer(tmp_path).start()
    s = "restart-" + uuid.uuid4().hex[:8]
    try:
        first = server.chat(s, "社保卡")
        items = _customs(first, "candidates")[0]["candidates"]
        assert server.stop() == 0  # SIGTERM: clean shutdown
        server.start()
        chosen = server.chat(s, "2")
        answered = _customs(chosen, "guide") + _customs(chosen, "answer")
        assert answered and answered[0]["entry_id"] == items[1]["id"], chosen
    finally:
        if server.proc and server.proc.poll() is None:
            assert server.stop() == 0


@pytest.mark.postgres
@pytest.mark.redis
def test_two_instances_share_state_on_postgres_and_redis(trained_model, tmp_path, pg_url, redis_url):
    env = {"GOVBOT_DATABASE_URL": pg_url, "GOVBOT_LOCK_STORE_URL": redis_url,
           "GOVBOT_KB_POLL_SECONDS": "0.2"}
    a = LiveServer(tmp_path / "a", env=env)
    b = LiveServer(tmp_path / "b", env=env)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a.start()
    b.start()
    try:
        s = "scale-" + uuid.uuid4().hex[:8]
        first = a.chat(s, "我要投诉")
        assert "具体" in first["messages"][0]["text"]
        b.chat(s, "小区里的路灯坏了一个多月没人修")  # the form continues on the other instance
        third = a.chat(s, "海淀区")
        assert "电话" in third["messages"][0]["text"], third
        # A KB edit through one process reaches the other's index without restart.
        from knowledge.db import make_engine
        from knowledge.schema import EntryInput
        from knowledge.service import KnowledgeService
        kb = KnowledgeService(make_engine(pg_url))
        kb.save_entry(EntryInput.from_mapping({
            "id": "scale-test", "question": "冰雕节门票在哪里买？",
            "answer": "冰雕节门票可在官方小程序购买。"}), "staff")
        import time
        time.sleep(1.0)
        q = "sk-" + uuid.uuid4().hex[:6]
        body = b.chat(q, "冰雕节门票在哪里买")
        found = _customs(body, "answer") + _customs(body, "guide") + _customs(body, "field")
        assert found and found[0]["entry_id"] == "scale-test", body
        with urllib.request.urlopen(b.url + "/healthz") as resp:
            assert json.loads(resp.read())["status"] == "ok"
    finally:
        assert a.stop() == 0
        assert b.stop() == 0


@pytest.mark.postgres
def test_a_retry_landing_on_another_instance_is_answered_once(trained_model, tmp_path, pg_url):
    from sqlalchemy import create_engine, text
    env = {"GOVBOT_DATABASE_URL": pg_url}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = LiveServer(tmp_path / "a", env=env).start()
    b = LiveServer(tmp_path / "b", env=env).start()
    try:
        s = "retry-" + uuid.uuid4().hex[:8]
        first = a.chat(s, "社保卡丢了怎么补办", message_id="m-1")
        again = b.chat(s, "社保卡丢了怎么补办", message_id="m-1")
        assert again == first
        with create_engine(pg_url, future=True).connect() as conn:
            turns = conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s AND "
                                      "type_name = 'user'"), {"s": f"api:{s}"}).scalar()
        assert turns == 1
    finally:
        assert a.stop() == 0
        assert b.stop() == 0
