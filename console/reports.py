"""The dashboard (questions, decisions, handoffs and tickets, top questions) and the audit log."""
from __future__ import annotations

from typing import List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.listing import dashboard

DECISIONS = {"answer": "直接回答", "clarify": "反问确认", "none": "无法回答"}


async def dashboard_page(request: web.Request) -> web.Response:
    """Figures for the last 14 days, each chart with its data table."""
    console = console_of(request)
    data = await console.blocking(dashboard, console.kb.engine, 14)
    most = max([n for _, n in data["days"]] + [1])
    return aiohttp_jinja2.render_template("dashboard.html", request, {
        "data": data, "most": most, "decision_names": DECISIONS})


async def audit_page(request: web.Request) -> web.Response:
    """Who did what, newest first (reviewers and admins)."""
    require(request, "reviewer")
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    console = console_of(request)
    events = await console.blocking(console.staff.audit_log, 100, (page - 1) * 100)
    return aiohttp_jinja2.render_template("audit.html", request, {
        "events": events, "page": page})


def routes() -> List[web.RouteDef]:
    """The dashboard and the audit log."""
    return [web.get("/dashboard", dashboard_page), web.get("/audit", audit_page)]
