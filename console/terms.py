"""Synonyms and dialect terms: a variant and the standard word it means; a change reaches
the search at once."""
from __future__ import annotations

from typing import List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.errors import NotFoundError, ValidationError

MAX_TERM = 32


async def terms_page(request: web.Request, error: str = "", form: dict | None = None,
                     status: int = 200) -> web.Response:
    """Every term, with the form for a new or changed one."""
    console = console_of(request)
    terms = await console.blocking(console.kb.terms)
    q = request.query.get("q", "").strip()
    shown = [(v, s) for v, s in terms.items() if not q or q in v or q in s]
    return aiohttp_jinja2.render_template("terms.html", request, {
        "terms": shown, "total": len(terms), "q": q, "error": error, "form": form or {}},
        status=status)


def _clean(value: str, label: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(f"{label}不能为空", label)
    if len(value) > MAX_TERM:
        raise ValidationError(f"{label}最多 {MAX_TERM} 个字", label)
    return value


async def save_term(request: web.Request) -> web.Response:
    """Add or change a variant's standard word."""
    staff = require(request, "editor")
    form = await request.post()
    console = console_of(request)
    try:
        variant = _clean(str(form.get("variant", "")), "说法")
        standard = _clean(str(form.get("standard", "")), "标准词")
    except ValidationError as exc:
        return await terms_page(request, exc.message, dict(form), status=400)
    await console.blocking(console.kb.save_term, variant, standard, staff.name)
    await console.blocking(console.staff.audit, staff.name, "save_term", variant,
                           {"standard": standard})
    raise web.HTTPSeeOther("/admin/terms")


async def delete_term(request: web.Request) -> web.Response:
    """Remove a variant (its revision keeps it restorable)."""
    staff = require(request, "editor")
    form = await request.post()
    variant = str(form.get("variant", ""))
    console = console_of(request)
    if variant not in await console.blocking(console.kb.terms):
        raise NotFoundError(f"没有说法“{variant[:40]}”")
    await console.blocking(console.kb.delete_term, variant, staff.name)
    await console.blocking(console.staff.audit, staff.name, "delete_term", variant)
    raise web.HTTPSeeOther("/admin/terms")


def routes() -> List[web.RouteDef]:
    """The terms page."""
    return [web.get("/terms", terms_page), web.post("/terms", save_term),
            web.post("/terms/delete", delete_term)]
