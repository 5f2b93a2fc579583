"""On a running ``govbot serve``: an account made with the CLI signs in at /admin, writes and
publishes an entry, and the bot answers it through /api/chat at once, without a restart."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT, LiveServer

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"
ANSWER = "在本市连续居住满半年的外地老人，可凭居住证到社区服务站申领老年人优待证，享受同等优待。"


async def test_an_entry_published_in_the_console_is_answered_at_once(trained_model,
                                                                      tmp_path: Path) -> None:
    server = LiveServer(tmp_path).start()
    try:
        made = subprocess.run(
            [sys.executable, "-m", "bot.cli", "admin", "create-user", "zhang", "--role",
             "reviewer", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT,
            env=server.env, capture_output=True, timeout=120)
        assert made.returncode == 0, made.stderr
        async with aiohttp.ClientSession(server.url,
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get("/admin/entries", allow_redirects=False) as resp:
                assert resp.status == 303  # nothing without signing in
            async with http.get("/admin/login") as resp:
                token = re.search(r'name="csrf" value="([^"]+)"', await resp.text()).group(1)
            async with http.post("/admin/login", data={"csrf": token, "username": "zhang",
                                                       "password": PASSWORD}) as resp:
                page = await resp.text()
                assert resp.status == 200 and "知识条目" in page
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            form = {"csrf": csrf, "id": "waidi-elder-card", "answer": ANSWER,
                    "question": "外地老人在本市能办老年人优待证吗",
                    "similar_questions": "外地来的老人能不能办老年卡", "category": "老年人优待"}
            async with http.post("/admin/entries/new", data=form) as resp:
                assert resp.status == 200 and "草稿" in await resp.text()
            async with http.post("/admin/entries/waidi-elder-card/status",
                                 data={"csrf": csrf, "status": "published"}) as resp:
                assert resp.status == 200 and "已发布" in await resp.text()
            async with http.post("/api/chat", json={"sender": "resident-9",
                                                    "text": "外地来的老人能不能办老年卡"}) as resp:
                reply = await resp.json()
        texts = " ".join(m.get("text", "") for m in reply["messages"])
        assert "居住证" in texts and "优待证" in texts, reply
    finally:
        assert server.stop() == 0
