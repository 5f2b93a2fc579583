"""A small aiohttp app for page tests: bot/static + the web channel + voice, with a fixture Dialogue."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any, Coroutine, Dict, List, Optional

from aiohttp import web

from bot.channels.base import InboundMessage, Preferences, TurnResult, messages_from_rasa
from bot.channels.web import WebInput, static_routes
from bot.errors import error_middleware
from voice import routes as voice_routes
from voice.asr import ASR, Recognizer
from voice.tts import tts_ctx

_LOGGER = logging.getLogger(__name__)

REPLIES = Path(__file__).resolve().parents[1] / "fixtures" / "web" / "replies.json"


class FixtureDialogue:
    """Answers from ``tests/fixtures/web/replies.json``; records every turn it runs."""

    def __init__(self, path: Path = REPLIES) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.default: Dict[str, Any] = data["default"]
        self.rules: Dict[str, Dict[str, Any]] = data["rules"]
        self.calls: List[InboundMessage] = []

    def rule(self, text: str) -> Dict[str, Any]:
        """The fixture reply for ``text`` (following ``same_as`` links)."""
        rule = self.rules.get(text.strip(), self.default)
        while "same_as" in rule:
            rule = self.rules[rule["same_as"]]
        return rule

    async def handle(self, message: InboundMessage) -> TurnResult:
        """Return the fixed reply, after the rule's ``delay`` seconds."""
        self.calls.append(message)
        rule = self.rule(message.text)
        if rule.get("delay"):
            await asyncio.sleep(float(rule["delay"]))
        prefs = rule.get("preferences") or {}
        return TurnResult(messages=messages_from_rasa(rule["messages"]),
                          preferences=Preferences(**prefs))


def make_app(dialogue: FixtureDialogue, channel: Optional[WebInput] = None,
             with_tts: bool = True, recognizer: Optional[Recognizer] = None) -> web.Application:
    """Wire the page, the web channel (at ``/webhooks/web``) and the voice routes like create_app."""
    channel = channel or WebInput(dialogue=lambda request: dialogue, hotline="12345")
    app = web.Application(middlewares=[error_middleware])
    if recognizer is not None:
        app[ASR] = recognizer
    if with_tts:
        app.cleanup_ctx.append(tts_ctx)
    app.add_routes(static_routes())
    app.add_routes(voice_routes.routes())
    # Prefixed routes, not a sub-app: aiohttp 3.9.5's sub-app matching reads request.url,
    # which raises with yarl>=1.13 when the Host header carries a port (aiohttp#9435).
    app.add_routes([web.route(r.method, "/webhooks/web" + r.path, r.handler, **r.kwargs)
                    for r in channel.routes()])
    app.on_shutdown.append(channel.close_sockets)
    return app


class ServerThread:
    """Runs an app on 127.0.0.1 in a background thread (Playwright's sync API needs the main one)."""

    def __init__(self, dialogue: Optional[FixtureDialogue] = None, with_tts: bool = True,
                 recognizer: Optional[Recognizer] = None) -> None:
        self.dialogue = dialogue or FixtureDialogue()
        self.channel = WebInput(dialogue=lambda request: self.dialogue, hotline="12345")
        self.app = make_app(self.dialogue, self.channel, with_tts=with_tts, recognizer=recognizer)
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._runner: Optional[web.AppRunner] = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-server", daemon=True)

    def start(self) -> "ServerThread":
        """Start serving; returns self with ``url`` set."""
        self._thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        """Run ``coro`` on the server loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def drop_sockets(self) -> None:
        """Close every WebSocket from the server side, as a network drop would."""
        self.call(self.channel.close_sockets())

    def stop(self) -> None:
        """Shut the app down (stops the TTS worker) and the loop."""
        if self._runner is not None:
            self.call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
