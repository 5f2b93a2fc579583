"""The unanswered queue: what residents asked that the bot could not answer, grouped, with
one click to make a question a similar question of an entry or the start of a new one."""
from __future__ import annotations

import re
from typing import Any, Dict, List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.errors import NotFoundError, ValidationError
from knowledge.models import UNANSWERED_STATUSES
from knowledge.proposals import propose
from knowledge.schema import EntryInput

STATUS_NAMES = {"new": "新问题", "pending": "处理中", "done": "已处理", "ignored": "已忽略"}
_NOISE = re.compile(r"[\s\W_]+")
_POLITE = re.compile(r"请问|你好|您好|我想问|想问一下|一下|呢|吗|啊|呀")


def group_key(query: str) -> str:
    """Questions that differ only in punctuation, spacing and politeness share a key."""
    return _NOISE.sub("", _POLITE.sub("", query)).lower()


def group(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Similar questions together: the same words, or the same best candidate."""
    groups: Dict[str, Dict[str, Any]] = {}
    for item in items:
        best = item["candidates"][0]["id"] if item["candidates"] else ""
        key = f"entry:{best}" if best else f"text:{group_key(item['query'])}"
        found = groups.setdefault(key, {"items": [], "candidates": item["candidates"]})
        found["items"].append(item)
    return sorted(groups.values(), key=lambda g: -len(g["items"]))


async def queue_page(request: web.Request) -> web.Response:
    """The queue for one status (New by default), similar questions grouped."""
    status = request.query.get("status", "new")
    if status not in UNANSWERED_STATUSES:
        status = "new"
    console = console_of(request)
    items = await console.blocking(console.records.list_unanswered, status, 500)
    return aiohttp_jinja2.render_template("queue.html", request, {
        "groups": group(items), "status": status, "statuses": STATUS_NAMES,
        "count": len(items)})


async def set_status(request: web.Request) -> web.Response:
    """Move a question to another status."""
    staff = require(request, "editor")
    form = await request.post()
    item = _item_id(request)
    status = str(form.get("status", ""))
    console = console_of(request)
    await console.blocking(console.records.set_unanswered_status, item, status,
                           str(form.get("note", ""))[:500])
    await console.blocking(console.staff.audit, staff.name, f"queue_{status}", str(item))
    raise web.HTTPSeeOther(str(form.get("back", "/admin/queue")) if str(
        form.get("back", "")).startswith("/admin/queue") else "/admin/queue")


async def add_similar(request: web.Request) -> web.Response:
    """Add the question to an entry's similar questions (the search knows it at once), and
    mark it done."""
    staff = require(request, "editor")
    form = await request.post()
    item = _item_id(request)
    console = console_of(request)
    queued = await console.blocking(console.records.get_unanswered, item)
    ext_id = str(form.get("entry", "")).strip()
    entry = await console.blocking(console.kb.get_entry, ext_id) if ext_id else None
    if entry is None:
        raise ValidationError(f"没有编号为 {ext_id or '（空）'} 的条目", "entry")
    entry["similar_questions"] = list(entry.get("similar_questions") or []) + [queued["query"]]
    if entry["status"] == "published" and not staff.can("reviewer"):
        # an editor's change to a live answer waits for a reviewer
        proposal = await console.blocking(propose, console.kb.engine, entry, entry["version"],
                                          staff.name)
        await console.blocking(console.records.set_unanswered_status, item, "pending",
                               f"已提议加为条目 {ext_id} 的相似问题，等待审核")
        await console.blocking(console.staff.audit, staff.name, "propose", ext_id,
                               {"proposal": proposal, "question": queued["query"][:200]})
        raise web.HTTPSeeOther("/admin/queue?proposed=" + ext_id)
    outcome = await console.blocking(console.kb.save_entry, EntryInput.from_mapping(entry),
                                     staff.name, entry["version"])
    await console.blocking(console.records.set_unanswered_status, item, "done",
                           f"已加为条目 {ext_id} 的相似问题")
    await console.blocking(console.staff.audit, staff.name, "add_similar", ext_id,
                           {"question": queued["query"][:200], "version": outcome.version})
    raise web.HTTPSeeOther("/admin/queue?added=" + ext_id)


def _item_id(request: web.Request) -> int:
    try:
        return int(request.match_info["item"])
    except ValueError as exc:
        raise NotFoundError("没有这个待答问题") from exc


def routes() -> List[web.RouteDef]:
    """The queue pages."""
    return [web.get("/queue", queue_page), web.post("/queue/{item}/status", set_status),
            web.post("/queue/{item}/similar", add_similar)]
