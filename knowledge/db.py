"""Database engine, sessions and Alembic migrations."""
from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from knowledge.errors import DatabaseError

_LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_S = 10
"""How long a PostgreSQL connection attempt may take (unless the URL sets ``connect_timeout``):
a server that drops packets then fails a health check instead of holding it for minutes."""
PROBE_MS = 3000
"""A health probe's statement timeout on PostgreSQL."""
PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                 "keepalives_count": 3}
"""TCP keepalives of a PostgreSQL connection: a server gone silent is noticed in about 25 s
rather than the system's two hours."""
_SQLITE_OUTAGES = frozenset({"database is locked", "unable to open database file",
                             "disk i/o error", "attempt to write a readonly database",
                             "database or disk is full"})
_PSYCOPG2 = ("postgresql", "postgresql+psycopg2")  # the URL forms of our PostgreSQL driver
_PG_OUTAGE_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator, system
_PG_OUTAGE_CODES = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock


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
        elif parsed.drivername in _PSYCOPG2:
            kwargs["connect_args"] = pg_connect_defaults(parsed)
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


def pg_connect_defaults(url: URL) -> dict[str, int]:
    """The connection timeout and keepalives a psycopg2 connection gets, less those ``url``
    sets itself (for ``make_engine`` and Rasa's tracker store alike).

    Args:
        url: A database URL.

    Returns:
        libpq parameter -> value; empty for any other driver.
    """
    if url.drivername not in _PSYCOPG2:
        return {}
    return {key: value for key, value in (("connect_timeout", CONNECT_TIMEOUT_S),
                                          *PG_KEEPALIVES.items()) if key not in url.query}


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
            carries a revision this code does not know (written by a newer govbot); it is
            then left as it is.
    """
    cfg = alembic_config(str(engine.url))
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise DatabaseError(f"无法连接数据库 {_where(engine)} / cannot connect to the database: "
                            f"{_first_line(exc)}") from exc
    with connection, connection.begin():
        known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
        unknown = sorted(set(MigrationContext.configure(connection).get_current_heads()) - known)
        if unknown:
            raise DatabaseError(f"数据库 {_where(engine)} 的结构版本 {', '.join(unknown)} 不为本程序"
                                f"所知（可能由更新的 govbot 写入）/ unknown schema revision")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
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
            if connection.dialect.name == "postgresql":  # a lock or a hung server: give up
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {PROBE_MS}")
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        return True
    except DBAPIError as exc:
        _LOGGER.warning("database %s unreachable: %s", _where(engine), _first_line(exc))
    except SQLAlchemyError as exc:  # no row, or the pool's own timeout
        _LOGGER.warning("database %s not usable: %s", _where(engine), type(exc).__name__)
    return False


def is_outage(exc: OperationalError) -> bool:
    """Whether an ``OperationalError`` means the database is unavailable for now (to retry),
    rather than a bug.

    Outages: a lost or refused connection; on PostgreSQL the connection, resource, operator
    and system error classes, a serialization failure, a deadlock or a lock not available;
    on SQLite a locked, unopenable, read-only or full file. SQLite reports a missing table or
    bad SQL as an ``OperationalError`` too, and PostgreSQL a statement too complex: bugs.
    """
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return str(orig).strip().lower() in _SQLITE_OUTAGES
    code = getattr(orig, "pgcode", None)
    if code is None:  # the client's own: no connection, or it broke
        return True
    return code.startswith(_PG_OUTAGE_CLASSES) or code in _PG_OUTAGE_CODES


def is_migrated(engine: Engine) -> bool:
    """Whether the knowledge-base tables exist."""
    return inspect(engine).has_table("kb_entries")
