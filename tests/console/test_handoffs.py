"""The handoff inbox: waiting residents with the transcript; take, reply, hand back, close;
the page's polling API; refusals."""
from __future__ import annotations

from knowledge.handoffs import HandoffDesk
from tests.console.conftest import page_csrf, post_form, sign_in

TRANSCRIPT = [{"who": "居民", "text": "社保卡丢了怎么办"}, {"who": "客服", "text": "……"},
              {"who": "居民", "text": "我要人工"}]


async def test_take_reply_hand_back_and_close(console, records, engine) -> None:
    hid = records.create_handoff("web:wAbc12345678", "web", "我要人工", TRANSCRIPT)
    told = []

    async def held_changed() -> None:
        told.append(HandoffDesk(engine).held())

    console.holder.held_changed = held_changed
    await sign_in(console, "editor")
    inbox = await (await console.get("/admin/handoffs")).text()
    assert f"转接单 {hid}" in inbox and "我要人工" in inbox and "网页" in inbox
    page = await (await console.get(f"/admin/handoffs/{hid}")).text()
    assert "社保卡丢了怎么办" in page and "接手这个对话" in page
    csrf = await page_csrf(console, f"/admin/handoffs/{hid}")
    early = await post_form(console, f"/admin/handoffs/{hid}",
                            {"action": "reply", "text": "您好"}, csrf)
    assert early.status == 409  # take it first
    taken = await post_form(console, f"/admin/handoffs/{hid}", {"action": "take"}, csrf)
    assert taken.status == 303
    assert told == [{"web:wAbc12345678": hid}]  # the turn runner knows at once
    sent = await post_form(console, f"/admin/handoffs/{hid}",
                           {"action": "reply", "text": "您好，我是王芳。"}, csrf)
    assert sent.status == 303 and "note=" in sent.headers["Location"]
    HandoffDesk(engine).record_resident(hid, "我的卡号是多少")
    api = await (await console.get(f"/admin/api/handoffs/{hid}/messages?after=0")).json()
    assert api["status"] == "taken"
    assert [(m["who"], m["text"]) for m in api["messages"]][1:] == [
        ("staff", "您好，我是王芳。"), ("resident", "我的卡号是多少")]
    later = await (await console.get(
        f"/admin/api/handoffs/{hid}/messages?after={api['messages'][-1]['id']}")).json()
    assert later["messages"] == []
    empty = await post_form(console, f"/admin/handoffs/{hid}", {"action": "reply", "text": " "},
                            csrf)
    assert empty.status == 400
    back = await post_form(console, f"/admin/handoffs/{hid}", {"action": "back"}, csrf)
    assert back.status == 303 and "web:wAbc12345678" not in HandoffDesk(engine).held()
    closed = await post_form(console, f"/admin/handoffs/{hid}", {"action": "close"}, csrf)
    assert closed.status == 303
    assert f"转接单 {hid}" in await (await console.get("/admin/handoffs?status=closed")).text()
    odd = await post_form(console, f"/admin/handoffs/{hid}", {"action": "explode"}, csrf)
    assert odd.status == 400
    assert (await console.get("/admin/handoffs/99999")).status == 404
    log = await (await console.get("/admin/audit", allow_redirects=False)).text()
    assert "没有权限" in log  # editors do not read the audit log


async def test_the_polling_api_needs_a_session(console, records) -> None:
    hid = records.create_handoff("web:wAbc12345678", "web", "人工", [])
    resp = await console.get(f"/admin/api/handoffs/{hid}/messages")
    assert resp.status == 401
