"""The console on the seed knowledge base, with one account per role, and a signed-in client."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict

import pytest
from aiohttp import web

from bot.console_mount import previews
from console import auth
from console.app import Console, console_app
from knowledge.staff import StaffStore

PASSWORD = "correct horse battery"
ROLES = ("editor", "reviewer", "admin")


@pytest.fixture
def staff_store(engine) -> StaffStore:
    store = StaffStore(engine)
    for role in ROLES:
        store.create_user(role, role, PASSWORD)
    return store


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """The per-address sign-in limit is process memory: each test starts with none."""
    auth._failures.clear()
    yield
    auth._failures.clear()


@pytest.fixture
async def console(aiohttp_client, seeded_kb, records, staff_store):
    async def blocking(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    holder = Console(kb=seeded_kb, records=records, staff=staff_store, blocking=blocking,
                     previews=previews)
    app = web.Application()
    app.add_subapp("/admin", console_app(holder))
    client = await aiohttp_client(app)
    client.holder = holder
    return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


async def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    """POST the sign-in form as a browser would (its CSRF cookie and field)."""
    page = await client.get("/admin/login")
    token = csrf_of(await page.text())
    return await client.post("/admin/login", data={"csrf": token, "username": name,
                                                   "password": password},
                             allow_redirects=False)


async def page_csrf(client: Any, path: str = "/admin/entries") -> str:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    return csrf_of(await resp.text())


async def post_form(client: Any, path: str, data: Dict[str, Any], csrf: str) -> Any:
    return await client.post(path, data=dict(data, csrf=csrf), allow_redirects=False)
