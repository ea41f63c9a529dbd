"""The procrastinate queue's tables in staffsync's PostgreSQL database (STAFFSYNC_QUEUE=procrastinate).

One way in: `staffsync db upgrade` installs them on a PostgreSQL database, and applies the migration
scripts a newer procrastinate ships, each once (procrastinate leaves tracking them to its users). Both
halves of a procrastinate release's migrations (its "pre" and "post" scripts) are applied in one go:
stop the workers, upgrade the package, run `staffsync db upgrade`, start them again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from staffsync.storage.db import Database

TRACKING_TABLE = "staffsync_queue_migrations"


@dataclass(frozen=True, slots=True)
class QueueSchema:
    installed: bool = False
    # Migration scripts applied by this call; on a first install, none (the schema is already current).
    applied: list[str] = field(default_factory=list)


def queue_schema_installed(db: Database) -> bool:
    if not db.is_postgresql:
        return False
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar_one() is True


def install_queue_schema(db: Database) -> QueueSchema:
    """Installs or upgrades the queue's schema; nothing on SQLite, where the queue cannot run."""
    if not db.is_postgresql:
        return QueueSchema()
    from procrastinate.schema import SchemaManager

    available = sorted(path.name for path in Path(SchemaManager.get_migrations_path()).glob("*.sql"))
    with db.engine.begin() as connection:
        # Two upgrades started at once (several machines deploying) must not both install the schema.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key()})
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} "
                "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        present = connection.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar_one()
        # B608 is a false positive here: TRACKING_TABLE is a module constant, never input.
        recorded = set(connection.execute(text(f"SELECT name FROM {TRACKING_TABLE}")).scalars())  # nosec B608
        if not present or not recorded:
            # A fresh schema is the current one: every migration shipped so far is in it. A schema installed
            # by hand (`procrastinate schema --apply`) is taken as current too, there being no record of it.
            if not present:
                _run_script(connection, SchemaManager.get_schema())
            _record(connection, available)
            return QueueSchema(installed=True)
        pending = [name for name in available if name not in recorded]
        for name in pending:
            _run_script(connection, (Path(SchemaManager.get_migrations_path()) / name).read_text(encoding="utf-8"))
        _record(connection, pending)
        return QueueSchema(installed=True, applied=pending)


def _run_script(connection: Connection, script: str) -> None:
    # Scripts of several statements go to the driver as they are: psycopg runs them in one round trip,
    # and binds no parameters into them (they contain literal `%`).
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(script)


def _record(connection: Connection, names: list[str]) -> None:
    # B608 is a false positive here: TRACKING_TABLE is a module constant; the name is a bound parameter.
    insert = text(f"INSERT INTO {TRACKING_TABLE} (name) VALUES (:name) ON CONFLICT DO NOTHING")  # nosec B608
    for name in names:
        connection.execute(insert, {"name": name})


def _lock_key() -> int:
    digest = hashlib.blake2b(b"staffsync.queue_schema", digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
