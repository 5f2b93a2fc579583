"""The one aiohttp server: REST chat API, health, metrics, channels, voice and the web page."""
from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator

from aiohttp import web
from sqlalchemy.engine import Engine

from actions import runtime
from bot import metrics
from bot.bootstrap import open_services, prepare_database
from bot.channels.registry import CHANNELS
from bot.channels.rest import ApiInput
from bot.channels.web import static_routes
from bot.console_mount import add_console
from bot.dialogue import DIALOGUE, Dialogue, load_agent, make_worker_pool
from bot.errors import error_middleware
from bot.health import DatabaseProbe
from bot.voice_api import voice_routes
from bot.settings import MAX_MESSAGE_BYTES, Settings
from bot.training import model_path
from bot.turns import TurnRunner
from knowledge.calls import CallStore
from knowledge.deliveries import DeliveryStore
from knowledge.errors import KnowledgeError
from knowledge.handoffs import HandoffDesk
from knowledge.records import Records
from knowledge.service import KnowledgeService

_LOGGER = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
KB = web.AppKey("kb", KnowledgeService)
RECORDS = web.AppKey("records", Records)
AGENT_LOADING = web.AppKey("agent_loading", asyncio.Future)
START_FAILED = web.AppKey("start_failed", threading.Event)
PROBE = web.AppKey("db_probe", DatabaseProbe)
RUNNER = web.AppKey("runner", TurnRunner)
WORKERS = web.AppKey("workers", ThreadPoolExecutor)
PRUNE_EVERY_S = 3600.0
WAIT_CHECK_S = 30.0
"""How often residents waiting for a person are checked (and told when they wait too long)."""
HELD_REFRESH_S = 1.0
"""How often the conversations staff hold are re-read (the bot answers in the meantime)."""


def _preload_agent(settings: Settings, db_ready: threading.Event,
                   start_failed: threading.Event, workers: ThreadPoolExecutor) -> Any:
    """Import Rasa and TensorFlow (the slow part of a cold start) while the database and the
    index are prepared, then load the model once the database is migrated (not at all when
    the start has failed meanwhile: the process is about to exit)."""
    import rasa.core.agent  # noqa: F401  (heavy import, overlapped with db and index set-up)

    from bot import quiet
    quiet.again()  # sanic, imported with Rasa, set warnings of its own
    model = model_path(settings)
    if not model.is_file():
        raise FileNotFoundError(f"模型不存在，请先运行 govbot train / no model at {model}")
    db_ready.wait()
    if start_failed.is_set():
        return None
    return load_agent(settings, str(model), workers)


async def db_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start loading the agent, migrate (and seed an empty) database; dispose on shutdown."""
    settings = app[SETTINGS]
    loop = asyncio.get_running_loop()
    db_ready, app[START_FAILED] = threading.Event(), threading.Event()
    app[AGENT_LOADING] = loop.run_in_executor(None, _preload_agent, settings, db_ready,
                                              app[START_FAILED], app[WORKERS])
    try:
        engine = await loop.run_in_executor(None, prepare_database, settings)
    except BaseException:
        app[START_FAILED].set()
        raise
    finally:
        db_ready.set()
    app[ENGINE], app[PROBE] = engine, DatabaseProbe(engine)
    yield
    engine.dispose()


async def kb_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the search index and share it with in-process actions."""
    settings = app[SETTINGS]
    try:
        kb, records = await asyncio.get_running_loop().run_in_executor(
            None, open_services, settings, app[ENGINE])
    except BaseException:
        app[START_FAILED].set()
        raise
    app[KB], app[RECORDS] = kb, records
    runtime.install(runtime.Services(kb=kb, records=records, hotline=settings.hotline))
    yield
    runtime.uninstall()


async def dialogue_ctx(app: web.Application) -> AsyncIterator[None]:
    """Wait for the Rasa agent that ``db_ctx`` started loading in-process."""
    started = time.monotonic()
    agent = await app[AGENT_LOADING]
    _LOGGER.info("Rasa agent ready after a further %.1f s", time.monotonic() - started)
    app[DIALOGUE] = Dialogue(agent, cache_preferences=not app[SETTINGS].lock_store_url)
    # Everything built at start (the search index, the agent) lives as long as the server:
    # out of the collector's sight, a full collection no longer walks millions of them (with
    # 20,000 entries that took 0.7 s, stalling every request in flight).
    gc.collect()
    gc.freeze()
    yield


async def workers_ctx(app: web.Application) -> AsyncIterator[None]:
    """The bounded pool for blocking dialogue work; stopped after everything else."""
    yield
    app[WORKERS].shutdown(wait=False, cancel_futures=True)


