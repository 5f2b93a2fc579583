"""Prometheus metrics: request counts and latency, turns, knowledge-base decisions."""
from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

_LOGGER = logging.getLogger(__name__)

REQUESTS = Counter("govbot_http_requests_total", "HTTP requests", ["route", "status"])
LATENCY = Histogram("govbot_http_request_seconds", "HTTP request latency", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
TURNS = Counter("govbot_turns_total", "Dialogue turns handled", ["channel"])
TURN_FAILURES = Counter("govbot_turn_failures_total", "Dialogue turns that failed", ["channel"])
DUPLICATES = Counter("govbot_duplicate_messages_total",
                     "Retried messages answered with the reply already given", ["channel"])
KB_DECISIONS = Counter("govbot_kb_decisions_total", "Knowledge-base search decisions",
                       ["channel", "decision"])
HANDOFFS = Counter("govbot_handoffs_total", "Handoffs to a person", ["channel"])
TICKETS = Counter("govbot_tickets_total", "Requests and complaints filed", ["channel"])
# Every ``channel`` label is a registered channel name (``bot.turns.TurnRunner`` refuses
# others), so no request can create new series.


@web.middleware
async def middleware(request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """Count and time every request by its route template."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        REQUESTS.labels(route, str(status)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)


async def handler(request: web.Request) -> web.Response:
    """``GET /metrics`` in the Prometheus text format."""
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
WECHAT_REPLIES = Counter("govbot_wechat_replies_total", "WeChat answers by how they reached the "
                         "resident", ["mode"])
WECHAT_PUSH_FAILURES = Counter("govbot_wechat_push_failures_total",
                               "WeChat pushes that failed for good (left in the outbox)")
