"""SQL the REST API needs beyond the sync's own: paged reads scoped to one account, and disconnecting a source.

Pages are offset windows over a total order (ties broken by the primary key), so walking every page of a
list that does not change meanwhile returns each row exactly once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from staffsync.domain.events import Event
from staffsync.storage import employees as employee_store
from staffsync.storage import models, outbox

DISCONNECTED_REASON = "source disconnected"


def get_employee(session: Session, account_id: str, employee_id: str) -> models.Employee | None:
    return session.execute(
        select(models.Employee).where(models.Employee.account_id == account_id, models.Employee.id == employee_id)
    ).scalar_one_or_none()


def page_runs(
    session: Session, account_id: str, connection_id: str, *, offset: int, limit: int
) -> list[models.SyncRun]:
    """Newest first."""
    return list(
        session.execute(
            select(models.SyncRun)
            .where(models.SyncRun.account_id == account_id, models.SyncRun.connection_id == connection_id)
            .order_by(models.SyncRun.started_at.desc(), models.SyncRun.id)
            .offset(offset)
            .limit(limit)
        ).scalars()
    )


def page_run_changes(session: Session, account_id: str, run_id: str, *, offset: int, limit: int) -> list[models.Change]:
    """In staging order, as the run planned them."""
    return list(
        session.execute(
            select(models.Change)
            .where(models.Change.account_id == account_id, models.Change.run_id == run_id)
            .order_by(models.Change.id)
            .offset(offset)
            .limit(limit)
        ).scalars()
    )


def disconnect_connection(session: Session, connection: models.Connection, *, now: dt.datetime) -> list[str]:
    """Stops a source for good while keeping its people: each of its links is detached, and a person no other
    source still feeds becomes detached (PRODUCT.md §5). Returns the ids of the people who became detached.

    The caller holds the connection's sync lock, so no run applies over a source being disconnected."""
    account_id = connection.account_id
    links = list(employee_store.iter_active_links(session, account_id, connection.id))
    detached = sorted(
        employee_store.detach_links(
            session,
            account_id=account_id,
            connection_id=connection.id,
            detachments=[(link.remote_id, link.employee_id, DISCONNECTED_REASON) for link in links],
            now=now,
        )
    )
    connection.disconnected_at = now
    connection.status = "disconnected"
    connection.status_message = f"Disconnected on {now.date().isoformat()}: it no longer syncs"
    events = [
        Event("employee.detached", {"employee_id": employee_id, "reason": DISCONNECTED_REASON})
        for employee_id in detached
    ]
    outbox.insert_events(session, outbox.event_rows(events, account_id=account_id, now=now))
    return detached
