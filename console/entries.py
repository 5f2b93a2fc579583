"""Entries: the list with search and filters, the form with every field, publishing, the
version history with a readable diff and restore, the conflict page, and 试一试."""
from __future__ import annotations

import difflib
from typing import Any, Dict, List, Mapping, Optional, Tuple

import aiohttp_jinja2
from aiohttp import web

from actions import render
from console.app import console_of
from console.auth import require
from knowledge.errors import ConflictError, NotFoundError, ValidationError
from knowledge.listing import PAGE_SIZE, EntryFilter, facets, list_entries
from knowledge.models import ENTRY_STATUSES, GUIDE_FIELDS, LIST_FIELDS
from knowledge.proposals import pending, propose
from knowledge.schema import EntryInput

STATUS_NAMES = {"draft": "草稿", "published": "已发布", "archived": "已归档"}
FIELDS: Tuple[Tuple[str, str], ...] = (
    ("id", "编号"), ("question", "标准问题"), ("similar_questions", "相似问题（每行一个）"),
    ("short_answer", "简短答案（电话先读这一句）"), ("answer", "完整答案"),
    ("category", "分类"), ("department", "部门")) + tuple(
    (name, label + ("（每行一项）" if name in LIST_FIELDS else "")) for name, label in GUIDE_FIELDS)
LINES = ("similar_questions",) + LIST_FIELDS
LONG = ("answer", "conditions", "basis") + LINES


def _form_entry(form: Mapping[str, Any]) -> Dict[str, Any]:
    """The form's fields as an entry mapping (lists from lines)."""
    data: Dict[str, Any] = {}
    for name, _ in FIELDS:
        value = str(form.get(name, ""))
        data[name] = [line.strip() for line in value.splitlines() if line.strip()] \
            if name in LINES else value
    return data


def _as_form(entry: Mapping[str, Any]) -> Dict[str, str]:
    """An entry as the form shows it."""
    return {name: "\n".join(entry.get(name) or []) if name in LINES else str(entry.get(name, ""))
            for name, _ in FIELDS}


