"""The console as an aiohttp sub-application: its services, templates, assets and routes."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

import aiohttp_jinja2
import jinja2
from aiohttp import web

from knowledge.records import Records
from knowledge.service import KnowledgeService
from knowledge.staff import StaffStore

HERE = Path(__file__).resolve().parent
Previews = Callable[[List[Dict[str, Any]]], Dict[str, str]]
"""The bot's messages as each channel would show them (web, WeChat, phone)."""


async def _nothing() -> None:
    """No turn runner to tell (the console on its own, in tests and screenshots)."""


@dataclass
class Console:
    """What the console works with, handed over by the server."""

    kb: KnowledgeService
    records: Records
    staff: StaffStore
    blocking: Callable[..., Awaitable[Any]]
    previews: Previews
    hotline: str = "12345"
    secure_cookies: bool = False  # Secure cookies (served over TLS behind a proxy)
    held_changed: Callable[[], Awaitable[None]] = field(default=_nothing)
    """Called when staff take, hand back or close a conversation: this instance's turn runner
    re-reads the held conversations at once (the others within a second)."""


CONSOLE = web.AppKey("console", Console)


def console_app(console: Console) -> web.Application:
    """The ``/admin`` sub-application."""
    from console import (auth, confusable, entries, handoffs, proposals, queue, reports, terms,
                         tickets, transfer)
    app = web.Application(middlewares=[auth.errors, auth.middleware])
    app[CONSOLE] = console
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                         autoescape=True, undefined=jinja2.StrictUndefined,
                         context_processors=[aiohttp_jinja2.request_processor, auth.context])
    app.router.add_static("/static", HERE / "static", name="static")
    app.add_routes([web.get("", _home), web.get("/", _home)])
    for module in (auth, entries, proposals, queue, confusable, handoffs, tickets, terms,
                   transfer, reports):
        app.add_routes(module.routes())
    return app


async def _home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/admin/entries")


def console_of(request: web.Request) -> Console:
    """The console's services for this request."""
    return request.config_dict[CONSOLE]
