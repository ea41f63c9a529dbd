"""What every API request starts from: the application context, and the caller behind the bearer token.

The caller's account id scopes every query a router makes; a viewer token may read but never write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from staffsync.api.errors import ApiError
from staffsync.api.metrics import ApiMetrics
from staffsync.api.rate_limits import check_token_failures, count_token_failure
from staffsync.connectors.base import HRConnector
from staffsync.crypto import CredentialCipher
from staffsync.services.background_syncs import BackgroundSyncs
from staffsync.storage import accounts as account_store
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.webhooks.targets import Resolver, resolve_host

# (stored connection, account time zone) -> the connector that reads it
ConnectorFor = Callable[[models.Connection, str], HRConnector]

LAST_USED_PRECISION = dt.timedelta(minutes=1)
ADMIN = "admin"
VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """What webhook endpoints need from the installation: the cipher of their secrets, and whether private
    network targets are allowed (STAFFSYNC_WEBHOOKS_ALLOW_PRIVATE)."""

    cipher: CredentialCipher
    allow_private: bool
    resolve: Resolver = resolve_host


def webhook_config_from_environment() -> WebhookConfig:
    # Read on first use: most requests never need the secret keys, and tests build apps without an environment.
    from staffsync.settings import get_settings

    settings = get_settings()
    return WebhookConfig(CredentialCipher.from_settings(settings), settings.webhooks_allow_private)


def schedule_minutes_from_environment() -> int:
    """STAFFSYNC_SYNC_INTERVAL_MINUTES: the schedule of a connection created without one."""
    from staffsync.settings import get_settings

    return get_settings().sync_interval_minutes


@dataclass
class ApiContext:
    db: Database
    connector_for: ConnectorFor
    metrics: ApiMetrics
    # Syncs started through the API or the UI run in the background; a shutdown or a test waits for them.
    syncs: BackgroundSyncs
    webhooks: Callable[[], WebhookConfig] = webhook_config_from_environment
    default_schedule_minutes: Callable[[], int] = schedule_minutes_from_environment

    def join_syncs(self, timeout: float | None = None) -> None:
        self.syncs.join(timeout)


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: str
    role: str
    token_id: str
    token_name: str

    @property
    def actor(self) -> str:
        """Who did it, as recorded in history and events: the token's name, never the token."""
        return f"api-token:{self.token_name}"


def api_context(request: Request) -> ApiContext:
    context = request.app.state.api
    assert isinstance(context, ApiContext)
    return context


Context = Annotated[ApiContext, Depends(api_context)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token of the account: `Authorization: Bearer ssk_…`. After repeated unknown or revoked "
    "tokens from one address, every request from it is answered 429 `rate_limited` with `Retry-After` for a while.",
)


def authenticate(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    check_token_failures(request)
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "unauthorized", "Send an API token as `Authorization: Bearer <token>`")
    with context.db.transaction() as session:
        token = account_store.find_token(session, credentials.credentials)
        if token is None:
            count_token_failure(request)
            # One answer for a made-up, mistyped and revoked token: which it was is the owner's to find out.
            raise ApiError(401, "unauthorized", "The API token is unknown or revoked")
        moment = utc_now()
        # A write per request would queue every API read behind a running sync on SQLite: once a minute is
        # precise enough for "last used".
        if token.last_used_at is None or moment - token.last_used_at > LAST_USED_PRECISION:
            token.last_used_at = moment
        return Caller(token.account_id, token.role, token.id, token.name)


def require_admin(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    if caller.role != ADMIN:
        raise ApiError(403, "forbidden", "This API token may only read: changes need an admin token")
    return caller


Reader = Annotated[Caller, Depends(authenticate)]
Writer = Annotated[Caller, Depends(require_admin)]
