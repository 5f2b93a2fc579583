"""Domain errors with codes, translated to HTTP responses at one boundary."""
from __future__ import annotations

import json
import logging
from typing import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import OperationalError

from knowledge.db import is_outage
from knowledge.errors import (ConflictError, ImportFileError, KnowledgeError, NotFoundError,
                              ValidationError)

_LOGGER = logging.getLogger(__name__)

#: Knowledge-base errors raised inside handlers, by HTTP status.
KNOWLEDGE_STATUS = {ValidationError: 400, ImportFileError: 400, NotFoundError: 404,
                    ConflictError: 409}


class GovbotError(Exception):
    """Base class: every error carries a stable ``code`` and a resident-readable message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadRequest(GovbotError):
    """Malformed or invalid input (400)."""


class Unauthorized(GovbotError):
    """Missing or wrong credentials (401)."""

    status = 401
    code = "unauthorized"


class Forbidden(GovbotError):
    """Authenticated but not allowed (403)."""

    status = 403
    code = "forbidden"


class NotFound(GovbotError):
    """No such resource (404)."""

    status = 404
    code = "not_found"


class Conflict(GovbotError):
    """State conflict, e.g. a stale version on edit (409)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(GovbotError):
    """Body over the documented limit (413)."""

    status = 413
    code = "payload_too_large"


class Unavailable(GovbotError):
    """A dependency (model, ASR backend) is not available (503)."""

    status = 503
    code = "unavailable"


def error_response(status: int, code: str, message: str) -> web.Response:
    """JSON error body ``{"error": {"code", "message"}}``."""
    body = {"error": {"code": code, "message": message}}
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json")


@web.middleware
async def error_middleware(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
    """Map domain errors and aiohttp's own 4xx to JSON; let real bugs surface as 500."""
    try:
        return await handler(request)
    except GovbotError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except KnowledgeError as exc:
        return error_response(KNOWLEDGE_STATUS.get(type(exc), 400), exc.code, exc.message)
    except OperationalError as exc:
        if not is_outage(exc):  # SQLite's "no such table", bad SQL: a bug, left as a 500
            raise
        _LOGGER.warning("database unavailable on %s: %s", request.path, type(exc.orig).__name__)
        return error_response(503, "database_unavailable", "数据库暂时不可用，请稍后再试")
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "payload_too_large", "请求内容过大")
    except web.HTTPException as exc:
        if exc.status >= 400 and request.path.startswith(("/api/", "/webhooks/")):
            return error_response(exc.status, "http_%d" % exc.status, exc.reason)
        raise
