"""Requests and tickets: complaints, suggestions and questions residents left; list, assign,
change status, read the conversation, and answer (pushed where the channel can push)."""
from __future__ import annotations

from typing import Any, List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.errors import ValidationError
from knowledge.handoffs import ANSWER_PREFIX, push_note
from knowledge.models import TICKET_KINDS, TICKET_STATUSES
from knowledge.tickets import PAGE_SIZE, conversation, get_ticket, list_tickets, update_ticket

KIND_NAMES = {"complaint": "投诉建议", "question": "留言咨询"}
STATUS_NAMES = {"new": "新工单", "assigned": "已分派", "in_progress": "办理中",
                "answered": "已答复", "closed": "已办结"}
MAX_ANSWER = 5000


async def ticket_list(request: web.Request) -> web.Response:
    """Tickets by kind and status, newest first, paged."""
    q = request.query
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    kind = q.get("kind", "") if q.get("kind") in TICKET_KINDS else ""
    status = q.get("status", "") if q.get("status") in TICKET_STATUSES else ""
    console = console_of(request)
    rows, total = await console.blocking(list_tickets, console.kb.engine, kind, status, page)
    return aiohttp_jinja2.render_template("tickets.html", request, {
        "rows": rows, "total": total, "kind": kind, "status": status, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "kinds": KIND_NAMES, "statuses": STATUS_NAMES})


async def ticket_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    """One ticket, the conversation behind it, and the forms to assign, move and answer."""
    console = console_of(request)
    ticket = await console.blocking(get_ticket, console.kb.engine, request.match_info["number"])
    talk = await console.blocking(conversation, console.kb.engine, ticket["sender"])
    staff = await console.blocking(console.staff.users)
    return aiohttp_jinja2.render_template("ticket.html", request, {
        "t": ticket, "talk": talk, "people": [u["name"] for u in staff], "error": error,
        "kinds": KIND_NAMES, "statuses": STATUS_NAMES}, status=status)


async def ticket_action(request: web.Request) -> web.Response:
    """Assign, change status, or answer."""
    staff = require(request, "editor")
    form = await request.post()
    number = request.match_info["number"]
    console = console_of(request)
    engine = console.kb.engine
    action = str(form.get("action", ""))
    if action == "assign":
        await console.blocking(update_ticket, engine, number, None,
                               str(form.get("assigned_to", "")))
    elif action == "status":
        await console.blocking(update_ticket, engine, number, str(form.get("status", "")))
    elif action == "answer":
        text = str(form.get("text", "")).strip()
        if not text or len(text) > MAX_ANSWER:
            return await ticket_page(request, f"答复内容须为 1–{MAX_ANSWER} 字", status=400)
        ticket = await console.blocking(get_ticket, engine, number)
        note = await console.blocking(push_note, engine, ticket["sender"],
                                      ANSWER_PREFIX + text, ticket["ref"])
        await console.blocking(console.records.save_answer, "ticket", ticket["id"], text, note,
                               staff.name)
    else:
        raise ValidationError("未知的操作", "action")
    await console.blocking(console.staff.audit, staff.name, f"ticket_{action}", number)
    raise web.HTTPSeeOther(f"/admin/tickets/{number}")


def routes() -> List[Any]:
    """The ticket pages."""
    return [web.get("/tickets", ticket_list), web.get("/tickets/{number}", ticket_page),
            web.post("/tickets/{number}", ticket_action)]
