"""Database engine, sessions and Alembic migrations."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from knowledge.errors import DatabaseError

_LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine (2.0-style API) for any SQLAlchemy URL.

    SQLite gets WAL journaling, a busy timeout and foreign keys, so that the
    tracker store, the actions and the staff console can share one file.

    Raises:
        DatabaseError: The URL cannot be parsed, or names a dialect or driver that is not
            installed (nothing is connected yet).
    """
    kwargs = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
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
    return engine.url.render_as_string(hide_password=True)


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
        reason = str(exc.orig or exc).strip().splitlines()[0][:200]
        raise DatabaseError(f"无法连接数据库 {_where(engine)} / cannot connect to the database: "
                            f"{reason}") from exc
    with connection, connection.begin():
        cfg.attributes["connection"] = connection
        try:
            command.upgrade(cfg, revision)
        except CommandError as exc:
            raise DatabaseError(f"数据库 {_where(engine)} 的结构版本不为本程序所知（可能由更新的 "
                                f"govbot 写入）/ unknown schema revision: {exc}") from exc
    _LOGGER.info("database at revision %s", revision)


def reachable(engine: Engine) -> bool:
    """Whether the database answers a trivial query now (a health check; never raises for a
    database that is down, locked or gone).

    Args:
        engine: The engine to probe (a fresh or pooled connection, pre-pinged).

    Returns:
        True when ``SELECT 1`` came back.
    """
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
        return True
    except DBAPIError as exc:
        _LOGGER.warning("database %s unreachable: %s", _where(engine),
                        str(exc.orig or exc).strip().splitlines()[0][:200])
        return False


def is_migrated(engine: Engine) -> bool:
    """Whether the knowledge-base tables exist."""
    return inspect(engine).has_table("kb_entries")
