"""Secrets are encrypted (or hashed) at rest, and a ciphertext only opens for the account it was made for.

The secrets that reach the database through the real code paths: webhook signing secrets (created through the
API), API tokens (stored as SHA-256), admin passwords (argon2id) and a connection's provider credentials. The
Kombo API key is operator configuration (STAFFSYNC_KOMBO_API_KEY) and never enters the database at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import WEBHOOKS, ApiWorld, open_world
from sqlalchemy import select, text
from webhook_harness import Hooks, Receiver, serve

from fakes import make_signed_up_account
from staffsync.crypto import CredentialError
from staffsync.storage import connections as connection_store
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.webhooks.delivery import make_client
from staffsync.webhooks.secrets import active_secrets

PROVIDER_SECRET = "sk_live_PROVIDER_SENTINEL_7f3a9c"


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def _every_stored_value(db: Database) -> str:
    """Every column of every row, as text: what a dump of the database would show."""
    parts: list[str] = []
    with db.engine.connect() as connection:
        for table in models.Base.metadata.sorted_tables:
            for row in connection.execute(select(table)).all():
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def _database_file_bytes(db: Database) -> bytes:
    """The SQLite file as it lies on disk, with its write-ahead log: what a stolen disk or backup holds."""
    path = Path(db.engine.url.database or "")
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(FULL)"))
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(file.read_bytes() for file in files if file.exists())


def test_no_secret_is_stored_in_clear_in_the_database_file_or_any_row(world: ApiWorld) -> None:
    webhook = world.send("POST", "/webhooks", status=201, json={"url": "http://127.0.0.1:9/hook", "event_types": []})
    webhook_secret = webhook["secret"]
    rotated_secret = world.send("POST", f"/webhooks/{webhook['id']}/rotate-secret", json={"grace_hours": 24})["secret"]
    _, admin, _ = make_signed_up_account(world.db, "Initech")
    with world.db.transaction() as session:
        connection = connection_store.get_connection(session, world.a.account_id, world.connection_id)
        assert connection is not None
        connection_store.store_credentials(connection, PROVIDER_SECRET, WEBHOOKS.cipher)
    secrets = {
        "webhook secret": webhook_secret,
        "rotated webhook secret": rotated_secret,
        "webhook secret without its prefix": webhook_secret.removeprefix("whsec_"),
        "admin API token": world.a.admin,
        "viewer API token": world.a.viewer,
        "admin password": admin.password,
        "provider credentials": PROVIDER_SECRET,
    }
    rows = _every_stored_value(world.db)
    found = [what for what, secret in secrets.items() if secret in rows]
    assert not found, f"in clear in the database: {found}"
    if world.db.engine.dialect.name == "sqlite":
        disk = _database_file_bytes(world.db)
        assert b"whsec_" not in disk or webhook_secret.encode() not in disk
        found = [what for what, secret in secrets.items() if secret.encode() in disk]
        assert not found, f"in clear in the database file: {found}"
    # Proof that the search looks at the right place: what is stored in clear is found.
    assert world.connection_id in rows


def test_a_webhook_secret_copied_into_another_accounts_row_does_not_decrypt_there(world: ApiWorld) -> None:
    own = world.send("POST", "/webhooks", status=201, json={"url": "http://127.0.0.1:9/a", "event_types": []})
    other = world.send(
        "POST", "/webhooks", status=201, token=world.b.admin, json={"url": "http://127.0.0.1:9/b", "event_types": []}
    )
    with world.db.transaction() as session:
        source = session.get(models.WebhookEndpoint, own["id"])
        target = session.get(models.WebhookEndpoint, other["id"])
        assert source is not None and target is not None
        target.secrets = list(source.secrets)
        copied = list(target.secrets)
    with pytest.raises(CredentialError, match="belong to another account"):
        active_secrets(WEBHOOKS.cipher, world.b.account_id, copied, utc_now())
    # The owner's copy still opens: the refusal is about the account, not a damaged ciphertext.
    assert active_secrets(WEBHOOKS.cipher, world.a.account_id, copied, utc_now())
    # The API never decrypts to answer: the other account still reads (and can rotate away from) its endpoint.
    assert world.get(f"/webhooks/{other['id']}", token=world.b.admin)["active_secrets"] == 1
    rotated = world.send("POST", f"/webhooks/{other['id']}/rotate-secret", token=world.b.admin, json={"grace_hours": 0})
    assert rotated["secret"].startswith("whsec_")


def test_provider_credentials_copied_onto_another_accounts_connection_do_not_decrypt_there(world: ApiWorld) -> None:
    with world.db.transaction() as session:
        own = connection_store.get_connection(session, world.a.account_id, world.connection_id)
        assert own is not None
        connection_store.store_credentials(own, PROVIDER_SECRET, WEBHOOKS.cipher)
        other = connection_store.create_connection(
            session, world.b.account_id, name="Stolen", provider="test", now=utc_now()
        )
        other.credentials_encrypted = own.credentials_encrypted
    with world.db.session() as session:
        stolen = connection_store.get_connection(session, world.b.account_id, other.id)
        assert stolen is not None
        with pytest.raises(CredentialError, match="another account") as refused:
            connection_store.read_credentials(stolen, WEBHOOKS.cipher)
        assert PROVIDER_SECRET not in str(refused.value)


def test_a_copied_webhook_secret_fails_only_its_own_delivery_with_a_clear_error(world: ApiWorld) -> None:
    """One bad row must not stop the delivery of every other endpoint's events."""
    with serve(Receiver()) as receiver, make_client() as client:
        a = Hooks(world.db, WEBHOOKS.cipher, client, world.a.account_id, now=utc_now())
        b = Hooks(world.db, WEBHOOKS.cipher, client, world.b.account_id, now=utc_now())
        a.subscribe(receiver)
        b_endpoint = b.subscribe(receiver)
        with world.db.transaction() as session:
            stolen = session.execute(
                select(models.WebhookEndpoint).where(models.WebhookEndpoint.account_id == world.a.account_id)
            ).scalar_one()
            target = session.get(models.WebhookEndpoint, b_endpoint)
            assert target is not None
            target.secrets = list(stolen.secrets)
        b.emit(("employee.created", {"employee_id": "b1"}))
        a.emit(("employee.created", {"employee_id": "a1"}))
        b.tick(dt.timedelta(seconds=1))
        delivered = a.deliveries()
        assert delivered and {d.status for d in delivered} == {"succeeded"}
        [failed] = b.deliveries()
        assert failed.status != "succeeded"
        assert failed.last_error is not None and "another account" in failed.last_error
