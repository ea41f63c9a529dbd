"""SQL for the event outbox: events are written in the same transaction as the change they report."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from staffsync.domain.events import Event
from staffsync.storage import models


def new_event_id() -> str:
    """Sortable ids: the events of one transaction share `occurred_at`, and consumers (webhooks, in order per
    employee) sort by (occurred_at, id), so ids must follow the order the events were written in."""
    global _last_ns
    with _id_lock:
        # Strictly increasing in this process even if the wall clock steps back.
        _last_ns = max(time.time_ns(), _last_ns + 1)
        stamp = _last_ns
    return f"evt_{stamp:019d}{secrets.token_hex(6)}"


_id_lock = threading.Lock()
_last_ns = 0


def event_rows(events: Iterable[Event], *, account_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": new_event_id(),
            "account_id": account_id,
            "type": event.type,
            "occurred_at": now,
            "data": event.data,
        }
        for event in events
    ]


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(models.table_of(models.OutboxEvent).insert(), rows)


def list_events(session: Session, account_id: str, *, limit: int = 1000) -> list[models.OutboxEvent]:
    return list(
        session.execute(
            select(models.OutboxEvent)
            .where(models.OutboxEvent.account_id == account_id)
            .order_by(models.OutboxEvent.occurred_at, models.OutboxEvent.id)
            .limit(limit)
        ).scalars()
    )
