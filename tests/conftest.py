"""Database fixtures: every `db` test runs on SQLite and on PostgreSQL.

PostgreSQL: STAFFSYNC_TEST_DATABASE_URL (default: the local server) names a server; each test
session creates a database of its own there and drops it at the end, so runs never see each
other's rows. STAFFSYNC_TEST_DATABASES=sqlite runs SQLite only (a machine without PostgreSQL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from staffsync.storage.db import Database
from staffsync.storage.models import Base

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def _backends() -> list[str]:
    wanted = os.environ.get("STAFFSYNC_TEST_DATABASES", "sqlite,postgresql")
    return [name.strip() for name in wanted.split(",") if name.strip()]


@pytest.fixture(scope="session", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "staffsync.db"
        url = f"sqlite:///{path}"
        Database(url).upgrade()
        yield url
        return
    server = make_url(os.environ.get("STAFFSYNC_TEST_DATABASE_URL") or DEFAULT_SERVER)
    name = f"staffsync_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        pytest.fail(
            f"PostgreSQL at {server.render_as_string(hide_password=True)} is not reachable "
            f"({error.__class__.__name__}). "
            "Start it, point STAFFSYNC_TEST_DATABASE_URL at one, or set STAFFSYNC_TEST_DATABASES=sqlite."
        )
    url = server.set(database=name).render_as_string(hide_password=False)
    Database(url).upgrade()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated, empty database for one test."""
    database = Database(database_url)
    yield database
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()
