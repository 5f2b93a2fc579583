"""Server start-up and health: a coded start-up error reaches ``govbot serve`` as its code, and
``/healthz`` follows the database."""
from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from aiohttp import web

from bot import server, training
from bot.health import DatabaseProbe
from bot.cli import main


def test_serve_reports_an_unreachable_database_as_its_code(tmp_path, monkeypatch, capsys,
                                                          caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GOVBOT_DATABASE_URL",
                       f"postgresql+psycopg2://govbot:pw@127.0.0.1:{port}/kb")
    monkeypatch.setattr(training, "model_path", lambda settings: model)
    monkeypatch.setattr(server, "_preload_agent", lambda *args: None)  # no Rasa: not reached
    caplog.set_level(logging.DEBUG)
    assert main(["serve", "--port", "0"]) == 2  # the real aiohttp start-up, stopped by db_ctx
    err = capsys.readouterr().err
    assert "[database]" in err and "无法连接数据库" in err and ":pw@" not in err
    assert "Traceback" not in err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_other_loop_errors_still_reach_the_default_handler(caplog):
    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(server._startup_exception_handler)
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            loop.call_exception_handler({"message": "boom", "exception": RuntimeError("x")})
    finally:
        loop.close()
    assert "boom" in caplog.text


class _Forwarder:
    """A TCP relay in front of the real PostgreSQL server, to cut it off and bring it back."""

    def __init__(self, host: str, port: int):
        self.target, self.server, self.port, self._pipes = (host, port), None, 0, set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]  # the same port when restarted

    async def _serve(self, reader, writer) -> None:
        self._pipes.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes.add(up_writer)

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        self.server.close()
        for writer in self._pipes:
            writer.close()
        self._pipes.clear()
        await self.server.wait_closed()


@pytest.mark.postgres
async def test_healthz_follows_the_database_down_and_back(pg_url, aiohttp_client):
    from sqlalchemy.engine import make_url

    from knowledge.db import make_engine, upgrade
    from knowledge.service import KnowledgeService

    url = make_url(pg_url)
    relay = _Forwarder(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    engine = make_engine(str(url.set(host="127.0.0.1", port=relay.port)))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, upgrade, engine)
    kb = KnowledgeService(engine, poll_seconds=0)
    await loop.run_in_executor(None, kb.load_index)
    app = web.Application()
    app[server.ENGINE], app[server.KB] = engine, kb
    app[server.PROBE] = DatabaseProbe(engine)
    app.router.add_get("/healthz", server.healthz)
    client = await aiohttp_client(app)
    try:
        resp = await client.get("/healthz")
        assert resp.status == 200 and (await resp.json())["database"] is True
        await relay.stop()
        resp = await client.get("/healthz")
        body = await resp.json()
        assert resp.status == 503 and body["status"] == "unavailable" and not body["database"]
        assert body["entries_indexed"] == 0 and body["agent"] is False
        await relay.start()
        resp = await client.get("/healthz")
        assert resp.status == 200 and (await resp.json())["status"] == "ok"
    finally:
        await relay.stop()
        engine.dispose()


async def test_a_database_that_fails_the_start_stops_the_model_load(tmp_path, monkeypatch):
    from bot.dialogue import make_worker_pool
    from bot.settings import Settings
    from knowledge.errors import DatabaseError

    def unreachable(settings):
        raise DatabaseError("无法连接数据库")

    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    monkeypatch.setattr(server, "model_path", lambda settings: model)
    monkeypatch.setattr(server, "prepare_database", unreachable)
    monkeypatch.setattr(server, "load_agent", lambda *a: pytest.fail("the model was loaded"))
    app = web.Application()
    app[server.SETTINGS] = Settings.from_env({"GOVBOT_VAR_DIR": str(tmp_path)})
    app[server.WORKERS] = make_worker_pool(1)
    with pytest.raises(DatabaseError):
        async for _ in server.db_ctx(app):  # the real preload: imports Rasa, then stops
            pass
    assert app[server.START_FAILED].is_set() and await app[server.AGENT_LOADING] is None


async def test_the_hourly_prune_forgets_phone_calls_that_went_quiet(engine) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from knowledge.calls import CALL_TTL, CallStore
    from knowledge.models import VoiceCall, utcnow
    from tests.web.fake_app import GateDialogue, make_runner

    calls = CallStore(engine)
    calls.put("jambonz", "gone", {})
    calls.put("jambonz", "live", {})
    with engine.begin() as conn:
        conn.execute(update(VoiceCall).where(VoiceCall.call_id == "gone")
                     .values(updated_at=utcnow() - CALL_TTL - timedelta(minutes=1)))
    from bot.settings import Settings
    app = web.Application()
    app[server.ENGINE], app[server.RUNNER] = engine, make_runner(GateDialogue())
    app[server.SETTINGS] = Settings.from_env({})
    ctx = server.deliveries_ctx(app)
    await ctx.__anext__()  # the first prune runs at once
    for _ in range(50):
        if calls.get("jambonz", "gone") is None:
            break
        await asyncio.sleep(0.05)
    await ctx.aclose()
    assert calls.get("jambonz", "gone") is None and calls.get("jambonz", "live") == {}
