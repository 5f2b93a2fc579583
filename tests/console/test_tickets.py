"""Tickets in the console: filters, assignment, statuses, the conversation behind a ticket,
and answers pushed where the resident's channel can push."""
from __future__ import annotations

import json

from sqlalchemy import text

from knowledge.deliveries import DeliveryStore
from knowledge.outbox import OutboxStore
from knowledge.tickets import conversation
from tests.console.conftest import page_csrf, post_form, sign_in


def test_the_conversation_comes_from_the_tracker_store(engine) -> None:
    assert conversation(engine, "web:x") == []  # no tracker store on this database
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, "
                          "type_name TEXT, data TEXT)"))
        for kind, said in (("user", "路灯坏了"), ("action", ""), ("bot", "请问在哪个区？"),
                           ("user", "朝阳区"), ("bot", "")):
            conn.execute(text("INSERT INTO events (sender_id, type_name, data) VALUES "
                              "(:s, :k, :d)"), {"s": "web:x", "k": kind,
                                                "d": json.dumps({"text": said})})
        conn.execute(text("INSERT INTO events (sender_id, type_name, data) VALUES "
                          "('web:x', 'user', 'not json')"))
    assert conversation(engine, "web:x") == [
        {"who": "居民", "text": "路灯坏了"}, {"who": "机器人", "text": "请问在哪个区？"},
        {"who": "居民", "text": "朝阳区"}]


async def test_assign_move_and_answer_a_ticket(console, records, engine) -> None:
    DeliveryStore(engine).claim("wechat", "oRes1", "m-1")  # wrote just now
    wechat = records.create_ticket("小区路灯坏了三天了", "朝阳区", "13800138000", "wechat:oRes1",
                                   "wechat")
    web = records.create_ticket("社保卡什么时候能领", "", "13900139000", "web:wAbc12345678",
                                "web", kind="question")
    await sign_in(console, "editor")
    listing = await (await console.get("/admin/tickets")).text()
    assert wechat in listing and web in listing and "共 2 件" in listing
    questions = await (await console.get("/admin/tickets?kind=question")).text()
    assert web in questions and wechat not in questions
    csrf = await page_csrf(console, f"/admin/tickets/{wechat}")
    page = await (await console.get(f"/admin/tickets/{wechat}")).text()
    assert "小区路灯坏了三天了" in page and "13800138000" in page
    assigned = await post_form(console, f"/admin/tickets/{wechat}",
                               {"action": "assign", "assigned_to": "reviewer"}, csrf)
    assert assigned.status == 303
    page = await (await console.get(f"/admin/tickets/{wechat}")).text()
    assert "已分派，承办人 reviewer" in page
    moved = await post_form(console, f"/admin/tickets/{wechat}",
                            {"action": "status", "status": "in_progress"}, csrf)
    assert moved.status == 303
    bad = await post_form(console, f"/admin/tickets/{wechat}",
                          {"action": "status", "status": "lost"}, csrf)
    assert bad.status == 400
    empty = await post_form(console, f"/admin/tickets/{wechat}",
                            {"action": "answer", "text": ""}, csrf)
    assert empty.status == 400 and "答复内容" in await empty.text()
    answered = await post_form(console, f"/admin/tickets/{wechat}",
                               {"action": "answer", "text": "已派人维修，明天修好。"}, csrf)
    assert answered.status == 303
    (push,) = OutboxStore(engine).list(status="pending")
    assert push.text == "工作人员回复：已派人维修，明天修好。" and push.recipient == "oRes1"
    page = await (await console.get(f"/admin/tickets/{wechat}")).text()
    assert "已答复" in page and "已排入微信推送" in page
    await post_form(console, f"/admin/tickets/{web}", {"action": "answer", "text": "下周可领。"},
                    csrf)
    assert "不能主动推送" in await (await console.get(f"/admin/tickets/{web}")).text()
    assert (await console.get("/admin/tickets/GD-none")).status == 404
