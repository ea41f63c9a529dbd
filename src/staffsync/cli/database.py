"""`staffsync db upgrade`: bring the database schema to the version this code needs; `staffsync db rotate-keys`:
re-encrypt the stored secrets under the first key of STAFFSYNC_SECRET_KEYS."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy import select

from staffsync.cli.output import CliError, JsonOption, emit_json, note
from staffsync.cli.runtime import GuardedCommand, command_group, load_settings, open_database
from staffsync.storage import models
from staffsync.storage.queue_schema import install_queue_schema

app = command_group("db", "The database schema.")


@app.command("upgrade", cls=GuardedCommand)
def upgrade(json_output: JsonOption = False) -> None:
    """Apply the migrations this version ships; an up-to-date database is left as it is. On PostgreSQL,
    also install (or upgrade) the tables of the procrastinate queue that `staffsync worker` uses."""
    with open_database() as db:
        shown = db.url.render_as_string(hide_password=True)
        queue = install_queue_schema(db)
        revision = db.schema_revision()
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


@app.command("rotate-keys", cls=GuardedCommand)
def rotate_keys(json_output: JsonOption = False) -> None:
    """Re-encrypt every connection's credentials and every webhook signing secret under the first key of
    STAFFSYNC_SECRET_KEYS. Rotate a key in three steps: put the new key first (`NEW,OLD`) and restart, run this,
    then drop the old key. A secret that no configured key decrypts is left as it is and reported (exit 1)."""
    # Imported here: `db upgrade`, the CLI's cheapest command, has no use for the cryptography package.
    from staffsync.crypto import CredentialCipher, CredentialError, SecretKeyError

    try:
        cipher = CredentialCipher.from_settings(load_settings())
    except SecretKeyError as error:
        raise CliError(str(error)) from None
    counts = {"connections": 0, "webhook_secrets": 0}
    unreadable: list[str] = []
    with open_database() as db, db.transaction() as session:
        for connection in session.execute(select(models.Connection)).scalars():
            if connection.credentials_encrypted is None:
                continue
            try:
                connection.credentials_encrypted = cipher.rotate(connection.credentials_encrypted)
                counts["connections"] += 1
            except CredentialError:
                unreadable.append(f"connection {connection.id}")
        for endpoint in session.execute(select(models.WebhookEndpoint)).scalars():
            rotated: list[Any] = []
            for entry in endpoint.secrets:
                try:
                    rotated.append({**entry, "secret": cipher.rotate(entry["secret"])})
                    counts["webhook_secrets"] += 1
                except CredentialError:
                    rotated.append(entry)
                    unreadable.append(f"webhook {endpoint.id} secret {entry.get('id')}")
            # A new list, not the same one edited: the JSON column notices assignment only.
            endpoint.secrets = rotated
    if json_output:
        emit_json({**counts, "unreadable": unreadable})
    else:
        note(
            f"Re-encrypted the credentials of {counts['connections']} connection(s) "
            f"and {counts['webhook_secrets']} webhook secret(s) under the first key."
        )
        for what in unreadable:
            note(f"Not re-encrypted, no configured key decrypts it: {what}")
    if unreadable:
        raise typer.Exit(1)
