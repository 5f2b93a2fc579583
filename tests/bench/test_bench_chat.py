"""bench-chat's measuring loop: interleaved rounds against real HTTP servers, with progress shown."""
from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from aiohttp import web

from bench import bench_chat


async def test_compare_reports_progress_and_counts_every_turn(aiohttp_server: Any, capsys) -> None:
    seen = []

    async def chat(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response({"messages": []})

    app = web.Application()
    app.router.add_post("/chat", chat)
    server = await aiohttp_server(app)
    servers = []
    for name in ("a", "b"):
        s = bench_chat.Server(name, [], {}, "", str(server.make_url("/chat")),
                              lambda sender, text: {"sender": sender, "text": text})
        s.proc = SimpleNamespace(pid=os.getpid())
        servers.append(s)
    result = await bench_chat.compare(servers, ["你好", "社保卡"], per_sender=1, rounds=2)
    err = capsys.readouterr().err
    assert "==> round 1/2: a, 1 sender" in err and "==> round 2/2: b, 50 senders" in err
    assert result["a"]["c50"] and result["b"]["c1"]
    assert len(seen) == 2 * (2 * 3 + 2 * (4 + 50))  # warm-up, then 1x4 and 50x1 turns a round
