"""Channel plumbing: sub-applications with their own middlewares and lifecycle hooks."""
from __future__ import annotations

from typing import Any, AsyncIterator, List

from aiohttp import web

from bot.channels.base import ChannelInput, TurnResult
from bot.channels.registry import CHANNELS
from bot.errors import BadRequest
from bot.turns import TurnRunner


class Probe(ChannelInput):
    """A channel that records its lifecycle and echoes through the runner."""

    name = "probe"

    def __init__(self) -> None:
        self.events: List[str] = []

    def routes(self) -> List[web.RouteDef]:
        return [web.post("/in", self.receive), web.get("/bad", self.bad)]

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        self.events.append("start")
        yield
        self.events.append("stop")

    async def receive(self, request: web.Request) -> web.Response:
        from bot.turns import Turn
        delivered = await self.runner(Turn(self.name, "c1", await request.text()))
        return web.json_response(delivered.result.to_dict())

    async def bad(self, request: web.Request) -> web.Response:
        raise BadRequest("不行", "probe_error")


class Echo:
    async def handle(self, message: Any) -> TurnResult:
        from bot.channels.base import BotMessage
        return TurnResult(messages=(BotMessage(text=message.sender + " " + message.text),))


async def test_a_channel_is_a_sub_application_with_start_and_stop(aiohttp_client: Any) -> None:
    probe = Probe()
    app = web.Application()
    app.add_subapp("/webhooks/probe", probe.subapp(TurnRunner(Echo, ["probe"])))
    client = await aiohttp_client(app)
    assert probe.events == ["start"]
    resp = await client.post("/webhooks/probe/in", data="你好".encode())
    assert (await resp.json())["messages"] == [{"text": "probe:c1 你好"}]
    bad = await client.get("/webhooks/probe/bad")  # its own middleware answers in JSON
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "probe_error"
    missing = await client.get("/webhooks/probe/nothing-here")
    assert missing.status == 404
    await client.close()
    assert probe.events == ["start", "stop"]


def test_the_server_mounts_every_registered_channel_as_a_sub_application(tmp_path) -> None:
    from bot.server import create_app
    from bot.settings import Settings
    env = {"GOVBOT_VAR_DIR": str(tmp_path)}
    mounted = {"/api", "/admin"} | {f"/webhooks/{name}" for name in CHANNELS}

    def prefixes(app: web.Application) -> set:
        return {r.canonical for r in app.router.resources()
                if isinstance(r, web.PrefixedSubAppResource)}

    on = {**env, "GOVBOT_WECHAT_TOKEN": "t", "GOVBOT_JAMBONZ_USER": "u",
          "GOVBOT_JAMBONZ_PASSWORD": "p"}
    assert prefixes(create_app(Settings.from_env(on))) == mounted
    # A channel without its credentials stays off.
    assert prefixes(create_app(Settings.from_env(env))) == mounted - {"/webhooks/wechat",
                                                                      "/webhooks/jambonz"}
