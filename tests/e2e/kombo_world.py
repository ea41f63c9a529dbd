"""A world for browser tests of connecting a source: staffsync served next to a running Kombo simulator.

The account Acme has no source yet. Kombo's connect link, its hosted page and its HRIS API are the
simulator's, over real HTTP; staffsync talks to it with the same client and connector as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import SecretStr
from web_harness import Login, make_account

from staffsync.api.app import create_app
from staffsync.api.deps import ApiContext
from staffsync.connectors.base import HRConnector
from staffsync.connectors.kombo.connect import KomboConnectClient
from staffsync.connectors.registry import build_connector
from staffsync.simulators.kombo import Integration, SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage import models
from staffsync.storage.db import Database

API_KEY = "sim-key-web-wizard"
# Small enough for a quick first sync, large enough for every legal entity and several pages of preview.
COMPANY_SIZE = 60


@dataclass(frozen=True, slots=True)
class KomboSettings:
    """The installation settings a Kombo connector reads, pointed at the simulator."""

    kombo_api_key: SecretStr
    kombo_base_url: str


@dataclass
class KomboWorld:
    db: Database
    base_url: str
    kombo: SimulatorState
    account_id: str
    admin: Login
    viewer: Login
    context: ApiContext

    def integration(self) -> Integration:
        """The one integration the hosted connect flow created."""
        (integration,) = self.kombo.integrations.values()
        return integration


@contextmanager
def kombo_world(db: Database) -> Iterator[KomboWorld]:
    state = SimulatorState(api_keys={API_KEY})
    state.settings.default_size = COMPANY_SIZE
    account_id, admin, viewer = make_account(db, "Acme")
    with serving_in_thread(create_kombo_simulator(state)) as kombo_base:
        settings = KomboSettings(SecretStr(API_KEY), kombo_base + "/v1")
        client = KomboConnectClient(settings.kombo_api_key, server_url=settings.kombo_base_url)

        def connector_for(connection: models.Connection, timezone: str) -> HRConnector:
            return build_connector(connection, settings=settings, timezone=timezone)

        app = create_app(db, kombo_connect=lambda: client, connector_for=connector_for)
        context = app.state.api
        with serving_in_thread(app) as base_url:
            yield KomboWorld(db, base_url, state, account_id, admin, viewer, context)
            # A sync started from the UI must not outlive the test's database.
            context.join_syncs(timeout=60)
