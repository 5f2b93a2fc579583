"""Database engine, sessions and Alembic migrations."""
from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.script.revision import ResolutionError
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from knowledge.errors import DatabaseError

_LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_S = 10
"""How long a PostgreSQL connection attempt may take (unless the URL sets ``connect_timeout``):
a server that drops packets then fails a health check instead of holding it for minutes."""
_SQLITE_OUTAGES = ("database is locked", "unable to open", "disk i/o error", "readonly",
                   "database or disk is full")


def make_engine(url: str) -> Engine:
    """Create an engine (2.0-style API) for any SQLAlchemy URL.

    SQLite gets WAL journaling, a busy timeout and foreign keys, so that the
    tracker store, the actions and the staff console can share one file.

    Raises:
        DatabaseError: The URL cannot be parsed, or names a dialect or driver that is not
            installed (nothing is connected yet).
    """
    kwargs: dict = {"future": True, "pool_pre_ping": True}
    try:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif parsed.drivername in ("postgresql", "postgresql+psycopg2") and \
                "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError, ValueError, TypeError) as exc:
        # NoSuchModuleError is an ArgumentError; a bad port or option a ValueError
        scheme = url.partition(":")[0][:40] or "?"  # never the rest: it may hold a password
        raise DatabaseError(f"数据库地址无效或缺少驱动（{scheme}）/ invalid database URL or "
                            f"missing driver: {type(exc).__name__}") from exc
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    return engine


def session_factory(engine: Engine) -> sessionmaker:
    """A 2.0-style session factory bound to ``engine``."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transactional session: commit on success, roll back on error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _where(engine: Engine) -> str:
    """The engine's URL for messages: password masked, query (which may hold one) left out."""
    return engine.url.set(query={}).render_as_string(hide_password=True)


def _first_line(exc: DBAPIError) -> str:
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return (lines or [type(exc).__name__])[0][:200]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` (idempotent).

    Raises:
        DatabaseError: The server cannot be reached (or refuses the login), or the database
            carries a revision this code does not know (written by a newer govbot).
    """
    cfg = alembic_config(str(engine.url))
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise DatabaseError(f"无法连接数据库 {_where(engine)} / cannot connect to the database: "
                            f"{_first_line(exc)}") from exc
    with connection, connection.begin():
        cfg.attributes["connection"] = connection
        try:
            command.upgrade(cfg, revision)
        except CommandError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ResolutionError) or cause.argument == revision:
                raise  # our own migrations are broken: a bug, not the operator's database
            raise DatabaseError(f"数据库 {_where(engine)} 的结构版本不为本程序所知（可能由更新的 "
                                f"govbot 写入）/ unknown schema revision: {exc}") from exc
    _LOGGER.info("database at revision %s", revision)


def reachable(engine: Engine) -> bool:
    """Whether the database answers for govbot now (a health check: never raises for one that
    is down, locked, emptied or gone).

    Args:
        engine: The engine to probe (a fresh or pooled connection, pre-pinged).

    Returns:
        True when the migrated schema's revision could be read.
    """
    try:
        with engine.connect() as connection:  # a deleted SQLite file comes back empty: no row
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        return True
    except DBAPIError as exc:
        _LOGGER.warning("database %s unreachable: %s", _where(engine), _first_line(exc))
    except SQLAlchemyError as exc:  # no row, or the pool's own timeout
        _LOGGER.warning("database %s not usable: %s", _where(engine), type(exc).__name__)
    return False


def is_outage(exc: OperationalError) -> bool:
    """Whether an ``OperationalError`` means the database is unavailable for now (to retry),
    rather than a bug: a lost or refused connection, or SQLite locked, unopenable or full.
    SQLite reports a missing table or bad SQL as an ``OperationalError`` too; those are bugs.
    """
    if exc.connection_invalidated or not isinstance(exc.orig, sqlite3.Error):
        return True  # PostgreSQL's OperationalError is about the connection or the server
    return any(part in str(exc.orig).lower() for part in _SQLITE_OUTAGES)


def is_migrated(engine: Engine) -> bool:
    """Whether the knowledge-base tables exist."""
    return inspect(engine).has_table("kb_entries")
