"""The database probe behind /healthz: bounded in time, one probe in flight at a time."""
from __future__ import annotations

import asyncio

from bot.health import DatabaseProbe
from knowledge.db import make_engine, upgrade


async def test_a_silent_server_is_down_within_the_timeout_and_probed_once():
    accepted = []

    async def silent(reader, writer):  # accepts, never answers: a hung database
        accepted.append(writer)
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = make_engine(f"postgresql://govbot@127.0.0.1:{port}/kb?connect_timeout=2")
    probe = DatabaseProbe(engine, timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(*(probe() for _ in range(5)))
    assert results == [False] * 5 and loop.time() - started < 1.5
    while not accepted and loop.time() - started < 10:  # the probe's thread may lag behind
        await asyncio.sleep(0.05)
    assert len(accepted) == 1  # the five checks shared one probe
    for writer in accepted:
        writer.close()
    server.close()
    await server.wait_closed()
    engine.dispose()


async def test_a_migrated_database_is_up_and_a_deleted_file_is_down(tmp_path):
    path = tmp_path / "govbot.db"
    engine = make_engine(f"sqlite:///{path}")
    await asyncio.get_running_loop().run_in_executor(None, upgrade, engine)
    probe = DatabaseProbe(engine)
    assert await probe() is True
    engine.dispose()
    for leftover in tmp_path.glob("govbot.db*"):
        leftover.unlink()
    assert await probe() is False  # SQLite made an empty file: no schema, not ready
