"""The Rasa agent in-process: SQL tracker store, optional Redis lock store, in-process actions."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Awaitable, Dict, Optional, TypeVar

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.channels.base import InboundMessage, Preferences, TurnResult, messages_from_rasa
from bot.settings import Settings
from knowledge.db import pg_connect_defaults

_LOGGER = logging.getLogger(__name__)

PREF_CACHE_SIZE = 10_000
WORKER_THREADS = 8
"""Threads for blocking work (custom actions, tracker reads and writes): a slow database
holds up a thread, never the event loop."""
_T = TypeVar("_T")
_THREAD = threading.local()


def make_worker_pool(threads: int = WORKER_THREADS) -> ThreadPoolExecutor:
    """The bounded pool that blocking dialogue work runs on."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="govbot-work")


def _run_here(coro: Awaitable[_T]) -> _T:
    """Run a coroutine to completion on this worker thread's own event loop."""
    loop = getattr(_THREAD, "loop", None)
    if loop is None:
        loop = _THREAD.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


async def off_loop(executor: Optional[Executor], coro: Awaitable[_T]) -> _T:
    """Run a coroutine whose body blocks (rasa-sdk actions, Rasa's SQL tracker store) on a
    worker thread, so the server's loop keeps serving meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(executor, _run_here, coro)

ACTION_FAILED = "抱歉，系统暂时出了点问题，刚才的内容没有保存。请稍后再说一遍，或拨打 {hotline} 热线。"


def _threaded_store_class() -> Any:
    from rasa.core.tracker_store import SQLTrackerStore

    class ThreadedSQLTrackerStore(SQLTrackerStore):
        """Rasa's SQL tracker store, whose blocking queries run on the worker pool."""

        executor: Optional[Executor] = None

        async def save(self, tracker: Any) -> None:
            await off_loop(self.executor, super().save(tracker))

        async def retrieve(self, sender_id: str) -> Any:
            return await off_loop(self.executor, super().retrieve(sender_id))

        async def retrieve_full_tracker(self, sender_id: str) -> Any:
            return await off_loop(self.executor, super().retrieve_full_tracker(sender_id))

        async def keys(self) -> Any:
            return await off_loop(self.executor, super().keys())

    return ThreadedSQLTrackerStore


def make_tracker_store(database_url: str, executor: Optional[Executor] = None) -> Any:
    """Rasa's SQLTrackerStore on the same database as the knowledge base; its queries run on
    ``executor`` (the default pool when None)."""
    store_cls = _threaded_store_class()
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        store = store_cls(dialect="sqlite", db=url.database)
    else:
        query = {**url.query, **{k: str(v) for k, v in pg_connect_defaults(url).items()}}
        store = store_cls(dialect=url.drivername, host=url.host, port=url.port,
                          db=url.database, username=url.username, password=url.password,
                          query=query or None)
    store.executor = executor
    return store


def make_lock_store(lock_store_url: str) -> Any:
    """In-memory locks for one process; Redis locks when several instances share conversations."""
    from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
    if not lock_store_url:
        return InMemoryLockStore()
    url = make_url(lock_store_url)
    return RedisLockStore(host=url.host or "localhost", port=url.port or 6379,
                          db=int(url.database or 0), password=url.password,
                          key_prefix="govbot")


class InProcessActionEndpoint:
    """Looks like Rasa's ``EndpointConfig`` but runs rasa-sdk actions in this process."""

    def __init__(self, package: str = "actions", hotline: str = "12345",
                 executor: Optional[Executor] = None) -> None:
        from rasa_sdk.executor import ActionExecutor
        self.url = "inprocess://" + package
        self.kwargs: Dict[str, Any] = {}
        self.headers: Dict[str, str] = {}
        self.params: Dict[str, str] = {}
        self.token = None
        self.cafile = None
        self.hotline = hotline
        self.pool = executor
        self._executor = ActionExecutor()
        self._executor.register_package(package)

    async def request(self, method: str = "post", subpath: Optional[str] = None,
                      content_type: Optional[str] = "application/json", compress: bool = False,
                      **kwargs: Any) -> Optional[Dict[str, Any]]:
        """Run the action named in ``json`` and return the action-server response body."""
        from rasa.utils.endpoints import ClientResponseError
        from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
        payload = kwargs.get("json") or {}
        try:
            # rasa-sdk calls a synchronous ``run`` inline: on a worker thread, so that a KB
            # search or a slow database never holds up the server's loop.
            return await off_loop(self.pool, self._executor.run(payload))
        except ActionExecutionRejection as exc:
            body = json.dumps({"action_name": exc.action_name, "error": exc.message})
            raise ClientResponseError(400, "rejected", body) from exc
        except ActionNotFoundException as exc:
            raise ClientResponseError(404, "not found", json.dumps({"error": str(exc)})) from exc
        except Exception:  # noqa: BLE001 - the resident must hear something; events are dropped
            _LOGGER.exception("action %s failed", payload.get("next_action"))
            return {"events": [], "responses": [{"text": ACTION_FAILED.format(hotline=self.hotline)}]}


