"""Errors raised by the knowledge package; each carries a stable code."""
from __future__ import annotations

import logging

_LOGGER = logging.getLogger(__name__)


class KnowledgeError(Exception):
    """Base class for knowledge-base errors."""

    code = "kb_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(KnowledgeError):
    """Input data is invalid; ``field`` names the offending field."""

    code = "invalid"

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(KnowledgeError):
    """No entry, term, revision or record with that key."""

    code = "not_found"


class ConflictError(KnowledgeError):
    """The record changed since the caller read it (stale version)."""

    code = "conflict"


class ImportFileError(KnowledgeError):
    """An import file cannot be read at all (encoding, format, missing columns)."""

    code = "import_error"


class ExportError(KnowledgeError):
    """The encoder could not be fetched or converted (``code`` names the step)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class DatabaseError(KnowledgeError):
    """The database cannot be used: a malformed URL, a missing driver, an unreachable server,
    or a schema newer than this code. The message never holds the URL's password."""

    code = "database"
