"""The database boundary: unusable URLs, drivers, servers and schemas give coded errors."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import text

from knowledge.db import make_engine, upgrade
from knowledge.errors import DatabaseError


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: a connection is refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("url, scheme", [
    ("nonsense://host/db", "nonsense"),  # no such dialect
    ("mysql://user:secret@host/db", "mysql"),  # a dialect whose driver is not installed
    ("not a url at all", "not a url at all"),
])
def test_an_unusable_url_is_refused_without_echoing_it(url, scheme):
    with pytest.raises(DatabaseError) as err:
        make_engine(url)
    assert err.value.code == "database" and f"（{scheme}）" in err.value.message
    assert "secret" not in err.value.message


def test_an_unreachable_server_names_it_without_the_password():
    engine = make_engine(f"postgresql+psycopg2://govbot:s3cret@127.0.0.1:{_closed_port()}/kb")
    with pytest.raises(DatabaseError) as err:
        upgrade(engine)
    message = err.value.message
    assert "无法连接数据库" in message and "127.0.0.1" in message and "refused" in message
    assert "s3cret" not in message and "***" in message


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库文件\n" * 100, encoding="utf-8")
    with pytest.raises(DatabaseError, match="file is not a database"):
        upgrade(make_engine(f"sqlite:///{path}"))
    assert path.read_text(encoding="utf-8").startswith("这不是数据库文件")  # left as it was


def test_a_schema_from_a_newer_govbot_is_refused_and_kept(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(DatabaseError, match="9999_from_the_future 不为本程序所知"):
        upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == \
            "9999_from_the_future"


def test_a_usable_database_migrates_twice_without_error(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM kb_entries")).scalar_one() == 0


def test_a_bad_port_and_a_password_in_the_query_stay_out_of_messages():
    with pytest.raises(DatabaseError) as err:
        make_engine("postgresql://govbot:s3cret@db:54x2/kb")
    assert "s3cret" not in err.value.message and "54x2" not in err.value.message
    engine = make_engine(f"postgresql://govbot@127.0.0.1:{_closed_port()}/kb?password=s3cret")
    with pytest.raises(DatabaseError) as err:
        upgrade(engine)
    assert "s3cret" not in err.value.message and "无法连接数据库" in err.value.message


def test_an_unknown_target_revision_is_our_bug_not_the_database(sqlite_url):
    from alembic.util.exc import CommandError

    engine = make_engine(sqlite_url)
    with pytest.raises(CommandError):
        upgrade(engine, "no_such_revision")


def test_outages_are_told_from_bugs(tmp_path):
    from sqlalchemy.exc import OperationalError

    from knowledge.db import is_outage

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with pytest.raises(OperationalError) as bug, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_outage(bug.value)
    holder = engine.raw_connection()
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OperationalError) as locked, make_engine(url).connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")  # a write waits for no one
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        assert "locked" in str(locked.value) and is_outage(locked.value)
    finally:
        holder.rollback()
        holder.close()


def _libpq_parameters(engine) -> dict:
    with engine.connect() as conn:  # what libpq really connected with
        params = conn.connection.dbapi_connection.info.dsn_parameters
    engine.dispose()
    return params


@pytest.mark.postgres
def test_postgresql_connections_time_out_and_keep_alive_unless_the_url_says(pg_url):
    params = _libpq_parameters(make_engine(pg_url))
    assert params["connect_timeout"] == "10" and params["keepalives_idle"] == "10"
    params = _libpq_parameters(make_engine(pg_url + "?connect_timeout=3"))
    assert params["connect_timeout"] == "3" and params["keepalives_count"] == "3"


@pytest.mark.postgres
def test_postgresql_outages_and_bugs_by_sqlstate(pg_url):
    from sqlalchemy.exc import OperationalError

    from knowledge.db import is_outage

    engine = make_engine(pg_url)
    with pytest.raises(OperationalError) as cancelled, engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 50")
        conn.exec_driver_sql("SELECT pg_sleep(2)")
    assert cancelled.value.orig.pgcode == "57014" and is_outage(cancelled.value)
    columns = ", ".join(f"c{i} int" for i in range(1700))
    with pytest.raises(OperationalError) as too_wide, engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE too_wide ({columns})")
    assert too_wide.value.orig.pgcode == "54011" and not is_outage(too_wide.value)  # our bug
    refused = make_engine(f"postgresql://govbot@127.0.0.1:{_closed_port()}/kb")
    with pytest.raises(OperationalError) as down, refused.connect():
        pass
    assert down.value.orig.pgcode is None and is_outage(down.value)
    engine.dispose()


@pytest.mark.postgres
def test_the_probe_gives_up_on_a_locked_schema_table(pg_url):
    from knowledge.db import reachable

    engine = make_engine(pg_url)
    upgrade(engine)
    assert reachable(engine)
    with engine.begin() as holder:
        holder.exec_driver_sql("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        assert not reachable(engine)  # after the probe's statement timeout, not forever
    assert reachable(engine)
    engine.dispose()
