"""Two accounts behind the REST API, driven through FastAPI's TestClient on the test database.

Account A has a hand-fed source ("Personio DE", provider `test`) already synced; account B exists only to
prove that A's objects are invisible to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from fastapi.testclient import TestClient
from httpx import Response

from fakes import ListSource, person
from staffsync.api.app import create_app
from staffsync.api.deps import ApiContext, WebhookConfig
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import build_connector
from staffsync.crypto import CredentialCipher
from staffsync.settings import Settings
from staffsync.storage import accounts, connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import SyncOutcome, run_sync, utc_now

API = "/api/v1"
# Webhook receivers in tests listen on 127.0.0.1, which production refuses (SSRF): allowed here, as
# STAFFSYNC_WEBHOOKS_ALLOW_PRIVATE=true would.
WEBHOOKS = WebhookConfig(CredentialCipher(MultiFernet([Fernet(Fernet.generate_key())])), allow_private=True)
PEOPLE = 12
# Far enough ahead to stay in the onboardings and offboardings lists whatever day the suite runs.
FUTURE_START = dt.date(2099, 1, 4)
FUTURE_END = dt.date(2099, 6, 30)


@dataclass
class Tenant:
    account_id: str
    admin: str
    viewer: str


@dataclass
class ApiWorld:
    db: Database
    client: TestClient
    a: Tenant
    b: Tenant
    connection_id: str
    source: ListSource

    @property
    def context(self) -> ApiContext:
        context = self.client.app.state.api  # type: ignore[attr-defined]
        assert isinstance(context, ApiContext)
        return context

    def call(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, API + path, headers=headers, **kwargs)

    def get(self, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        """GET as A's admin (unless told otherwise), asserting a 200, and the JSON body."""
        response = self.call("GET", path, token=token or self.a.admin, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, *, status: int = 200, token: str | None = None, **kwargs: Any) -> Any:
        response = self.call(method, path, token=token or self.a.admin, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def walk(self, path: str, *, limit: int, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, following next_cursor page by page."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(1000):
            query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            body = self.get(path, params=query)
            assert len(body["items"]) <= limit
            items.extend(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("pagination never ended")

    def sync(self, **options: Any) -> SyncOutcome:
        """A sync of A's source, straight through the engine."""
        return run_sync(self.db, self.connection_id, account_id=self.a.account_id, connector=self.source, **options)

    def employee_id(self, email: str) -> str:
        found = [
            item for item in self.walk("/employees", limit=200, include_hidden=True) if item["work_email"] == email
        ]
        assert len(found) == 1, email
        employee_id: str = found[0]["id"]
        return employee_id

    def wait_for_run(self, run_id: str, *, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run: dict[str, Any] = self.get(f"/syncs/{run_id}")
            if run["status"] != "running":
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} still running after {timeout}s")


def _tenant(db: Database, name: str) -> Tenant:
    with db.transaction() as session:
        account = accounts.create_account(session, name, timezone="Europe/Berlin", now=utc_now())
        _, admin = accounts.create_token(session, account.id, "ci admin", role="admin", now=utc_now())
        _, viewer = accounts.create_token(session, account.id, "dashboard", role="viewer", now=utc_now())
        return Tenant(account.id, admin, viewer)


def source_people() -> ListSource:
    people: list[Any] = [person(n) for n in range(1, PEOPLE + 1)]
    people[0] = dataclasses.replace(people[0], start_date=FUTURE_START, last_name="Newcomer")
    people[1] = dataclasses.replace(people[1], end_date=FUTURE_END, last_name="Leaver")
    return ListSource(records=people)


def open_sqlite_world(directory: Path) -> Iterator[ApiWorld]:
    """A world of its own in a SQLite file under `directory`, for a test module that changes it at will (the
    schemathesis tests): the checks are about the API's shape, not storage."""
    db = Database(f"sqlite:///{directory / 'staffsync.db'}")
    db.upgrade()
    yield from open_world(db)
    db.dispose()


def open_world(db: Database) -> Iterator[ApiWorld]:
    a, b = _tenant(db, "Acme"), _tenant(db, "Globex")
    source = source_people()
    with db.transaction() as session:
        connection_id = connections.create_connection(
            session, a.account_id, name="Personio DE", provider="test", now=utc_now()
        ).id

    def connector_for(connection: models.Connection, timezone: str) -> HRConnector:
        if connection.provider == "test":
            return source
        return build_connector(connection, settings=Settings(_env_file=None), timezone=timezone)

    app = create_app(db, connector_for=connector_for, webhook_config=WEBHOOKS)
    with TestClient(app) as client:
        world = ApiWorld(db, client, a, b, connection_id, source)
        outcome = world.sync()
        assert outcome.status == "succeeded", outcome
        yield world
        # A background sync must not outlive the test's database.
        world.context.join_syncs(timeout=60)
