"""A small aiohttp app for page tests: bot/static + the web channel + voice, with a fixture Dialogue."""
from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import tempfile
import logging
import threading
from pathlib import Path
from typing import Any, Coroutine, Dict, List, Optional

from aiohttp import web

from bot.channels.base import (BotMessage, InboundMessage, Preferences, TurnResult,
                               messages_from_rasa)
from bot.channels.web import WebInput, static_routes
from bot.errors import error_middleware
from bot.turns import TurnRunner
from bot.voice_api import voice_routes
from knowledge.db import make_engine, upgrade
from knowledge.deliveries import DeliveryStore
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


class GateDialogue:
    """Echoes ``re:<text>``; texts starting with ``wait`` block until ``gate`` is set; fails
    once when ``fail_next`` is set; records every turn it runs."""

    def __init__(self, custom: Optional[Dict[str, Any]] = None,
                 preferences: Preferences = Preferences()) -> None:
        self.calls: List[InboundMessage] = []
        self.gate = asyncio.Event()
        self.fail_next = False
        self.custom, self.preferences = custom, preferences

    async def handle(self, message: InboundMessage) -> TurnResult:
        """One turn (see the class docstring)."""
        self.calls.append(message)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("model exploded")
        if message.text.startswith("wait"):
            await self.gate.wait()
        return TurnResult(messages=(BotMessage(text="re:" + message.text, custom=self.custom),),
                          preferences=self.preferences)


def temp_deliveries() -> DeliveryStore:
    """An exactly-once record on a fresh SQLite file (removed at exit)."""
    folder = tempfile.mkdtemp(prefix="govbot-deliveries-")
    atexit.register(shutil.rmtree, folder, True)
    engine = make_engine(f"sqlite:///{folder}/deliveries.db")
    upgrade(engine)
    return DeliveryStore(engine)


def make_runner(dialogue: Any, deliveries: Optional[DeliveryStore] = None) -> TurnRunner:
    """The turn runner as the server builds it, over ``dialogue``."""
    return TurnRunner(lambda: dialogue, ["web", "api"], deliveries=deliveries or temp_deliveries())


def make_app(dialogue: FixtureDialogue, channel: Optional[WebInput] = None,
             with_tts: bool = True, recognizer: Optional[Recognizer] = None,
             runner: Optional[TurnRunner] = None) -> web.Application:
    """Wire the page, the web channel (at ``/webhooks/web``) and the voice routes like create_app."""
    channel = channel or WebInput(hotline="12345")
    app = web.Application(middlewares=[error_middleware])
    if recognizer is not None:
        app[ASR] = recognizer
    if with_tts:
        app.cleanup_ctx.append(tts_ctx)
    app.add_routes(static_routes())
    api = web.Application(middlewares=[error_middleware])
    api.add_routes(voice_routes())
    app.add_subapp("/api", api)
    app.add_subapp("/webhooks/web", channel.subapp(runner or make_runner(dialogue)))
    return app


class ServerThread:
    """Runs an app on 127.0.0.1 in a background thread (Playwright's sync API needs the main one)."""

    def __init__(self, dialogue: Optional[FixtureDialogue] = None, with_tts: bool = True,
                 recognizer: Optional[Recognizer] = None,
                 app: Optional[web.Application] = None) -> None:
        self.dialogue = dialogue or FixtureDialogue()
        self.channel = WebInput(hotline="12345")
        self.app = app or make_app(self.dialogue, self.channel, with_tts=with_tts,
                                   recognizer=recognizer)
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
