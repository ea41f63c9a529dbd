"""SQL for webhook endpoints and deliveries: fan-out from the outbox, the delivery queue, the results."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from staffsync.storage import models

Endpoint = models.WebhookEndpoint
Delivery = models.WebhookDelivery
Outbox = models.OutboxEvent


def insert_endpoint(
    session: Session,
    account_id: str,
    *,
    url: str,
    description: str,
    event_types: list[str],
    secrets: list[dict[str, Any]],
    now: dt.datetime,
) -> models.WebhookEndpoint:
    endpoint = Endpoint(
        id=str(uuid.uuid4()),
        account_id=account_id,
        url=url,
        description=description,
        event_types=event_types,
        secrets=secrets,
        status="active",
        consecutive_failures=0,
        created_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, account_id: str, endpoint_id: str) -> models.WebhookEndpoint | None:
    return session.execute(
        select(Endpoint).where(Endpoint.account_id == account_id, Endpoint.id == endpoint_id)
    ).scalar_one_or_none()


def list_endpoints(session: Session, account_id: str) -> list[models.WebhookEndpoint]:
    return list(
        session.execute(
            select(Endpoint).where(Endpoint.account_id == account_id).order_by(Endpoint.created_at, Endpoint.id)
        ).scalars()
    )


def delete_endpoint(session: Session, account_id: str, endpoint_id: str) -> bool:
    # Deliveries go explicitly rather than by ON DELETE CASCADE alone: SQLite only cascades when the
    # connection enabled foreign keys, and a stray connection must not leave orphans behind.
    session.execute(delete(Delivery).where(Delivery.account_id == account_id, Delivery.endpoint_id == endpoint_id))
    result = session.execute(delete(Endpoint).where(Endpoint.account_id == account_id, Endpoint.id == endpoint_id))
    return bool(getattr(result, "rowcount", 0))


def fan_out(session: Session, now: dt.datetime, *, limit: int = 1000) -> int:
    """One pending delivery per matching active endpoint for each not yet fanned-out event; returns how
    many were created. Safe to repeat: (endpoint, event) is unique and duplicates are skipped."""
    events = list(
        session.execute(
            select(Outbox)
            .where(Outbox.delivered_at.is_(None))
            .order_by(Outbox.occurred_at, Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not events:
        return 0
    accounts = {event.account_id for event in events}
    endpoints = list(
        session.execute(
            select(Endpoint).where(Endpoint.account_id.in_(accounts), Endpoint.status == "active")
        ).scalars()
    )
    rows = [
        {
            "id": str(uuid.uuid4()),
            "account_id": event.account_id,
            "endpoint_id": endpoint.id,
            "event_id": event.id,
            "event_type": event.type,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for endpoint in endpoints
        if endpoint.account_id == event.account_id and (not endpoint.event_types or event.type in endpoint.event_types)
    ]
    created = 0
    if rows:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = models.table_of(Delivery)
        # RETURNING counts the rows really inserted; rowcount is unreliable for multi-row inserts on psycopg.
        statement = insert(table).values(rows).on_conflict_do_nothing().returning(table.c.id)
        created = len(session.execute(statement).all())
    session.execute(update(Outbox).where(Outbox.id.in_([event.id for event in events])).values(delivered_at=now))
    return created


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """A pending delivery with what sending it needs, detached from any session."""

    id: str
    account_id: str
    endpoint_id: str
    attempts: int
    next_attempt_at: dt.datetime | None
    event_id: str
    event_type: str
    occurred_at: dt.datetime
    data: dict[str, Any]
    url: str
    secrets: list[Any]


def pending_deliveries(session: Session, *, limit: int = 10_000) -> list[QueuedDelivery]:
    """Every pending delivery of active endpoints, per endpoint in event order: due or not, because a
    delivery still waiting for its retry holds back later events about the same employee."""
    query = (
        select(Delivery, Outbox, Endpoint)
        .join(Outbox, Outbox.id == Delivery.event_id)
        .join(Endpoint, and_(Endpoint.id == Delivery.endpoint_id, Endpoint.status == "active"))
        .where(Delivery.status == "pending")
        .order_by(Delivery.endpoint_id, Outbox.occurred_at, Outbox.id)
        .limit(limit)
    )
    return [
        QueuedDelivery(
            id=delivery.id,
            account_id=delivery.account_id,
            endpoint_id=delivery.endpoint_id,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            event_id=event.id,
            event_type=event.type,
            occurred_at=event.occurred_at,
            data=event.data,
            url=endpoint.url,
            secrets=endpoint.secrets,
        )
        for delivery, event, endpoint in session.execute(query).all()
    ]


def claim_delivery(session: Session, queued: QueuedDelivery, *, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Push the next attempt past the send's duration; False when another worker got there first. If the
    process dies mid-send the lease simply runs out and the delivery is tried again."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == queued.id,
            Delivery.status == "pending",
            Delivery.attempts == queued.attempts,
            Delivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease)
    )
    return bool(getattr(result, "rowcount", 0))


def record_attempt(session: Session, delivery_id: str, **values: Any) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


def reset_failures(session: Session, endpoint_id: str) -> None:
    session.execute(
        update(Endpoint)
        .where(Endpoint.id == endpoint_id, Endpoint.consecutive_failures != 0)
        .values(consecutive_failures=0)
    )


def count_failure(session: Session, endpoint_id: str) -> int:
    session.execute(
        update(Endpoint)
        .where(Endpoint.id == endpoint_id)
        .values(consecutive_failures=Endpoint.consecutive_failures + 1)
    )
    return int(session.execute(select(Endpoint.consecutive_failures).where(Endpoint.id == endpoint_id)).scalar_one())


def list_deliveries(
    session: Session,
    account_id: str,
    *,
    endpoint_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[models.WebhookDelivery]:
    query = select(Delivery).where(Delivery.account_id == account_id)
    if endpoint_id is not None:
        query = query.where(Delivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    return list(session.execute(query.order_by(Delivery.created_at.desc(), Delivery.id).limit(limit)).scalars())


def get_delivery(session: Session, account_id: str, delivery_id: str) -> models.WebhookDelivery | None:
    return session.execute(
        select(Delivery).where(Delivery.account_id == account_id, Delivery.id == delivery_id)
    ).scalar_one_or_none()