async def entry_list(request: web.Request) -> web.Response:
    """Search, filters by category, department and status, pages of ``PAGE_SIZE``."""
    q = request.query
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    wanted = EntryFilter(q.get("q", "").strip()[:100], q.get("category", ""),
                         q.get("department", ""),
                         q.get("status", "") if q.get("status") in ENTRY_STATUSES else "", page)
    console = console_of(request)
    rows, total = await console.blocking(list_entries, console.kb.engine, wanted)
    return aiohttp_jinja2.render_template("entries.html", request, {
        "rows": rows, "total": total, "wanted": wanted, "statuses": STATUS_NAMES,
        "facets": await console.blocking(facets, console.kb.engine),
        "pages": max(1, -(-total // PAGE_SIZE))})


async def new_entry(request: web.Request) -> web.Response:
    """An empty form (prefilled with ``question`` from the unanswered queue)."""
    require(request, "editor")
    form = {name: "" for name, _ in FIELDS}
    form["question"] = request.query.get("question", "")[:500]
    return _form_page(request, form, None)


async def edit_entry(request: web.Request) -> web.Response:
    """The form for one entry, with the changes editors proposed for it."""
    console = console_of(request)
    entry = await console.blocking(console.kb.get_entry, request.match_info["id"])
    if entry is None:
        raise NotFoundError(f"没有编号为 {request.match_info['id']} 的条目")
    waiting = await console.blocking(pending, console.kb.engine, entry["id"])
    for proposal in waiting:
        proposal["diff"] = field_diff(entry, proposal["data"])
    return _form_page(request, _as_form(entry), entry, proposals=waiting)


def _form_page(request: web.Request, form: Mapping[str, str], entry: Optional[Dict[str, Any]],
               error: str = "", field: str = "", status: int = 200,
               version: Optional[int] = None,
               proposals: Optional[List[Dict[str, Any]]] = None) -> web.Response:
    return aiohttp_jinja2.render_template("entry_form.html", request, {
        "form": form, "entry": entry, "fields": FIELDS, "long": LONG, "error": error,
        "field": field, "statuses": STATUS_NAMES, "proposals": proposals or [],
        "version": version if version is not None else (entry or {}).get("version", 0)},
        status=status)


async def save_entry(request: web.Request) -> web.Response:
    """Create (``id`` new) or update (``version`` as read) an entry; bad input comes back
    in the form as typed, a stale version as the conflict page."""
    staff = require(request, "editor")
    form = await request.post()
    console = console_of(request)
    creating = request.match_info.get("id") is None
    data = _form_entry(form)
    current = None if creating else await console.blocking(console.kb.get_entry,
                                                           request.match_info["id"])
    if not creating and current is None:
        raise NotFoundError(f"没有编号为 {request.match_info['id']} 的条目")
    if current is not None:
        data["id"] = current["id"]  # the id is fixed once created
    data["status"] = "draft" if creating else current["status"]
    try:
        version = int(str(form.get("version", "0")))
    except ValueError:
        version = -1
    if current is not None and current["status"] == "published" and not staff.can("reviewer"):
        # A live answer changes only with a reviewer: an editor's change waits as a proposal.
        try:
            proposal = await console.blocking(propose, console.kb.engine, data, version,
                                              staff.name)
        except ValidationError as exc:
            return _form_page(request, _as_form(data), current, exc.message, exc.field, 400,
                              version)
        await console.blocking(console.staff.audit, staff.name, "propose", current["id"],
                               {"proposal": proposal})
        raise web.HTTPSeeOther(f"/admin/entries/{current['id']}?proposed=1")
    try:
        item = EntryInput.from_mapping(data)
        outcome = await console.blocking(console.kb.save_entry, item, staff.name,
                                         0 if creating else version)
    except ValidationError as exc:
        return _form_page(request, _as_form(data), current, exc.message, exc.field, 400,
                          version)
    except ConflictError:
        if creating:
            return _form_page(request, _as_form(data), None,
                              f"编号 {data['id']} 已存在，请换一个编号。", "id", 409)
        latest = await console.blocking(console.kb.get_entry, data["id"])
        return aiohttp_jinja2.render_template("conflict.html", request, {
            "mine": _as_form(data), "theirs": _as_form(latest or {}), "fields": FIELDS,
            "long": LONG, "latest": latest, "entry": current}, status=409)
    await console.blocking(console.staff.audit, staff.name,
                           "create_entry" if creating else "edit_entry", outcome.ext_id,
                           {"version": outcome.version})
    raise web.HTTPSeeOther(f"/admin/entries/{outcome.ext_id}?saved=1")


async def set_status(request: web.Request) -> web.Response:
    """Publish, unpublish (back to draft) or archive: reviewers only."""
    staff = require(request, "reviewer")
    form = await request.post()
    status = str(form.get("status", ""))
    if status not in ENTRY_STATUSES:
        raise ValidationError("未知的状态", "status")
    console = console_of(request)
    ext_id = request.match_info["id"]
    try:
        version: Optional[int] = int(str(form.get("version", "")))
    except ValueError:
        version = None
    await console.blocking(console.kb.set_status, ext_id, status, staff.name, version)
    await console.blocking(console.staff.audit, staff.name, f"status_{status}", ext_id)
    raise web.HTTPSeeOther(f"/admin/entries/{ext_id}?saved=1")


def field_diff(before: Optional[Mapping[str, Any]],
               after: Optional[Mapping[str, Any]]) -> List[Tuple[str, List[Tuple[str, str]]]]:
    """(label, [(op, text)]) for each field that changed; op is ``del``, ``ins`` or ``same``."""
    out = []
    for name, label in FIELDS + (("status", "状态"),):
        old, new = _text((before or {}).get(name)), _text((after or {}).get(name))
        if old == new:
            continue
        ops: List[Tuple[str, str]] = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                ops.append(("same", old[i1:i2]))
                continue
            if i2 > i1:
                ops.append(("del", old[i1:i2]))
            if j2 > j1:
                ops.append(("ins", new[j1:j2]))
        out.append((label, ops))
    return out


def _text(value: Any) -> str:
    return "\n".join(value) if isinstance(value, list) else str(value or "")


async def history(request: web.Request) -> web.Response:
    """Every version, newest first, each with what it changed."""
    console = console_of(request)
    ext_id = request.match_info["id"]
    entry = await console.blocking(console.kb.get_entry, ext_id)
    revisions = await console.blocking(console.kb.history, ext_id)
    if entry is None and not revisions:
        raise NotFoundError(f"没有编号为 {ext_id} 的条目")
    shown = [dict(r, diff=field_diff(r["before"], r["after"])) for r in reversed(revisions)]
    return aiohttp_jinja2.render_template("history.html", request, {
        "entry": entry, "ext_id": ext_id, "revisions": shown})


async def restore(request: web.Request) -> web.Response:
    """Bring back a version (reviewers only): it becomes the newest version."""
    staff = require(request, "reviewer")
    console = console_of(request)
    try:
        revision = int(request.match_info["rid"])
    except ValueError as exc:
        raise NotFoundError("没有这个版本") from exc
    outcome = await console.blocking(console.kb.restore_revision, revision, staff.name)
    await console.blocking(console.staff.audit, staff.name, "restore", outcome.ext_id,
                           {"revision": revision})
    raise web.HTTPSeeOther(f"/admin/entries/{outcome.ext_id}/history")


async def try_question(request: web.Request) -> web.Response:
    """试一试: the decision for a question, the candidates with scores, and the reply as the
    web page, WeChat and the phone would give it."""
    console = console_of(request)
    question = request.query.get("q", "").strip()[:500]
    result, messages = None, []
    if question:
        result = await console.blocking(console.kb.search, question, 5)
        messages = await console.blocking(_messages, console, result)
    return aiohttp_jinja2.render_template("try.html", request, {
        "q": question, "result": result, "entry_id": request.query.get("entry", ""),
        "previews": console.previews(messages) if messages else {}})


def _messages(console: Any, result: Any) -> List[Dict[str, Any]]:
    if result.decision == "answer":
        entry = console.kb.get_entry(result.candidates[0].id, include_unpublished=False)
        if entry is not None:
            message = render.answer_message(entry)
            if result.related:
                message = render.with_related(message, [{"id": c.id, "title": c.question}
                                                        for c in result.related])
            return [message]
    if result.decision == "clarify":
        return [render.candidates_message(result)]
    return [render.none_message(console.hotline)]


def routes() -> List[web.RouteDef]:
    """The entry pages."""
    return [web.get("/entries", entry_list), web.get("/entries/new", new_entry),
            web.post("/entries/new", save_entry), web.get("/entries/{id}", edit_entry),
            web.post("/entries/{id}", save_entry), web.post("/entries/{id}/status", set_status),
            web.get("/entries/{id}/history", history),
            web.post("/revisions/{rid}/restore", restore), web.get("/try", try_question)]
