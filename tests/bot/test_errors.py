"""The one error boundary: domain errors become JSON 4xx, never a 200 and never a bare 500."""
from __future__ import annotations

from aiohttp import web

from bot.errors import BadRequest, Conflict, error_middleware
from knowledge.errors import ConflictError, NotFoundError, ValidationError


async def _app(aiohttp_client, exc):
    async def handler(request):
        raise exc
    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/api/x", handler)
    return await aiohttp_client(app)


async def test_domain_errors_map_to_status_and_code(aiohttp_client):
    cases = [(BadRequest("坏", "bad_thing"), 400, "bad_thing"), (Conflict("冲突"), 409, "conflict"),
             (ValidationError("字段错", "id"), 400, "invalid"), (NotFoundError("没有"), 404, "not_found"),
             (ConflictError("旧版本"), 409, "conflict")]
    for exc, status, code in cases:
        client = await _app(aiohttp_client, exc)
        resp = await client.get("/api/x")
        assert resp.status == status
        body = await resp.json()
        assert body["error"]["code"] == code and body["error"]["message"]


async def test_unknown_route_is_json_404_under_api(aiohttp_client):
    client = await _app(aiohttp_client, BadRequest("x"))
    resp = await client.get("/api/nope")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "http_404"


async def test_bugs_are_not_swallowed(aiohttp_client):
    client = await _app(aiohttp_client, RuntimeError("bug"))
    resp = await client.get("/api/x")
    assert resp.status == 500


async def test_a_database_outage_is_a_503_to_retry_not_a_500(aiohttp_client):
    from sqlalchemy.exc import OperationalError

    down = OperationalError("SELECT 1", {}, Exception("connection refused\nDETAIL: more"))
    client = await _app(aiohttp_client, down)
    resp = await client.get("/api/x")
    assert resp.status == 503
    assert (await resp.json())["error"] == {"code": "database_unavailable",
                                            "message": "数据库暂时不可用，请稍后再试"}


async def test_a_missing_table_on_sqlite_is_a_bug_not_an_outage(aiohttp_client, tmp_path):
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from knowledge.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM kb_entries"))  # never migrated
    except OperationalError as exc:
        bug = exc
    engine.dispose()
    client = await _app(aiohttp_client, bug)
    resp = await client.get("/api/x")
    assert resp.status == 500
