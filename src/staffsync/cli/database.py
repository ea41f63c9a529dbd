"""`staffsync db upgrade`: bring the database schema to the version this code needs."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from staffsync.cli.output import JsonOption, emit_json, note
from staffsync.cli.runtime import GuardedCommand, command_group, open_database
from staffsync.storage.db import alembic_config
from staffsync.storage.queue_schema import install_queue_schema

app = command_group("db", "The database schema.")


@app.command("upgrade", cls=GuardedCommand)
def upgrade(json_output: JsonOption = False) -> None:
    """Apply the migrations this version ships; an up-to-date database is left as it is. On PostgreSQL,
    also install (or upgrade) the tables of the procrastinate queue that `staffsync worker` uses."""
    with open_database() as db:
        url = db.url.render_as_string(hide_password=False)
        shown = db.url.render_as_string(hide_password=True)
        queue = install_queue_schema(db)
    revision = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if json_output:
        emit_json(
            {
                "database": shown,
                "revision": revision,
                "queue_schema": queue.installed,
                "queue_migrations": queue.applied,
            }
        )
        return
    note(f"Database {shown} is at revision {revision}.")
    if queue.installed:
        note(
            "The procrastinate queue's tables are up to date"
            + (f" (applied {', '.join(queue.applied)})." if queue.applied else ".")
        )
