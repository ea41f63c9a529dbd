"""Deleting an HR source with "erase everything from this source" (issue 9 §4): nothing it brought stays behind.

The rule, per person the source ever linked:
- Fed only by this source (no link to any other connection): the person is deleted, with their history (every
  change row), their policy assignments, the run issues that name them, and every outbox event about them (their
  webhook deliveries go with the events). Other people's `manager` pointing at them is cleared.
- Also linked to another connection: the record stays, because that source vouches for it, but this source's
  link, its history rows and every value it supplied last are removed. A core field (name, work email, dates,
  team...) is kept: every connection syncs every core field, so the remaining source holds its own value and
  rewrites it on its next run. A non-core field whose latest applied value came from this source is blanked,
  also in outbox payloads, since the other source may not sync that field at all. If this source was the
  person's primary source, they get none until the remaining source's next run takes over.
Then the source itself goes: its runs (their staged changes and issues), its connect requests, its sync lock,
the `sync.*` events about its runs, and the connection row. No tombstone is kept: the audit log already
records who deleted which connection and when (connection names and settings, never people's values).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from staffsync.domain.fields import FIELDS
from staffsync.storage import connections as connection_store
from staffsync.storage import models
from staffsync.storage.connections import purge_event_fields
from staffsync.storage.db import Database
from staffsync.storage.employees import chunks, column_values
from staffsync.storage.locks import connection_lock

ERASED = "erased"


def erase_source(db: Database, account_id: str, connection_id: str, *, now: dt.datetime) -> models.Connection | None:
    """The erased connection as it was last (status "erased", detached from any session), or None when the account
    has no such connection. Raises ConnectionBusy while a run of the connection is going."""
    with db.transaction() as session:
        if connection_store.get_connection(session, account_id, connection_id) is None:
            return None
    with connection_lock(db, connection_id), db.transaction() as session:
        connection = connection_store.get_connection(session, account_id, connection_id)
        if connection is None:
            return None
        erase_connection(session, connection)
    # Deleted and detached now: the answer describes it as it was last.
    connection.status = ERASED
    connection.status_message = f"Erased on {now.date().isoformat()} with everything it brought"
    connection.disconnected_at = connection.disconnected_at or now
    connection.next_sync_at = None
    # The lock row is keyed by the connection: released by now, and nothing may keep its id.
    with db.transaction() as session:
        session.execute(delete(models.SyncLock).where(models.SyncLock.connection_id == connection_id))
    return connection


def erase_connection(session: Session, connection: models.Connection) -> None:
    """Deletes the source and what it brought, following the module's rule. The caller holds the sync lock."""
    account_id, connection_id = connection.account_id, connection.id
    linked, shared = _linked_and_shared(session, account_id, connection_id)
    # Staged creates of held runs name people no link knows yet: they are this source's too.
    staged = set(
        session.execute(
            select(models.Change.employee_id).where(
                models.Change.account_id == account_id, models.Change.connection_id == connection_id
            )
        ).scalars()
    )
    existing_elsewhere = _existing(session, account_id, staged - linked)
    only_here = sorted((linked - shared) | (staged - linked - existing_elsewhere))
    remote_ids = {
        row.employee_id: row.remote_id
        for row in session.execute(
            select(models.SourceLink.employee_id, models.SourceLink.remote_id).where(
                models.SourceLink.account_id == account_id, models.SourceLink.connection_id == connection_id
            )
        )
    }
    kept = shared | existing_elsewhere
    for employee_id in sorted(kept):
        _forget_values(session, account_id, connection_id, employee_id)
    _forget_remote_ids(session, account_id, {remote_ids[e] for e in kept if e in remote_ids}, kept)
    _delete_people(session, account_id, only_here)
    run_ids = list(
        session.execute(
            select(models.SyncRun.id).where(
                models.SyncRun.account_id == account_id, models.SyncRun.connection_id == connection_id
            )
        ).scalars()
    )
    session.execute(
        delete(models.Change).where(
            models.Change.account_id == account_id, models.Change.connection_id == connection_id
        )
    )
    for part in chunks(run_ids):
        session.execute(delete(models.Change).where(models.Change.run_id.in_(part)))
        session.execute(delete(models.RunIssue).where(models.RunIssue.run_id.in_(part)))
    _delete_events(session, account_id, lambda data: data.get("connection_id") == connection_id)
    session.execute(
        delete(models.SourceLink).where(
            models.SourceLink.account_id == account_id, models.SourceLink.connection_id == connection_id
        )
    )
    session.execute(
        delete(models.SyncRun).where(
            models.SyncRun.account_id == account_id, models.SyncRun.connection_id == connection_id
        )
    )
    session.execute(
        delete(models.ConnectRequest).where(
            models.ConnectRequest.account_id == account_id, models.ConnectRequest.connection_id == connection_id
        )
    )
    # Through the ORM, so that the audit trail records the deletion.
    session.delete(connection)
    session.flush()


@dataclass(frozen=True, slots=True)
class EraseScope:
    """What an erase would touch, for the confirmation: people it linked, and those only it fed."""

    linked: int
    only_here: int


