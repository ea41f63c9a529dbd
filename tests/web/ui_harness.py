"""The web UI behind FastAPI's TestClient on the test database: an account with an admin, a viewer and a
synced source, browsers that sign in, and the app's state-changing pages walked from its routes.

Browsers talk to https://testserver: the session cookie is `Secure`, and a client keeps it only over https,
as a real browser would."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from cryptography.fernet import Fernet, MultiFernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from fakes import ListSource, Login, make_signed_up_account, person
from staffsync.api.app import API_PREFIX, create_app
from staffsync.api.deps import WebhookConfig
from staffsync.api.routes import route_templates
from staffsync.connectors.base import HRConnector
from staffsync.crypto import CredentialCipher
from staffsync.services import policies as policy_service
from staffsync.storage import accounts, connections, models, web_sessions
from staffsync.storage.db import Database
from staffsync.sync.engine import run_sync, utc_now
from staffsync.web.auth import CSRF_FIELD, SESSION_COOKIE, admin_action
from staffsync.webhooks import endpoints
from staffsync.webhooks.delivery import fan_out

# Receivers in tests listen on 127.0.0.1, which production refuses (SSRF): allowed here.
TEST_WEBHOOKS = WebhookConfig(CredentialCipher(MultiFernet([Fernet(Fernet.generate_key())])), allow_private=True)
BASE_URL = "https://testserver"
# Routes that change something without a signed-in session: signing in has no session (and no CSRF token) yet.
SIGNED_OUT_POSTS = frozenset({"/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class UiWorld:
    db: Database
    app: FastAPI
    account_id: str
    admin: Login
    viewer: Login
    connection_id: str
    source: ListSource
    other_account_id: str
    other_admin: Login

    def browser(self, *, address: str = "testclient") -> TestClient:
        """A fresh browser (its own cookie jar) on the served app, as seen from `address`."""
        return TestClient(self.app, base_url=BASE_URL, follow_redirects=False, client=(address, 50000))

    def signed_in(self, login: Login) -> SignedInBrowser:
        """A browser with a session of `login`, started straight in storage (argon2 costs are for sign-in tests)."""
        with self.db.transaction() as session:
            user = session.execute(select(models.AdminUser).where(models.AdminUser.email == login.email)).scalar_one()
            secret = web_sessions.start_session(session, user, now=utc_now())
            signed = web_sessions.resume_session(session, secret, now=utc_now())
            assert signed is not None
        client = self.browser()
        client.cookies.set(SESSION_COOKIE, secret)
        return SignedInBrowser(client, secret, signed.csrf_token)

    def employee_id(self, email: str = "person3@acme.test") -> str:
        with self.db.session() as session:
            return session.execute(
                select(models.Employee.id).where(
                    models.Employee.account_id == self.account_id, models.Employee.work_email == email
                )
            ).scalar_one()

    def run_id(self) -> str:
        with self.db.session() as session:
            return session.execute(
                select(models.SyncRun.id)
                .where(models.SyncRun.connection_id == self.connection_id)
                .order_by(models.SyncRun.started_at.desc())
                .limit(1)
            ).scalar_one()

    def token_id(self) -> str:
        with self.db.session() as session:
            return accounts.list_tokens(session, self.account_id)[0].id

    def policy_id(self) -> str:
        """A policy of the account, made on first use."""
        with self.db.transaction() as session:
            existing = policy_service.list_policies(session, self.account_id)
            if existing:
                return existing[0].id
            policy = policy_service.draft(
                policy_id=None,
                name="GitHub for engineers",
                conditions=[{"field": "team", "operator": "equals", "values": ["Engineering"]}],
                application="GitHub",
                role="member",
            )
            return policy_service.save_policy(session, self.account_id, policy, now=utc_now()).id

    def webhook_id(self) -> str:
        """A webhook endpoint of the account, made on first use."""
        with self.db.transaction() as session:
            existing = session.execute(
                select(models.WebhookEndpoint.id).where(models.WebhookEndpoint.account_id == self.account_id)
            ).scalar()
            if existing is not None:
                return existing
            return endpoints.create_endpoint(
                session,
                self.account_id,
                url="http://127.0.0.1:9/hook",
                cipher=TEST_WEBHOOKS.cipher,
                now=utc_now(),
                allow_private=True,
            ).endpoint.id

    def delivery_id(self) -> str:
        """A delivery to the account's webhook endpoint: one of the events the first sync announced."""
        webhook_id = self.webhook_id()
        fan_out(self.db, utc_now())
        with self.db.session() as session:
            return endpoints.list_deliveries(session, self.account_id, endpoint_id=webhook_id)[0].id


