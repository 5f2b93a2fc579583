"""Live handoffs: take, reply, hand back and close; pushes claimed once across instances;
residents told once when they wait too long; WeChat replies through the outbox."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from knowledge.deliveries import DeliveryStore
from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.handoffs import BACK, CLOSED, TAKEN, HandoffDesk
from knowledge.models import Delivery, Handoff, HandoffMessage, utcnow
from knowledge.outbox import OutboxStore


def test_take_reply_and_hand_back(engine, records) -> None:
    desk = HandoffDesk(engine)
    hid = records.create_handoff("web:wAbc12345678", "web", "人工", [{"who": "居民", "text": "人工"}])
    assert "web:wAbc12345678" not in desk.held()
    with pytest.raises(ConflictError):
        desk.reply(hid, "wang", "您好")  # not taken yet
    desk.take(hid, "wang")
    assert desk.held() == {"web:wAbc12345678": hid}
    with pytest.raises(ConflictError):
        desk.take(hid, "li")  # someone else holds it
    note = desk.reply(hid, "wang", "您好，我是王芳。")
    assert "页面" in note
    desk.record_resident(hid, "我的社保卡丢了")
    for bad in ("", "   ", "长" * 2001):
        with pytest.raises(ValidationError):
            desk.reply(hid, "wang", bad)
    desk.hand_back(hid, "wang")
    assert desk.held() == {}
    record = desk.get(hid)
    assert record["status"] == "back" and record["taken_by"] == "wang"
    assert [(m["who"], m["text"]) for m in record["messages"]] == [
        ("system", TAKEN), ("staff", "您好，我是王芳。"), ("resident", "我的社保卡丢了"),
        ("system", BACK)]
    desk.close(hid, "wang")
    assert desk.get(hid)["messages"][-1]["text"] == CLOSED
    with pytest.raises(ConflictError):
        desk.hand_back(hid, "wang")
    with pytest.raises(NotFoundError):
        desk.take(99999, "wang")


def test_pushes_are_claimed_once_across_instances(engine, records) -> None:
    one, two = HandoffDesk(engine), HandoffDesk(engine)
    hid = records.create_handoff("web:wAbc12345678", "web", "人工", [])
    other = records.create_handoff("web:wOther123456", "web", "人工", [])
    one.take(hid, "wang")
    one.reply(hid, "wang", "第一句")
    one.take(other, "li")
    first = one.claim_pushes("web", ["wAbc12345678"])
    assert [(c, who, text) for c, _, who, text in first] == [
        ("wAbc12345678", "system", TAKEN), ("wAbc12345678", "staff", "第一句")]
    assert two.claim_pushes("web", ["wAbc12345678"]) == []  # already shown
    assert [t for _, _, _, t in two.claim_pushes("web", ["wOther123456"])] == [TAKEN]
    assert one.claim_pushes("web", []) == []


def test_residents_waiting_too_long_are_told_once(engine, records) -> None:
    desk = HandoffDesk(engine, hotline="12345")
    old = records.create_handoff("web:wAbc12345678", "web", "人工", [])
    records.create_handoff("web:wNew12345678", "web", "人工", [])
    with engine.begin() as conn:
        conn.execute(update(Handoff).where(Handoff.id == old)
                     .values(created_at=utcnow() - timedelta(minutes=10)))
    assert desk.tell_waiting(timedelta(minutes=5)) == 1
    assert desk.tell_waiting(timedelta(minutes=5)) == 0
    (message,) = desk.get(old)["messages"]
    assert message["who"] == "system" and "12345" in message["text"]


def test_wechat_replies_go_through_the_outbox_within_the_window(engine, records) -> None:
    DeliveryStore(engine).claim("wechat", "oRes1", "m-1")  # the resident wrote just now
    desk = HandoffDesk(engine)
    hid = records.create_handoff("wechat:oRes1", "wechat", "人工", [])
    desk.take(hid, "wang")
    note = desk.reply(hid, "wang", "您好")
    assert "已排入微信推送" in note
    texts = [p.text for p in OutboxStore(engine).list(status="pending")]
    assert sorted(texts) == sorted([TAKEN, "工作人员：您好"])
    assert desk.claim_pushes("wechat", ["oRes1"]) == []  # not pushed twice


def test_a_wechat_reply_outside_the_window_stays_undelivered(engine, records) -> None:
    """WeChat refuses pushes 48 hours after the resident's last message: the reply is not
    queued, the record says so, and the message is not marked delivered (nor is any other)."""
    from knowledge.db import session_scope
    DeliveryStore(engine).claim("wechat", "oRes2", "m-1")
    with session_scope(engine) as session:  # the resident last wrote three days ago
        session.execute(update(Delivery).values(claimed_at=utcnow() - timedelta(days=3)))
    desk = HandoffDesk(engine)
    hid = records.create_handoff("wechat:oRes2", "wechat", "人工", [])
    desk.take(hid, "wang")
    note = desk.reply(hid, "wang", "您好")
    assert "48 小时" in note and OutboxStore(engine).list(status="pending") == []
    with session_scope(engine) as session:
        undelivered = session.scalars(HandoffMessage.__table__.select()
                                      .with_only_columns(HandoffMessage.text)
                                      .where(HandoffMessage.handoff_id == hid,
                                             HandoffMessage.delivered_at.is_(None))).all()
    assert sorted(undelivered) == sorted([TAKEN, "您好"])
