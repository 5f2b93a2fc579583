"""Alembic environment: runs migrations on a given connection or URL."""
import logging

from alembic import context
from sqlalchemy import create_engine

from knowledge.models import Base

_LOGGER = logging.getLogger(__name__)
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations online, reusing the caller's connection when given."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