async def deliveries_ctx(app: web.Application) -> AsyncIterator[None]:
    """Exactly-once delivery on the shared database, and an hourly prune of old records: the
    deliveries, and the flow state of phone calls that ended without a status callback."""
    store = DeliveryStore(app[ENGINE])
    app[RUNNER].deliveries = store
    desk = app[RUNNER].handoffs = HandoffDesk(app[ENGINE], app[SETTINGS].hotline)
    calls = CallStore(app[ENGINE])
    wait = timedelta(seconds=app[SETTINGS].handoff_wait_s)

    async def tell_waiting() -> None:
        while True:
            try:
                await app[RUNNER].blocking(desk.tell_waiting, wait)
            except Exception:  # noqa: BLE001 - tried again next round
                _LOGGER.warning("telling waiting residents failed", exc_info=True)
            await asyncio.sleep(WAIT_CHECK_S)

    async def follow_held() -> None:
        while True:
            try:
                await app[RUNNER].refresh_held()
            except Exception:  # noqa: BLE001 - the last copy stands until the next round
                _LOGGER.warning("reading held conversations failed", exc_info=True)
            await asyncio.sleep(HELD_REFRESH_S)

    async def prune() -> None:
        while True:
            try:
                deleted = await app[RUNNER].blocking(store.prune)
                stale = await app[RUNNER].blocking(calls.prune)
                _LOGGER.debug("pruned %d old deliveries, %d stale calls", deleted, stale)
            except Exception:  # noqa: BLE001 - a failed prune is retried next hour
                _LOGGER.warning("pruning deliveries failed", exc_info=True)
            await asyncio.sleep(PRUNE_EVERY_S)

    tasks = [asyncio.create_task(prune()), asyncio.create_task(tell_waiting()),
             asyncio.create_task(follow_held())]
    yield
    for task in tasks:
        task.cancel()


async def healthz(request: web.Request) -> web.Response:
    """Readiness (not liveness) for a proxy: 200 while the database answers, else 503 (this
    instance cannot serve: answers, edits and the tracker all need it); with the index size
    and whether the agent is loaded."""
    database = await request.app[PROBE]()
    body = {"status": "ok" if database else "unavailable", "database": database,
            "entries_indexed": len(request.app[KB].index), "agent": DIALOGUE in request.app}
    return web.json_response(body, status=200 if database else 503)


def create_app(settings: Settings) -> web.Application:
    """Assemble the application; resources open in ``cleanup_ctx`` order. Each channel is a
    sub-application at ``/webhooks/<name>/`` (the chat API and voice at ``/api/``), all
    running their turns through one ``TurnRunner``."""
    app = web.Application(middlewares=[error_middleware, metrics.middleware],
                          client_max_size=MAX_MESSAGE_BYTES * 3)
    app[SETTINGS] = settings
    app[WORKERS] = make_worker_pool()
    channels = {name: cls.from_settings(settings) for name, cls in CHANNELS.items()}
    api = ApiInput.from_settings(settings)
    app[RUNNER] = TurnRunner(lambda: app[DIALOGUE], [*channels, api.name],
                             executor=app[WORKERS])
    app.cleanup_ctx.extend([workers_ctx, db_ctx, kb_ctx, dialogue_ctx, deliveries_ctx])
    _add_voice(app)
    api_app = api.subapp(app[RUNNER])
    api_app.add_routes(voice_routes())
    app.add_subapp("/api", api_app)
    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics.handler)])
    app.add_routes(static_routes())  # the page (with its CSP) and its assets, as in the web tests
    add_console(app, KB, RECORDS, ENGINE, app[RUNNER], settings.hotline,
                settings.public_url.startswith("https://"))
    for name, channel in channels.items():
        if channel.enabled:
            app.add_subapp(f"/webhooks/{name}", channel.subapp(app[RUNNER]))
    return app


def _add_voice(app: web.Application) -> None:
    """TTS worker and ASR recogniser (voice/)."""
    from voice.asr import asr_ctx
    from voice.tts import tts_ctx
    app.cleanup_ctx.extend([tts_ctx, asr_ctx(app[SETTINGS].asr_env)])


_RUN_APP_FAILED = "unhandled exception during asyncio.run() shutdown"
"""What ``web.run_app`` tells the loop about the exception that ended its main task."""


def _startup_exception_handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Leave a coded error that stopped the start (an unreachable database, say) to the CLI,
    which prints its code and message; aiohttp would log it with a traceback first. Anything
    else, and a coded error met elsewhere on the loop, is logged as usual."""
    if context.get("message") == _RUN_APP_FAILED and isinstance(context.get("exception"),
                                                                 KnowledgeError):
        _LOGGER.debug("start-up stopped: %s", context["exception"])
        return
    loop.default_exception_handler(context)


def run(settings: Settings, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM (aiohttp shuts down cleanly on both).

    Raises:
        KnowledgeError: The start failed on a coded error (bad database URL, unreachable
            server, invalid thresholds); ``govbot serve`` prints it and exits with 2.
    """
    app = create_app(settings)
    if settings.sip_listen:  # the SIP endpoint, in a process of its own
        from bot.sip_cli import endpoint_process
        app.cleanup_ctx.append(endpoint_process(settings, port))
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_startup_exception_handler)
    try:
        web.run_app(app, host=host, port=port, access_log=None,
                    print=lambda msg: print(msg, flush=True), loop=loop)
    finally:
        asyncio.set_event_loop(None)  # run_app made it current and has closed it
