"""The confusable-entries report: the pairs residents' questions keep splitting between, with
the questions behind each, and the ways out: merge the two, or make them distinct."""
from __future__ import annotations

from typing import Any, List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.confusable import confusable_pairs, merge_entries


async def report(request: web.Request) -> web.Response:
    """The pairs of the last 30 days, the most often offered together first."""
    console = console_of(request)
    pairs = await console.blocking(confusable_pairs, console.kb.engine, 30, 30)
    return aiohttp_jinja2.render_template("confusable.html", request, {
        "pairs": pairs, "merged": request.query.get("merged", "")[:128]})


async def merge(request: web.Request) -> web.Response:
    """Merge one entry of a pair into the other (reviewers: it changes live answers)."""
    staff = require(request, "reviewer")
    form = await request.post()
    keep, fold = str(form.get("keep", "")), str(form.get("fold", ""))
    console = console_of(request)
    await console.blocking(merge_entries, console.kb, keep, fold, staff.name)
    await console.blocking(console.staff.audit, staff.name, "merge", keep, {"archived": fold})
    raise web.HTTPSeeOther(f"/admin/confusable?merged={keep}")


def routes() -> List[Any]:
    """The report and its merge action."""
    return [web.get("/confusable", report), web.post("/confusable/merge", merge)]
