"""Connecting an HR system through Kombo's hosted flow (PRODUCT.md §3.2).

staffsync asks Kombo for a connect link, the admin completes Kombo's flow, and a one-time token comes
back; exchanging it yields the integration id. The connect request's id travels as Kombo's
`end_user_origin_id`, so the integration that comes back is tied to the account that asked for it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from staffsync.connectors.base import ConnectorError
from staffsync.connectors.kombo.connect import KomboIntegration
from staffsync.domain.schedule import DEFAULT_INTERVAL_MINUTES
from staffsync.storage import connections as connection_store
from staffsync.storage import models

CONNECT_LINK_LIFETIME = dt.timedelta(hours=1)  # Kombo's EMBEDDED links last one hour
WAITING_FOR_FIRST_SYNC = "Waiting for the HR system's first sync at Kombo"


class KomboConnectApi(Protocol):
    """Kombo's two connect endpoints (connectors.kombo.connect.KomboConnectClient); a seam for tests.

    Both raise ConnectorError with Kombo's failure in plain words."""

    def create_link(self, *, origin_id: str, tool: str | None, admin_email: str, organisation: str) -> str: ...

    def integration_by_token(self, token: str) -> KomboIntegration: ...


class ConnectFailed(RuntimeError):
    """The round trip cannot complete; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class ConnectStart:
    request_id: str
    link: str


def start_kombo_connect(
    session: Session,
    api: KomboConnectApi,
    *,
    account_id: str,
    tool: str | None,
    name: str,
    admin_email: str,
    actor: str,
    now: dt.datetime,
) -> ConnectStart:
    account = session.get(models.Account, account_id)
    if account is None:
        raise ConnectFailed(f"No account {account_id}")
    request = models.ConnectRequest(
        id=secrets.token_urlsafe(24),
        account_id=account_id,
        provider="kombo",
        tool=tool,
        name=name,
        created_by=actor,
        created_at=now,
        expires_at=now + CONNECT_LINK_LIFETIME,
    )
    session.add(request)
    try:
        link = api.create_link(origin_id=request.id, tool=tool, admin_email=admin_email, organisation=account.name)
    except ConnectorError as error:
        raise ConnectFailed(f"Kombo could not create a connect link: {error.message}") from None
    return ConnectStart(request.id, link)


def complete_kombo_connect(
    session: Session,
    api: KomboConnectApi,
    *,
    token: str,
    now: dt.datetime,
    schedule_minutes: int = DEFAULT_INTERVAL_MINUTES,
) -> models.Connection:
    """Exchanges the token once and creates the connection (syncing every `schedule_minutes`), or returns the one
    this integration already has: Kombo does not deduplicate integrations, so a second round trip must not make a
    second source."""
    try:
        integration = api.integration_by_token(token)
    except ConnectorError as error:
        raise ConnectFailed(f"Kombo could not confirm the connection: {error.message}") from None
    request = session.get(models.ConnectRequest, integration.origin_id) if integration.origin_id else None
    if request is None:
        raise ConnectFailed("This connection was not started from staffsync; start again from Settings")
    if request.completed_at is None and request.expires_at < now:
        raise ConnectFailed("The connect link has expired (after one hour); start again from Settings")
    existing = session.execute(
        select(models.Connection).where(
            models.Connection.account_id == request.account_id, models.Connection.provider == "kombo"
        )
    ).scalars()
    connection = next((c for c in existing if c.config.get("integration_id") == integration.id), None)
    if connection is None:
        connection = connection_store.create_connection(
            session,
            request.account_id,
            name=request.name,
            provider="kombo",
            now=now,
            config={"integration_id": integration.id, "tool": integration.tool},
            schedule_minutes=schedule_minutes,
        )
    if integration.setup_status != "COMPLETED":
        connection.status = "waiting"
        connection.status_message = WAITING_FOR_FIRST_SYNC
    request.completed_at = request.completed_at or now
    request.connection_id = connection.id
    return connection
