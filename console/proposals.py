"""Editors' changes to published entries, waiting for a reviewer: publish one (the live
answer changes at once) or return it."""
from __future__ import annotations

from typing import Any, List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.proposals import apply, get, pending, reject


async def proposals_page(request: web.Request) -> web.Response:
    """Every proposal that waits, oldest first."""
    console = console_of(request)
    return aiohttp_jinja2.render_template("proposals.html", request, {
        "proposals": await console.blocking(pending, console.kb.engine)})


async def decide(request: web.Request) -> web.Response:
    """Publish or return one proposal (reviewers)."""
    staff = require(request, "reviewer")
    form = await request.post()
    try:
        proposal_id = int(request.match_info["pid"])
    except ValueError as exc:
        raise NotFoundError("没有这个修改提议") from exc
    console = console_of(request)
    proposal = await console.blocking(get, console.kb.engine, proposal_id)
    action = str(form.get("action", ""))
    if action == "apply":
        try:
            await console.blocking(apply, console.kb, proposal_id, staff.name)
        except ConflictError as exc:
            raise ConflictError(f"{exc}。条目在提议之后已被修改，请打开条目对照后重新提议或直接修改。") \
                from exc
    elif action == "reject":
        await console.blocking(reject, console.kb.engine, proposal_id, staff.name)
    else:
        raise ValidationError("未知的操作", "action")
    await console.blocking(console.staff.audit, staff.name, f"proposal_{action}",
                           proposal["entry_id"], {"proposal": proposal_id,
                                                  "author": proposal["author"]})
    raise web.HTTPSeeOther(f"/admin/entries/{proposal['entry_id']}?saved=1")


def routes() -> List[Any]:
    """The proposals page and its decisions."""
    return [web.get("/proposals", proposals_page), web.post("/proposals/{pid}", decide)]
