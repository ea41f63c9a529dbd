"""The audit trail: every configuration change is recorded with its actor and before → after, in the same
transaction, with secrets never copied; state that a sync updates is not "configuration" and stays out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fakes import NOW, make_directory
from staffsync.domain.fields import FieldSettings
from staffsync.storage import accounts, audit, connections, models
from staffsync.storage.db import Database


def entries(db: Database, account_id: str) -> list[models.AuditEntry]:
    with db.session() as session:
        return list(reversed(audit.list_entries(session, account_id, limit=1000)))


def test_a_change_of_field_settings_is_recorded_with_the_actor_and_before_and_after(db: Database) -> None:
    directory = make_directory(db)
    with db.transaction(actor="admin:ada@acme.test") as session:
        connection = session.get(models.Connection, directory.connection_id)
        assert connection is not None
        before = dict(connection.field_settings)
        settings = FieldSettings.from_mapping({"job_title": {"enabled": True, "mode": "continuous"}})
        connections.save_field_settings(session, connection, settings, now=NOW)
    [entry] = [e for e in entries(db, directory.account_id) if e.action == "connection.updated"]
    assert entry.actor == "admin:ada@acme.test"
    assert entry.object_id == directory.connection_id
    assert entry.object_label == "Personio DE"
    assert entry.changes["field_settings"]["old"] == before
    assert entry.changes["field_settings"]["new"]["job_title"]["mode"] == "continuous"


def test_creating_and_deleting_are_recorded_and_changes_without_an_actor_are_the_systems(db: Database) -> None:
    directory = make_directory(db)
    created = [e for e in entries(db, directory.account_id) if e.action == "connection.created"]
    assert [e.actor for e in created] == ["system"]
    with db.transaction(actor="cli:root") as session:
        connection = session.get(models.Connection, directory.connection_id)
        session.delete(connection)
    [deleted] = [e for e in entries(db, directory.account_id) if e.action == "connection.deleted"]
    assert deleted.actor == "cli:root"
    assert deleted.changes["name"] == {"old": "Personio DE", "new": None}


def test_secrets_are_recorded_as_changed_never_by_value(db: Database) -> None:
    directory = make_directory(db)
    with db.transaction(actor="admin:ada@acme.test") as session:
        _, secret = accounts.create_token(session, directory.account_id, "ci", role="admin", now=NOW)
        connection = session.get(models.Connection, directory.connection_id)
        assert connection is not None
        connection.credentials_encrypted = "gAAAA-ciphertext-of-an-api-key"
    trail = entries(db, directory.account_id)
    text = repr([e.changes for e in trail])
    assert secret not in text
    assert accounts.hash_token(secret) not in text
    assert "gAAAA-ciphertext-of-an-api-key" not in text
    [update] = [e for e in trail if e.action == "connection.updated"]
    assert update.changes == {"credentials_encrypted": {"old": audit.REDACTED, "new": audit.REDACTED}}


def test_what_a_sync_updates_is_state_not_configuration(db: Database) -> None:
    from fakes import ListSource, person

    directory = make_directory(db, ListSource([person(1), person(2)]))
    before = len(entries(db, directory.account_id))
    assert directory.sync().status == "succeeded"
    assert len(entries(db, directory.account_id)) == before


def test_an_audit_entry_rolls_back_with_the_change(db: Database) -> None:
    directory = make_directory(db)
    before = len(entries(db, directory.account_id))
    with pytest.raises(RuntimeError), db.transaction(actor="admin:ada@acme.test") as session:
        connection = session.get(models.Connection, directory.connection_id)
        assert connection is not None
        connection.name = "Renamed"
        session.flush()
        raise RuntimeError("the request failed after the change")
    assert len(entries(db, directory.account_id)) == before
    with db.session() as session:
        assert session.scalar(select(models.Connection.name)) == "Personio DE"
