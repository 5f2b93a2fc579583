"""A console on a seeded SQLite knowledge base with one account per role and a little of
everything (a queued question, a handoff, a ticket, offered pairs): for screenshots and the
browser tests, with no model needed."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

PASSWORD = "correct horse battery"
ASKED = "社保登记到底去哪个地方弄啊"


@dataclass
class Demo:
    """The app and what the demo made."""

    app: web.Application
    kb: Any
    records: Any
    handoff: int
    ticket: str


def demo_console(work: Path) -> Demo:
    """Build the demo in ``work`` (its database lives there)."""
    from bot.console_mount import previews
    from console.app import Console, console_app
    from knowledge.db import make_engine, upgrade
    from knowledge.records import Records
    from knowledge.seed import load_seed
    from knowledge.service import KnowledgeService
    from knowledge.staff import StaffStore
    engine = make_engine(f"sqlite:///{work / 'govbot.db'}")
    upgrade(engine)
    kb = KnowledgeService(engine, poll_seconds=0)
    kb.load_index()
    records = Records(engine)
    load_seed(kb, records)
    staff = StaffStore(engine)
    for role in ("editor", "reviewer", "admin"):
        staff.create_user(role, role, PASSWORD)
    records.log_unanswered(ASKED, "web", "resident", kb.search(ASKED))
    for decision in ("answer", "clarify", "clarify", "none"):
        records.log_question("社保卡坏了" if decision == "clarify" else "问题", "web", decision,
                             "shebao-enroll" if decision == "answer" else "",
                             ["shebao-card-replace", "shebao-card-loss"])
    handoff = records.create_handoff("web:wAbc12345678", "web", "人工",
                                     [{"who": "居民", "text": "社保卡丢了怎么办"},
                                      {"who": "客服", "text": "您可以先挂失……"},
                                      {"who": "居民", "text": "我要人工"}])
    ticket = records.create_ticket("小区路灯坏了三天了", "朝阳区", "13800138000",
                                   "web:wAbc12345678", "web")

    async def blocking(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    app = web.Application()
    app.add_subapp("/admin", console_app(Console(kb=kb, records=records, staff=staff,
                                                 blocking=blocking, previews=previews)))
    return Demo(app, kb, records, handoff, ticket)
