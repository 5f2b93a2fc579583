"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from knowledge.db import make_engine, upgrade
from knowledge.models import Base


def _differences(url: str) -> list:
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table"
                                    and d[1].name == "alembic_version")]


def test_sqlite_schema_matches_the_models(sqlite_url) -> None:
    assert _differences(sqlite_url) == []


def test_postgresql_schema_matches_the_models(pg_url) -> None:
    assert _differences(pg_url) == []
