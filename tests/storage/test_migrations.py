"""Migrations build the schema from nothing, and the models never drift from them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from staffsync.storage.db import Database
from staffsync.storage.models import Base
from staffsync.storage.search import declared_by_models


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    database = Database(database_url)
    # The session database is already migrated: upgrading again must be a no-op, not an error.
    database.upgrade()
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    database.dispose()


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    database = Database(database_url)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": declared_by_models}
        )
        assert compare_metadata(context, Base.metadata) == []
    database.dispose()


def test_a_fresh_sqlite_file_is_migrated_from_empty(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    database = Database(f"sqlite:///{tmp_path / 'fresh' / 'staffsync.db'}")
    database.upgrade()
    with database.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert journal == "wal"
    assert "employees" in inspect(database.engine).get_table_names()
    database.dispose()


def test_the_schema_head_the_code_checks_is_alembics_head(database_url: str) -> None:
    from alembic.script import ScriptDirectory

    from staffsync.storage.db import SCHEMA_HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config(database_url)).get_current_head() == SCHEMA_HEAD
    database = Database(database_url)
    assert database.schema_revision() == SCHEMA_HEAD
    database.dispose()


def test_a_database_never_migrated_has_no_revision_and_upgrade_migrates_it(tmp_path: object) -> None:
    from pathlib import Path

    from staffsync.storage.db import SCHEMA_HEAD

    assert isinstance(tmp_path, Path)
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert database.schema_revision() is None
    database.upgrade()
    assert database.schema_revision() == SCHEMA_HEAD
    database.dispose()
