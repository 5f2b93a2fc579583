"""Database readiness probe behind ``GET /healthz``: bounded in time, one probe at a time."""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

from sqlalchemy.engine import Engine

from knowledge.db import PROBE_MS, reachable

_LOGGER = logging.getLogger(__name__)

PROBE_TIMEOUT_S = PROBE_MS / 1000
"""A probe slower than this reports the database as unavailable (a proxy checks every few
seconds; the probe itself may go on, bounded by the driver's connect timeout and, on
PostgreSQL, the same statement timeout)."""


class DatabaseProbe:
    """Whether the database answers, asked on a worker thread.

    Concurrent health checks share the probe in flight, so a database that hangs holds one
    executor thread, never one per check.
    """

    def __init__(self, engine: Engine, timeout: float = PROBE_TIMEOUT_S):
        """Probe ``engine``; a probe taking over ``timeout`` seconds counts as down."""
        self._engine, self._timeout = engine, timeout
        self._running: Optional[asyncio.Future] = None

    async def __call__(self) -> bool:
        """True when the database answered within the timeout."""
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().run_in_executor(
                None, reachable, self._engine)
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), self._timeout)
        except asyncio.TimeoutError:
            _LOGGER.warning("database probe still running after %.1f s", self._timeout)
            return False