@dataclass
class SignedInBrowser:
    client: TestClient
    session_secret: str
    csrf_token: str

    def form_post(self, url: str, data: Mapping[str, str | list[str]] | None = None, **kwargs: Any) -> Any:
        """A form submitted the way the pages do: the CSRF token in its hidden field."""
        return self.client.post(url, data={CSRF_FIELD: self.csrf_token, **(data or {})}, **kwargs)


def _account(db: Database, name: str) -> tuple[str, Login, Login]:
    return make_signed_up_account(db, name, api_token=True)


def open_ui_world(db: Database) -> Iterator[UiWorld]:
    account_id, admin, viewer = _account(db, "Acme")
    other_account_id, other_admin, _ = _account(db, "Globex")
    source = ListSource(records=[person(n) for n in range(1, 7)])
    with db.transaction() as session:
        connection_id = connections.create_connection(
            session, account_id, name="Personio DE", provider="test", now=utc_now()
        ).id

    def connector_for(connection: models.Connection, timezone: str) -> HRConnector:
        return source

    app = create_app(db, connector_for=connector_for, webhook_config=TEST_WEBHOOKS)
    outcome = run_sync(db, connection_id, account_id=account_id, connector=source)
    assert outcome.status == "succeeded", outcome
    yield UiWorld(db, app, account_id, admin, viewer, connection_id, source, other_account_id, other_admin)
    # A sync started from a page must not outlive the test's database.
    app.state.api.join_syncs(timeout=60)


# ---- the app's own pages, walked from its routes ----


def web_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every page route: everything outside the REST API and the static files."""
    return [
        (method, route.path)
        for route in route_templates(app)
        if route.methods and not route.path.startswith(API_PREFIX + "/") and route.path != API_PREFIX + "/openapi.json"
        for method in sorted(route.methods)
    ]


def state_changing_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path in web_routes(app)
        if method not in SAFE_METHODS and path not in SIGNED_OUT_POSTS
    ]


def page_actions() -> list[tuple[str, str]]:
    """The state-changing page routes of the application as built for production."""
    return state_changing_routes(create_app(Database("sqlite://")))


def admin_only_actions() -> set[tuple[str, str]]:
    """The page actions that declare `AdminAction`; the others (`CsrfChecked`) say they change nothing."""
    app = create_app(Database("sqlite://"))
    found = set()
    for route in fastapi.routing.iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is not None and admin_action in _calls(dependant):
            found.update((method, route.path) for method in route.methods or ())
    return found


def _calls(dependant: Any) -> set[Any]:
    calls = set()
    for dependency in dependant.dependencies:
        calls.add(dependency.call)
        calls |= _calls(dependency)
    return calls


PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")

# What kind of object a path parameter names: by its own name, else by the path segment before it.
_KIND_BY_NAME = {
    "employee_id": "employee",
    "connection_id": "connection",
    "run_id": "run",
    "sync_id": "run",
    "token_id": "token",
    "policy_id": "policy",
    "webhook_id": "webhook",
    "delivery_id": "delivery",
}
_KIND_BY_SEGMENT = {
    "employees": "employee",
    "onboardings": "employee",
    "offboardings": "employee",
    "detached": "employee",
    "connections": "connection",
    "employee-sync": "connection",
    "runs": "run",
    "syncs": "run",
    "api-tokens": "token",
    "policies": "policy",
    "webhooks": "webhook",
    "deliveries": "delivery",
}


def object_kind(path: str, parameter: str) -> str | None:
    if parameter in _KIND_BY_NAME:
        return _KIND_BY_NAME[parameter]
    before = path.split("{" + parameter)[0].rstrip("/").rsplit("/", 1)[-1]
    return _KIND_BY_SEGMENT.get(before)


def fill_path(world: UiWorld, path: str) -> str:
    """The path with a real id of the signed-in account's object in every parameter it can tell the kind of;
    an unknown kind gets a fresh id (a CSRF check that comes before the lookup still answers 403)."""
    ids = {
        "employee": world.employee_id,
        "connection": lambda: world.connection_id,
        "run": world.run_id,
        "token": world.token_id,
        "policy": world.policy_id,
        "webhook": world.webhook_id,
        "delivery": world.delivery_id,
    }

    def value(match: re.Match[str]) -> str:
        kind = object_kind(path, match.group(1))
        return ids[kind]() if kind else str(uuid.uuid4())

    return PARAMETER.sub(value, path)


def snapshot(db: Database) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, except what merely reading a page touches on a web session (its sliding
    expiry and the flash messages shown)."""
    volatile = {"web_sessions": {"last_seen_at", "expires_at", "flashes"}}
    state: dict[str, list[tuple[str, ...]]] = {}
    with db.session() as session:
        for table in models.Base.metadata.sorted_tables:
            columns = [column for column in table.columns if column.name not in volatile.get(table.name, set())]
            state[table.name] = sorted(
                tuple(str(value) for value in row) for row in session.execute(select(*columns)).all()
            )
    return state
