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
from staffsync.storage.db import insert_rows


def new_event_ids(count: int) -> list[str]:
    """Sortable ids: the events of one transaction share `occurred_at`, and consumers (webhooks, in order per
    employee) sort by (occurred_at, id), so ids must follow the order the events were written in. One clock
    reading and one draw of randomness for all `count`: a first sync writes an event or two per person."""
    global _last_ns
    with _id_lock:
        # Strictly increasing in this process even if the wall clock steps back.
        first = max(time.time_ns(), _last_ns + 1)
        _last_ns = first + count - 1
    noise = secrets.token_hex(6 * count)
    return [f"evt_{first + i:019d}{noise[12 * i : 12 * i + 12]}" for i in range(count)]


_id_lock = threading.Lock()
_last_ns = 0


def event_rows(events: Iterable[Event], *, account_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    listed = list(events)
    return [
        {"id": event_id, "account_id": account_id, "type": event.type, "occurred_at": now, "data": event.data}
        for event_id, event in zip(new_event_ids(len(listed)), listed, strict=True)
    ]


def insert_events(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    insert_rows(session, models.table_of(models.OutboxEvent), rows)


def list_events(session: Session, account_id: str, *, limit: int = 1000) -> list[models.OutboxEvent]:
    return list(
        session.execute(
            select(models.OutboxEvent)
            .where(models.OutboxEvent.account_id == account_id)
            .order_by(models.OutboxEvent.occurred_at, models.OutboxEvent.id)
            .limit(limit)
        ).scalars()
    )
