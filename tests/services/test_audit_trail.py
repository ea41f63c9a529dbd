"""The audit trail answers "who changed this configuration, when, and from what to what?" for every kind of
configuration (issue 6): connection settings, filters, field modes, policies, webhooks and API tokens. Elsewhere:
approvals and discards of held runs (tests/api/test_api_policies.py), a webhook staffsync disabled by itself
(tests/webhooks/test_webhook_delivery.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.fernet import Fernet, MultiFernet

from fakes import NOW, Directory, make_directory
from staffsync.crypto import CredentialCipher
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.services import policies
from staffsync.storage import accounts, audit, connections, models, schedules
from staffsync.storage.db import Database
from staffsync.webhooks import endpoints

ADA = "admin:ada@acme.test"


@pytest.fixture
def directory(db: Database) -> Directory:
    return make_directory(db)


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher(MultiFernet([Fernet(Fernet.generate_key())]))


def trail(directory: Directory, object_type: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, actor, changes) of one kind of object, oldest first."""
    with directory.db.session() as session:
        entries = audit.list_entries(session, directory.account_id, object_type=object_type, limit=1000)
    return [(e.action, e.actor, e.changes) for e in reversed(entries)]


def edit_connection(directory: Directory, change: Any) -> None:
    with directory.db.transaction(actor=ADA) as session:
        connection = session.get(models.Connection, directory.connection_id)
        assert connection is not None
        change(session, connection)


def test_connection_settings_filters_and_field_modes_are_audited_with_before_and_after(directory: Directory) -> None:
    def rename(_: Any, connection: models.Connection) -> None:
        connection.name = "Personio Germany"
        connection.priority = 2
        schedules.set_interval(connection, 30)

    def filter_teams(_: Any, connection: models.Connection) -> None:
        connections.save_filters(_, connection, FilterRules(teams=frozenset({"team-eng"})), now=NOW)

    def import_titles_once(session: Any, connection: models.Connection) -> None:
        settings = FieldSettings.from_mapping({"job_title": {"enabled": True, "mode": "continuous"}})
        connections.save_field_settings(session, connection, settings, now=NOW)

    for change in (rename, filter_teams, import_titles_once):
        edit_connection(directory, change)

    created, renamed, filtered, modes = trail(directory, "connection")
    assert created[:2] == ("connection.created", "system")
    assert renamed[:2] == ("connection.updated", ADA)
    assert renamed[2]["name"] == {"old": "Personio DE", "new": "Personio Germany"}
    assert renamed[2]["priority"] == {"old": 1, "new": 2}
    assert renamed[2]["schedule_minutes"] == {"old": 60, "new": 30}
    assert filtered[:2] == ("connection.updated", ADA)
    assert filtered[2]["filters"]["old"]["teams"] == []
    assert filtered[2]["filters"]["new"]["teams"] == ["team-eng"]
    assert modes[:2] == ("connection.updated", ADA)
    assert modes[2]["field_settings"]["old"]["job_title"]["mode"] == "import_once"
    assert modes[2]["field_settings"]["new"]["job_title"]["mode"] == "continuous"


def test_a_policy_is_audited_from_creation_through_each_change_to_deletion(directory: Directory) -> None:
    draft = policies.draft(
        policy_id=None,
        name="GitHub for engineers",
        conditions=[{"field": "team", "operator": "equals", "values": ["Engineering"]}],
        application="GitHub",
        role="member",
    )
    with directory.db.transaction(actor=ADA) as session:
        policies.save_policy(session, directory.account_id, draft, now=NOW)
    admins = policies.draft(
        policy_id=draft.id,
        name=draft.name,
        conditions=[{"field": "team", "operator": "in", "values": ["Engineering", "Platform"]}],
        application="GitHub",
        role="admin",
    )
    with directory.db.transaction(actor="api-token:ci admin") as session:
        policies.save_policy(session, directory.account_id, admins, now=NOW)
    with directory.db.transaction(actor=ADA) as session:
        policies.delete_policy(session, directory.account_id, draft.id, now=NOW)

    created, updated, deleted = trail(directory, "policy")
    assert created[:2] == ("policy.created", ADA)
    assert created[2]["application"] == {"old": None, "new": "GitHub"}
    assert updated[:2] == ("policy.updated", "api-token:ci admin")
    assert updated[2]["role"] == {"old": "member", "new": "admin"}
    assert updated[2]["conditions"]["old"] == [{"field": "team", "operator": "equals", "values": ["Engineering"]}]
    assert updated[2]["conditions"]["new"][0]["values"] == ["Engineering", "Platform"]
    assert deleted[:2] == ("policy.deleted", ADA)
    assert deleted[2]["name"] == {"old": "GitHub for engineers", "new": None}


def test_a_webhook_is_audited_through_every_change_with_its_secrets_never_shown(
    directory: Directory, cipher: CredentialCipher
) -> None:
    with directory.db.transaction(actor=ADA) as session:
        created = endpoints.create_endpoint(
            session, directory.account_id, url="http://127.0.0.1:9/hooks", cipher=cipher, now=NOW, allow_private=True
        )
        endpoint_id = created.endpoint.id
    with directory.db.transaction(actor=ADA) as session:
        endpoints.update_endpoint(
            session, directory.account_id, endpoint_id, allow_private=True, event_types=["employee.created"]
        )
    with directory.db.transaction(actor=ADA) as session:
        rotated = endpoints.rotate_secret(session, directory.account_id, endpoint_id, cipher=cipher, now=NOW)
    with directory.db.transaction(actor=ADA) as session:
        endpoints.delete_endpoint(session, directory.account_id, endpoint_id)

    entries = trail(directory, "webhook")
    assert [(action, actor) for action, actor, _ in entries] == [
        ("webhook.created", ADA),
        ("webhook.updated", ADA),
        ("webhook.updated", ADA),
        ("webhook.deleted", ADA),
    ]
    created_with, subscribed, rotation, deleted_with = (changes for _, _, changes in entries)
    assert created_with["url"] == {"old": None, "new": "http://127.0.0.1:9/hooks"}
    assert created_with["secrets"] == {"old": None, "new": audit.REDACTED}
    assert subscribed == {"event_types": {"old": [], "new": ["employee.created"]}}
    assert rotation == {"secrets": {"old": audit.REDACTED, "new": audit.REDACTED}}
    assert deleted_with["url"] == {"old": "http://127.0.0.1:9/hooks", "new": None}
    assert created.secret not in repr(entries) and rotated not in repr(entries)


def test_an_api_token_is_audited_when_created_and_revoked_without_its_secret(directory: Directory) -> None:
    with directory.db.transaction(actor=ADA) as session:
        token, secret = accounts.create_token(session, directory.account_id, "Okta", role="viewer", now=NOW)
    revoked_at = NOW + dt.timedelta(days=1)
    with directory.db.transaction(actor="cli:root") as session:
        accounts.revoke_token(session, directory.account_id, token.id, now=revoked_at)

    created, revoked = trail(directory, "api_token")
    assert created[:2] == ("api_token.created", ADA)
    assert created[2]["role"] == {"old": None, "new": "viewer"}
    assert created[2]["token_hash"] == {"old": None, "new": audit.REDACTED}
    assert revoked[:2] == ("api_token.updated", "cli:root")
    assert revoked[2] == {"revoked_at": {"old": None, "new": revoked_at.isoformat()}}
    assert secret not in repr([created, revoked])