def _collector() -> Any:
    """A collecting output channel that keeps text, buttons and custom in one message."""
    from rasa.core.channels.channel import CollectingOutputChannel

    class OneMessageCollector(CollectingOutputChannel):
        async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
            self.messages.append({k: v for k, v in {
                "recipient_id": recipient_id, "text": message.get("text"),
                "buttons": message.get("buttons") or message.get("quick_replies"),
                "image": message.get("image"), "custom": message.get("custom"),
                "attachment": message.get("attachment")}.items() if v})

    return OneMessageCollector()


class Dialogue:
    """One turn in, replies and preferences out."""

    def __init__(self, agent: Any, cache_preferences: bool = True) -> None:
        self.agent = agent
        # With several instances (a Redis lock store) another instance may change preferences,
        # so they are read from the shared tracker store on every turn instead of cached.
        self._cache = cache_preferences
        self._prefs: "OrderedDict[str, Preferences]" = OrderedDict()

    async def handle(self, message: InboundMessage) -> TurnResult:
        """Run one user message through NLU, policies and actions."""
        from rasa.core.channels.channel import UserMessage
        collector = _collector()
        await self.agent.handle_message(UserMessage(
            message.text, collector, message.sender, input_channel=message.channel,
            metadata=message.metadata or None))
        prefs = await self._preferences(message.sender)
        replies = []
        for raw in collector.messages:
            custom = raw.get("custom") or {}
            if custom.get("type") == "preferences":
                try:
                    prefs = Preferences.parse(custom.get("preferences"))
                except ValueError as exc:  # e.g. a remote action server of another version
                    _LOGGER.error("ignoring invalid preferences from an action: %s", exc)
                else:
                    self._remember(message.sender, prefs)
                raw = dict(raw, custom=None)
            replies.append(raw)
        return TurnResult(messages=messages_from_rasa(replies), preferences=prefs)

    def _remember(self, sender: str, prefs: Preferences) -> None:
        self._prefs[sender] = prefs
        self._prefs.move_to_end(sender)
        while len(self._prefs) > PREF_CACHE_SIZE:
            self._prefs.popitem(last=False)

    async def _preferences(self, sender: str) -> Preferences:
        cached = self._prefs.get(sender) if self._cache else None
        if cached is not None:
            return cached
        tracker = await self.agent.tracker_store.retrieve(sender)
        prefs = Preferences()
        if tracker is not None:
            prefs = Preferences(rate=tracker.get_slot("pref_rate") or "normal",
                                volume=tracker.get_slot("pref_volume") or "normal",
                                large_text=bool(tracker.get_slot("pref_large_text")))
        self._remember(sender, prefs)
        return prefs


DIALOGUE = web.AppKey("dialogue", Dialogue)


def load_agent(settings: Settings, model: str, executor: Optional[Executor] = None) -> Any:
    """Load the trained model with our tracker store, lock store and action endpoint."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from bot.action_validation import patch_action_result_validation
    from bot.fastload import fast_skops_import, patch_rasa_model_load
    fast_skops_import()
    patch_rasa_model_load()
    patch_action_result_validation()
    endpoint: Any = (EndpointConfig(url=settings.action_endpoint_url)
                     if settings.action_endpoint_url
                     else InProcessActionEndpoint(hotline=settings.hotline, executor=executor))
    return Agent.load(model, tracker_store=make_tracker_store(settings.database_url, executor),
                      lock_store=make_lock_store(settings.lock_store_url),
                      action_endpoint=endpoint)
