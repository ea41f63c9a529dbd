"""Alembic environment: runs on the connection Database.upgrade hands over, or on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from staffsync.storage.models import Base
from staffsync.storage.search import declared_by_models

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as fresh:
        _migrate(fresh)
    engine.dispose()


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds tables instead.
        render_as_batch=True,
        compare_type=True,
        # The search index is the database's own (FTS5, GIN), not a table the models declare.
        include_name=declared_by_models,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
