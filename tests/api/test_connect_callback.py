"""The Kombo connect round trip over real HTTP: staffsync → Kombo (simulated) → the admin → staffsync."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from fakes import NOW
from staffsync.api.app import create_app
from staffsync.connectors.kombo.connect import KomboConnectClient
from staffsync.services.connect import start_kombo_connect
from staffsync.simulators.kombo import SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage import accounts, models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now

API_KEY = "sim-api-key"


@pytest.fixture
def kombo() -> Iterator[tuple[SimulatorState, str]]:
    state = SimulatorState(api_keys={API_KEY})
    with serving_in_thread(create_kombo_simulator(state)) as base:
        yield state, base + "/v1"


def test_the_connect_round_trip_creates_the_connection_for_the_account_that_asked(
    db: Database, kombo: tuple[SimulatorState, str]
) -> None:
    state, kombo_url = kombo
    client = KomboConnectClient(API_KEY, server_url=kombo_url)
    with serving_in_thread(create_app(db, kombo_connect=lambda: client)) as staffsync_url:
        state.settings.connect_redirect_url = staffsync_url + "/connect/kombo/callback"
        with db.transaction() as session:
            account_id = accounts.create_account(session, "Acme", timezone="Europe/Berlin", now=NOW).id
            started = start_kombo_connect(
                session,
                client,
                account_id=account_id,
                tool="personio",
                name="Personio DE",
                admin_email="it@acme.test",
                actor="admin:alice",
                now=utc_now(),
            )
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            page = browser.get(started.link)
            assert page.status_code == 200 and "<form" in page.text
            action = re.search(r'action="([^"]+)"', page.text)
            assert action is not None
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
            landed = browser.post(str(page.url.join(action.group(1))), data={**fields, "action": "connect"})
        assert landed.status_code == 200, landed.text
        assert "Personio DE is connected" in landed.text
        assert landed.url.path == "/connect/kombo/callback"

    with db.session() as session:
        connection = session.execute(select(models.Connection)).scalar_one()
    assert connection.account_id == account_id
    assert connection.config["integration_id"] in state.integrations
    assert connection.config["tool"] == "personio"


def test_a_token_cannot_be_exchanged_twice(db: Database, kombo: tuple[SimulatorState, str]) -> None:
    state, kombo_url = kombo
    client = KomboConnectClient(API_KEY, server_url=kombo_url)
    integration = state.create_integration(size=5)
    token = state.issue_token(integration.id)
    app = create_app(db, kombo_connect=lambda: client)
    with serving_in_thread(app) as staffsync_url:
        first = httpx.get(f"{staffsync_url}/connect/kombo/callback", params={"token": token}, timeout=10)
        second = httpx.get(f"{staffsync_url}/connect/kombo/callback", params={"token": token}, timeout=10)
    assert first.status_code == 400 and "not started from staffsync" in first.text
    assert second.status_code == 400 and "Kombo could not confirm the connection" in second.text


def test_healthz_answers(db: Database) -> None:
    with serving_in_thread(create_app(db)) as staffsync_url:
        response = httpx.get(f"{staffsync_url}/healthz", timeout=10)
    assert response.json() == {"status": "ok", "database": "ok"}
