"""The Kombo connect round trip, with a stand-in for Kombo's two connect endpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from fakes import NOW
from staffsync.connectors.kombo.connect import KomboIntegration
from staffsync.services.connect import (
    ConnectFailed,
    complete_kombo_connect,
    start_kombo_connect,
)
from staffsync.storage import accounts, connections
from staffsync.storage.db import Database


@dataclass
class FakeKombo:
    setup_status: str = "COMPLETED"
    links: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, KomboIntegration] = field(default_factory=dict)

    def create_link(self, *, origin_id: str, tool: str | None, admin_email: str, organisation: str) -> str:
        self.links[origin_id] = tool or "sandbox"
        return f"https://connect.kombo.test/{origin_id}"

    def integration_by_token(self, token: str) -> KomboIntegration:
        return self.tokens.pop(token)

    def complete(self, origin_id: str, *, integration_id: str = "personio:abc123") -> str:
        token = f"token-{len(self.tokens)}-{origin_id}"
        self.tokens[token] = KomboIntegration(integration_id, self.links[origin_id], origin_id, self.setup_status)
        return token


def _account(db: Database) -> str:
    with db.transaction() as session:
        return accounts.create_account(session, "Acme", timezone="UTC", now=NOW).id


def _start(db: Database, kombo: FakeKombo, account_id: str) -> str:
    with db.transaction() as session:
        started = start_kombo_connect(
            session,
            kombo,
            account_id=account_id,
            tool="personio",
            name="Personio DE",
            admin_email="it@acme.test",
            actor="admin:alice",
            now=NOW,
        )
    assert started.link.endswith(started.request_id)
    return started.request_id


def test_a_completed_round_trip_creates_the_connection_in_the_asking_account(db: Database) -> None:
    kombo, account_id = FakeKombo(), _account(db)
    token = kombo.complete(_start(db, kombo, account_id))
    with db.transaction() as session:
        connection = complete_kombo_connect(session, kombo, token=token, now=NOW, schedule_minutes=15)
        assert (connection.account_id, connection.provider, connection.name) == (account_id, "kombo", "Personio DE")
        assert connection.config == {"integration_id": "personio:abc123", "tool": "personio"}
        assert connection.schedule_minutes == 15, "the installation's default interval"


def test_connecting_the_same_integration_twice_keeps_one_connection(db: Database) -> None:
    kombo, account_id = FakeKombo(), _account(db)
    for _ in range(2):
        token = kombo.complete(_start(db, kombo, account_id))
        with db.transaction() as session:
            complete_kombo_connect(session, kombo, token=token, now=NOW)
    with db.session() as session:
        assert len(connections.list_connections(session, account_id)) == 1


def test_an_integration_still_in_setup_waits_for_the_first_sync(db: Database) -> None:
    kombo, account_id = FakeKombo(setup_status="FINAL_SYNC_PENDING"), _account(db)
    token = kombo.complete(_start(db, kombo, account_id))
    with db.transaction() as session:
        connection = complete_kombo_connect(session, kombo, token=token, now=NOW)
        assert connection.status == "waiting"
        assert "first sync at Kombo" in (connection.status_message or "")


def test_an_expired_link_or_a_foreign_integration_is_refused(db: Database) -> None:
    kombo, account_id = FakeKombo(), _account(db)
    token = kombo.complete(_start(db, kombo, account_id))
    with db.transaction() as session, pytest.raises(ConnectFailed, match="expired"):
        complete_kombo_connect(session, kombo, token=token, now=NOW + dt.timedelta(hours=2))
    kombo.links["not-ours"] = "personio"
    stranger = kombo.complete("not-ours")
    with db.transaction() as session, pytest.raises(ConnectFailed, match="not started from staffsync"):
        complete_kombo_connect(session, kombo, token=stranger, now=NOW)
