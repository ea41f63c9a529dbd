"""What an admin does with webhooks: subscribe a URL, rotate its secret, look at deliveries, replay one.

Every function takes the caller's session and account: the edge (request, command) commits, and an id
from another account is simply not found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from staffsync.crypto import CredentialCipher
from staffsync.domain.events import EVENT_TYPES
from staffsync.storage import models
from staffsync.storage import webhooks as store
from staffsync.webhooks.secrets import active_entries, new_secret, rotated, secret_entry
from staffsync.webhooks.targets import Resolver, check_target, resolve_host

# Long enough for a receiver team to deploy the new secret during a working day.
DEFAULT_ROTATION_GRACE = dt.timedelta(hours=24)
MAX_EVENT_TYPE_LENGTH = 64


class WebhookNotFound(LookupError):
    pass


class UnknownEventType(ValueError):
    """A subscription names an event type staffsync never emits (a typo would otherwise never match)."""


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """The secret is shown once, here; afterwards it only exists encrypted."""

    endpoint: models.WebhookEndpoint
    secret: str


def create_endpoint(
    session: Session,
    account_id: str,
    *,
    url: str,
    cipher: CredentialCipher,
    now: dt.datetime,
    allow_private: bool,
    description: str = "",
    event_types: list[str] | None = None,
    resolve: Resolver = resolve_host,
) -> CreatedEndpoint:
    """Raises TargetRefused (a ValueError with an admin-readable message) for URLs that may not be used."""
    target = check_target(url, allow_private=allow_private, resolve=resolve)
    types = _clean_event_types(event_types or [])
    secret = new_secret()
    endpoint = store.insert_endpoint(
        session,
        account_id,
        url=str(target.url),
        description=description,
        event_types=types,
        secrets=[secret_entry(cipher, account_id, secret, now=now)],
        now=now,
    )
    return CreatedEndpoint(endpoint, secret)


def list_endpoints(session: Session, account_id: str) -> list[models.WebhookEndpoint]:
    return store.list_endpoints(session, account_id)


def rotate_secret(
    session: Session,
    account_id: str,
    endpoint_id: str,
    *,
    cipher: CredentialCipher,
    now: dt.datetime,
    grace: dt.timedelta = DEFAULT_ROTATION_GRACE,
) -> str:
    """Add a new secret and return it; the current ones keep signing alongside it until `now + grace`."""
    endpoint = _endpoint(session, account_id, endpoint_id)
    secret = new_secret()
    endpoint.secrets = rotated(
        endpoint.secrets, secret_entry(cipher, account_id, secret, now=now), now=now, grace=grace
    )
    return secret


def remove_old_secrets(session: Session, account_id: str, endpoint_id: str, *, now: dt.datetime) -> None:
    """End a rotation early, once the receiver has switched: only the newest secret signs from now on."""
    endpoint = _endpoint(session, account_id, endpoint_id)
    current = active_entries(endpoint.secrets, now)
    if current:
        endpoint.secrets = [{**current[-1], "expires_at": None}]


def enable_endpoint(session: Session, account_id: str, endpoint_id: str) -> None:
    """Resume after the receiver was fixed; deliveries still pending from before go out again."""
    endpoint = _endpoint(session, account_id, endpoint_id)
    endpoint.status = "active"
    endpoint.disabled_reason = None
    endpoint.consecutive_failures = 0


def update_endpoint(
    session: Session,
    account_id: str,
    endpoint_id: str,
    *,
    allow_private: bool,
    url: str | None = None,
    description: str | None = None,
    event_types: list[str] | None = None,
    resolve: Resolver = resolve_host,
) -> models.WebhookEndpoint:
    """Only what is given changes; a new URL passes the same SSRF checks as a new endpoint's."""
    endpoint = _endpoint(session, account_id, endpoint_id)
    if url is not None:
        endpoint.url = str(check_target(url, allow_private=allow_private, resolve=resolve).url)
    if description is not None:
        endpoint.description = description
    if event_types is not None:
        endpoint.event_types = _clean_event_types(event_types)
    return endpoint


def delete_endpoint(session: Session, account_id: str, endpoint_id: str) -> None:
    # The row goes through the ORM first so that the audit trail's flush hook records what was deleted (a
    # statement-level DELETE is invisible to it); the store then removes the endpoint's deliveries.
    session.delete(_endpoint(session, account_id, endpoint_id))
    session.flush()
    store.delete_endpoint(session, account_id, endpoint_id)


def list_deliveries(
    session: Session,
    account_id: str,
    *,
    endpoint_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[models.WebhookDelivery]:
    """Newest first; `status="failed"` lists the dead letters, each with its last status code and error."""
    return store.list_deliveries(session, account_id, endpoint_id=endpoint_id, status=status, limit=limit)


def replay(session: Session, account_id: str, delivery_id: str, *, now: dt.datetime) -> models.WebhookDelivery:
    """Queue a delivery again, with a fresh retry schedule. It keeps its webhook-id (the event id), so a
    receiver that already processed it can recognise the duplicate."""
    delivery = store.get_delivery(session, account_id, delivery_id)
    if delivery is None:
        raise WebhookNotFound(f"webhook delivery {delivery_id} not found")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    return delivery


def _endpoint(session: Session, account_id: str, endpoint_id: str) -> models.WebhookEndpoint:
    endpoint = store.get_endpoint(session, account_id, endpoint_id)
    if endpoint is None:
        raise WebhookNotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


def _clean_event_types(event_types: list[str]) -> list[str]:
    cleaned = sorted({event_type.strip() for event_type in event_types})
    unknown = [event_type for event_type in cleaned if event_type not in EVENT_TYPES]
    if unknown:
        raise UnknownEventType(
            f"unknown event type {', '.join(repr(t[:MAX_EVENT_TYPE_LENGTH]) for t in unknown)}: "
            f"choose among {', '.join(EVENT_TYPES)}"
        )
    return cleaned
