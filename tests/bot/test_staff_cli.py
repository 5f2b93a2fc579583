"""``govbot answer``: a staff answer reaches a WeChat resident within the 48-hour window, and the
staff record says what happened on every channel."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bot.cli import main
from knowledge.deliveries import DeliveryStore
from knowledge.models import Delivery, utcnow
from knowledge.outbox import OutboxStore
from knowledge.records import Records


def _resident_wrote(engine: Any, openid: str, ago: timedelta) -> None:
    store = DeliveryStore(engine)
    store.claim("wechat", openid, "m-last")
    with engine.begin() as conn:
        conn.execute(update(Delivery).where(Delivery.conversation == openid)
                     .values(claimed_at=utcnow() - ago))


def test_a_wechat_handoff_answer_is_pushed(engine: Any, sqlite_url: str, capsys: Any) -> None:
    _resident_wrote(engine, "oRes1", timedelta(hours=3))
    records = Records(engine)
    handoff = records.create_handoff("wechat:oRes1", "wechat", "人工", [])
    assert main(["answer", "handoff", str(handoff), "您的社保卡已补办好。", "--db", sqlite_url,
                 "--actor", "王芳"]) == 0
    (push,) = OutboxStore(engine).list(status="pending")
    assert (push.recipient, push.ref) == ("oRes1", f"handoff-{handoff}")
    assert push.text == "工作人员回复：您的社保卡已补办好。"
    record = records.get_handoff(handoff)
    assert record["status"] == "answered" and "已排入微信推送" in record["answer_note"]
    assert record["answer"] == "您的社保卡已补办好。"


def test_outside_the_48_hour_window_nothing_is_pushed_and_the_record_says_so(
        engine: Any, sqlite_url: str) -> None:
    _resident_wrote(engine, "oRes2", timedelta(hours=49))
    records = Records(engine)
    handoff = records.create_handoff("wechat:oRes2", "wechat", "人工", [])
    assert main(["answer", "handoff", str(handoff), "已处理", "--db", sqlite_url]) == 0
    assert OutboxStore(engine).list() == []
    assert "48 小时" in records.get_handoff(handoff)["answer_note"]


def test_a_web_request_is_answered_on_the_record(engine: Any, sqlite_url: str) -> None:
    records = Records(engine)
    number = records.create_ticket("路灯坏了", "朝阳区", "13800000000", "web:abcdefgh", "web")
    assert main(["answer", "ticket", number, "已派单维修", "--db", sqlite_url]) == 0
    record = records.get_ticket(number)
    assert record["status"] == "answered" and "不能主动推送" in record["answer_note"]
    assert OutboxStore(engine).list() == []


def test_answering_a_question_left_for_staff_closes_it_in_the_review_queue(
        engine: Any, sqlite_url: str) -> None:
    records = Records(engine)
    queued = records.log_unanswered("独生子女父母奖励怎么领", "web", "web:abcdefgh")
    other = records.log_unanswered("别的问题", "web", "web:abcdefgh")
    number = records.create_ticket("独生子女父母奖励怎么领", "", "13800000000", "web:abcdefgh",
                                   "web", kind="question", unanswered_id=queued)
    assert records.get_ticket(number)["kind"] == "question"
    assert main(["answer", "ticket", number, "请到街道计生办申领", "--db", sqlite_url]) == 0
    status = {q["id"]: (q["status"], q["ticket_number"]) for q in records.list_unanswered(None)}
    assert status == {queued: ("done", number), other: ("new", "")}


def test_bad_answers_are_coded_errors(engine: Any, sqlite_url: str, capsys: Any) -> None:
    assert main(["answer", "handoff", "999", "你好", "--db", sqlite_url]) == 2
    assert "[not_found]" in capsys.readouterr().err
    assert main(["answer", "ticket", "GD1", "  ", "--db", sqlite_url]) == 2
    assert "[invalid]" in capsys.readouterr().err