def erase_scope(session: Session, account_id: str, connection_id: str) -> EraseScope:
    linked, shared = _linked_and_shared(session, account_id, connection_id)
    return EraseScope(len(linked), len(linked - shared))


def _linked_and_shared(session: Session, account_id: str, connection_id: str) -> tuple[set[str], set[str]]:
    """Everyone this source ever linked, and those of them another connection links too."""
    linked = set(
        session.execute(
            select(models.SourceLink.employee_id).where(
                models.SourceLink.account_id == account_id, models.SourceLink.connection_id == connection_id
            )
        ).scalars()
    )
    shared: set[str] = set()
    for part in chunks(sorted(linked)):
        shared |= set(
            session.execute(
                select(models.SourceLink.employee_id).where(
                    models.SourceLink.account_id == account_id,
                    models.SourceLink.connection_id != connection_id,
                    models.SourceLink.employee_id.in_(part),
                )
            ).scalars()
        )
    return linked, shared


def _existing(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(sorted(ids)):
        found |= set(
            session.execute(
                select(models.Employee.id).where(models.Employee.account_id == account_id, models.Employee.id.in_(part))
            ).scalars()
        )
    return found


def _forget_values(session: Session, account_id: str, connection_id: str, employee_id: str) -> None:
    """A person another source still feeds: blank the non-core values this source supplied last."""
    history = session.execute(
        select(models.Change.connection_id, models.Change.fields)
        .where(
            models.Change.account_id == account_id,
            models.Change.employee_id == employee_id,
            models.Change.status == "applied",
        )
        .order_by(models.Change.id)
    ).all()
    last_from: dict[str, str | None] = {}
    for row in history:
        for item in row.fields:
            last_from[item["field"]] = row.connection_id
    blanked = {name for name, source in last_from.items() if source == connection_id and not FIELDS[name].core}
    values: dict[str, Any] = {}
    for name in blanked:
        values.update(column_values(name, None))
    employee = models.Employee
    primary = session.scalar(select(employee.primary_connection_id).where(employee.id == employee_id))
    if primary == connection_id:
        values["primary_connection_id"] = None
    if values:
        session.execute(
            update(employee).where(employee.account_id == account_id, employee.id == employee_id).values(values)
        )
    if blanked:
        purge_event_fields(session, account_id, {employee_id}, blanked)


def _forget_remote_ids(session: Session, account_id: str, remote_ids: set[str], employee_ids: set[str]) -> None:
    """Events about people who stay may name them by this source's remote id: the id goes, the event stays."""
    if not remote_ids:
        return
    rewritten = [
        {"b_id": event_id, "data": {**data, "remote_id": None}}
        for event_id, data in _events(session, account_id)
        if isinstance(data, dict) and data.get("employee_id") in employee_ids and data.get("remote_id") in remote_ids
    ]
    if rewritten:
        table = models.table_of(models.OutboxEvent)
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(data=bindparam("data")), rewritten)


def _delete_people(session: Session, account_id: str, employee_ids: list[str]) -> None:
    ids = set(employee_ids)
    for part in chunks(employee_ids):
        session.execute(
            delete(models.Change).where(models.Change.account_id == account_id, models.Change.employee_id.in_(part))
        )
        session.execute(
            delete(models.RunIssue).where(
                models.RunIssue.account_id == account_id, models.RunIssue.employee_id.in_(part)
            )
        )
        session.execute(
            delete(models.PolicyAssignment).where(
                models.PolicyAssignment.account_id == account_id, models.PolicyAssignment.employee_id.in_(part)
            )
        )
        session.execute(
            update(models.Employee)
            .where(models.Employee.account_id == account_id, models.Employee.manager.in_(part))
            .values(manager=None)
        )
        session.execute(
            delete(models.SourceLink).where(
                models.SourceLink.account_id == account_id, models.SourceLink.employee_id.in_(part)
            )
        )
        session.execute(
            delete(models.Employee).where(models.Employee.account_id == account_id, models.Employee.id.in_(part))
        )
    if ids:
        _delete_events(session, account_id, lambda data: data.get("employee_id") in ids)


def _delete_events(session: Session, account_id: str, about: Any) -> None:
    doomed = [event_id for event_id, data in _events(session, account_id) if isinstance(data, dict) and about(data)]
    for part in chunks(doomed):
        session.execute(delete(models.WebhookDelivery).where(models.WebhookDelivery.event_id.in_(part)))
        session.execute(delete(models.OutboxEvent).where(models.OutboxEvent.id.in_(part)))


def _events(session: Session, account_id: str) -> Iterator[tuple[str, Any]]:
    # Event data is JSON whose shape differs per type: read in Python, the same on SQLite and PostgreSQL.
    rows = session.execute(
        select(models.OutboxEvent.id, models.OutboxEvent.data)
        .where(models.OutboxEvent.account_id == account_id)
        .execution_options(yield_per=1000)
    )
    for row in rows:
        yield row.id, row.data
