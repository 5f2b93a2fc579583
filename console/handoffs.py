"""The handoff inbox: residents waiting for a person, with the transcript; staff take a
conversation, reply live (the bot stays quiet), and hand it back or close it."""
from __future__ import annotations

from typing import Any, List
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.errors import NotFoundError
from knowledge.handoffs import STATUSES, HandoffDesk

STATUS_NAMES = {"waiting": "等待接入", "taken": "人工服务中", "back": "已交回机器人",
                "closed": "已结束", "answered": "已答复", "transferred": "电话已转接"}
CHANNEL_NAMES = {"web": "网页", "wechat": "微信", "jambonz": "电话", "sip": "电话",
                 "rest": "接口", "unknown": "未知"}


def desk_of(request: web.Request) -> HandoffDesk:
    """The inbox on the console's database."""
    console = console_of(request)
    return HandoffDesk(console.kb.engine, console.hotline)


async def inbox(request: web.Request) -> web.Response:
    """Handoffs with one status (waiting by default), the longest waiting first."""
    status = request.query.get("status", "waiting")
    if status not in STATUSES:
        status = "waiting"
    console = console_of(request)
    rows = await console.blocking(desk_of(request).list, status)
    return aiohttp_jinja2.render_template("handoffs.html", request, {
        "rows": rows, "status": status, "statuses": STATUS_NAMES, "channels": CHANNEL_NAMES})


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["hid"])
    except ValueError as exc:
        raise NotFoundError("没有这个转人工记录") from exc


async def conversation(request: web.Request) -> web.Response:
    """One handoff: the transcript, the live messages, and what staff can do now."""
    console = console_of(request)
    record = await console.blocking(desk_of(request).get, _id(request))
    return aiohttp_jinja2.render_template("handoff.html", request, {
        "h": record, "statuses": STATUS_NAMES, "channels": CHANNEL_NAMES,
        "note": request.query.get("note", "")[:200],
        "last": record["messages"][-1]["id"] if record["messages"] else 0})


async def act(request: web.Request) -> web.Response:
    """Take, reply, hand back or close."""
    staff = require(request, "editor")
    form = await request.post()
    action = str(form.get("action", ""))
    handoff_id = _id(request)
    console, desk = console_of(request), desk_of(request)
    note = ""
    if action == "take":
        await console.blocking(desk.take, handoff_id, staff.name)
    elif action == "reply":
        note = await console.blocking(desk.reply, handoff_id, staff.name,
                                      str(form.get("text", "")))
    elif action == "back":
        await console.blocking(desk.hand_back, handoff_id, staff.name)
    elif action == "close":
        await console.blocking(desk.close, handoff_id, staff.name)
    else:
        raise web.HTTPBadRequest(text="未知的操作")
    if action != "reply":
        await console.held_changed()
    await console.blocking(console.staff.audit, staff.name, f"handoff_{action}",
                           str(handoff_id))
    target = f"/admin/handoffs/{handoff_id}"
    raise web.HTTPSeeOther(target + (f"?note={quote(note)}" if note else "") + "#reply")


async def messages_api(request: web.Request) -> web.Response:
    """New live messages as JSON (the page polls this while staff hold the conversation)."""
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        after = 0
    console = console_of(request)
    desk = desk_of(request)
    record = await console.blocking(desk.get, _id(request))
    new = [m for m in record["messages"] if m["id"] > after]
    return web.json_response({"status": record["status"], "messages": new})


def routes() -> List[Any]:
    """The inbox pages and their polling API."""
    return [web.get("/handoffs", inbox), web.get("/handoffs/{hid}", conversation),
            web.post("/handoffs/{hid}", act),
            web.get("/api/handoffs/{hid}/messages", messages_api)]
