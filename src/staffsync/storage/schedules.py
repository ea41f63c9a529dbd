"""SQL for the schedule: which connections are due, and what a run, a review or an admin does to a
connection's next run (the rules are in domain/schedule.py; this module reads and writes them)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from staffsync.domain.events import Event
from staffsync.domain.schedule import ConnectionState, RunResult, Schedule, check_interval, connection_state
from staffsync.storage import models, outbox

_RESULTS = {
    "succeeded": RunResult.SUCCEEDED,
    "held": RunResult.HELD,
}
_FAILURES = {
    "credentials_rejected": RunResult.CREDENTIALS_REJECTED,
    "waiting_for_source": RunResult.WAITING_FOR_SOURCE,
}
# A run the schedule started again after a transient failure of the same slot (tasks.py).
RETRY_TRIGGER = "retry"


def schedule_of(connection: models.Connection) -> Schedule:
    return Schedule(
        interval=dt.timedelta(minutes=connection.schedule_minutes),
        next_sync_at=connection.next_sync_at,
        consecutive_failures=connection.consecutive_failures,
        failing_since=connection.failing_since,
        paused=connection.paused_at is not None,
    )


def _store(connection: models.Connection, schedule: Schedule) -> None:
    connection.next_sync_at = schedule.next_sync_at
    connection.consecutive_failures = schedule.consecutive_failures
    connection.failing_since = schedule.failing_since


def due_connections(
    session: Session, now: dt.datetime, *, limit: int | None = None, exclude: Collection[str] = ()
) -> list[models.Connection]:
    """Due connections, the longest overdue first. Paused, broken, held and disconnected ones have no
    next run; the conditions are repeated here so that a stale `next_sync_at` can never run them."""
    query = (
        select(models.Connection)
        .where(
            models.Connection.next_sync_at <= now,
            models.Connection.paused_at.is_(None),
            models.Connection.disconnected_at.is_(None),
            models.Connection.status != "broken",
        )
        .order_by(models.Connection.next_sync_at, models.Connection.id)
    )
    if exclude:
        query = query.where(models.Connection.id.not_in(list(exclude)))
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def running_connection_ids(session: Session) -> set[str]:
    return set(
        session.execute(select(models.SyncRun.connection_id).where(models.SyncRun.status == "running")).scalars()
    )


def running_runs(session: Session) -> list[tuple[str, str]]:
    """(account id, connection id) of every connection with a run recorded as running."""
    rows = session.execute(
        select(models.SyncRun.account_id, models.SyncRun.connection_id)
        .where(models.SyncRun.status == "running")
        .distinct()
    ).all()
    return [(row.account_id, row.connection_id) for row in rows]


def awaiting_review(session: Session, account_id: str, connection_id: str) -> bool:
    return (
        session.execute(
            select(models.SyncRun.id)
            .where(
                models.SyncRun.account_id == account_id,
                models.SyncRun.connection_id == connection_id,
                models.SyncRun.status == "held",
            )
            .limit(1)
        ).first()
        is not None
    )


def _blocked(session: Session, connection: models.Connection) -> bool:
    """Waiting for an admin: rejected credentials, or a held plan nobody has reviewed yet."""
    return connection.status == "broken" or awaiting_review(session, connection.account_id, connection.id)


def record_run(session: Session, run: models.SyncRun, *, now: dt.datetime) -> None:
    """The sync engine calls this in the transaction that finishes a run, after the connection's status."""
    connection = session.get(models.Connection, run.connection_id)
    if connection is None:
        return
    if run.dry_run:
        # A simulation neither counts as a sync nor moves the schedule; rejected credentials are a fact all the same.
        if connection.status == "broken":
            connection.next_sync_at = None
        return
    if run.status == "failed":
        result = _FAILURES.get(run.error_kind or "", RunResult.FAILED)
    else:
        result = _RESULTS.get(run.status, RunResult.SUCCEEDED)
    retry = run.trigger == RETRY_TRIGGER
    _store(
        connection,
        schedule_of(connection).after_run(result, at=now, retry=retry, blocked=_blocked(session, connection)),
    )


def record_review(session: Session, account_id: str, connection_id: str, *, now: dt.datetime) -> None:
    """A held run was approved or discarded: the connection is back on its schedule."""
    connection = session.get(models.Connection, connection_id)
    if connection is None or connection.account_id != account_id:
        return
    _store(connection, schedule_of(connection).after_review(at=now, blocked=_blocked(session, connection)))


CRASHED = "The run stopped with an unexpected {error}; nothing of it was applied"


def record_crash(
    session: Session,
    account_id: str,
    connection_id: str,
    *,
    error: str,
    trigger: str,
    now: dt.datetime,
    run_id: str | None = None,
) -> str | None:
    """A scheduled run ended in an exception instead of a run record. Call holding the connection's lock.

    Its run (or, when it never got one, a new one) is recorded as failed, its staged changes dropped, and
    the failure counts like any other, so a connection that crashes every time backs off instead of being
    retried at every tick. Returns the failed run's id; None when nothing was left to record (the run had
    finished, and moved the schedule, before the exception). `run_id`: the id a run that never got its
    record is recorded under (one queued by Sync now, whose requester waits for it)."""
    connection = session.get(models.Connection, connection_id)
    if connection is None or connection.account_id != account_id:
        return None
    message = CRASHED.format(error=error)
    running = list(
        session.execute(
            select(models.SyncRun).where(
                models.SyncRun.account_id == account_id,
                models.SyncRun.connection_id == connection_id,
                models.SyncRun.status == "running",
            )
        ).scalars()
    )
    schedule = schedule_of(connection)
    if not running and run_id is None and not schedule.is_due(now):
        return None
    if not running:
        run = models.SyncRun(
            id=run_id or str(uuid.uuid4()),
            account_id=account_id,
            connection_id=connection_id,
            trigger=trigger,
            kind="incremental",
            dry_run=False,
            status="running",
            started_at=now,
            hold_reasons=[],
            timings={},
        )
        session.add(run)
        running = [run]
    for run in running:
        session.execute(
            delete(models.Change).where(models.Change.account_id == account_id, models.Change.run_id == run.id)
        )
        run.status = "failed"
        run.error_kind = "internal"
        run.error_message = message
        run.finished_at = now
        event = Event("sync.failed", {"run_id": run.id, "connection_id": connection_id, "error": message})
        outbox.insert_events(session, outbox.event_rows([event], account_id=account_id, now=now))
    connection.status = "failing"
    connection.status_message = message
    retry = trigger == RETRY_TRIGGER
    _store(connection, schedule.after_run(RunResult.FAILED, at=now, retry=retry, blocked=_blocked(session, connection)))
    return running[-1].id


def pause(session: Session, connection: models.Connection, *, now: dt.datetime) -> None:
    if connection.paused_at is None:
        connection.paused_at = now
    _store(connection, schedule_of(connection).pause())


def resume(session: Session, connection: models.Connection, *, now: dt.datetime) -> None:
    if connection.paused_at is None:
        return
    schedule = schedule_of(connection).resume(at=now, blocked=_blocked(session, connection))
    connection.paused_at = None
    _store(connection, schedule)


def set_interval(connection: models.Connection, minutes: int) -> None:
    """Raises InvalidInterval outside 5 minutes … a week."""
    schedule = schedule_of(connection).with_interval(dt.timedelta(minutes=check_interval(minutes)))
    connection.schedule_minutes = minutes
    _store(connection, schedule)


def state_of(session: Session, connection: models.Connection) -> ConnectionState:
    return connection_state(
        status=connection.status,
        disconnected=connection.disconnected_at is not None,
        paused=connection.paused_at is not None,
        awaiting_review=awaiting_review(session, connection.account_id, connection.id),
        consecutive_failures=connection.consecutive_failures,
    )


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """Every account's connections at once: for metrics and operators, never shown to a tenant."""

    states: dict[str, int] = field(default_factory=dict)
    # Connections due now and not running: the backlog the schedule has yet to work through.
    waiting: int = 0
    running: int = 0


def overview(session: Session, now: dt.datetime) -> QueueOverview:
    held = set(session.execute(select(models.SyncRun.connection_id).where(models.SyncRun.status == "held")).scalars())
    running = running_connection_ids(session)
    rows = session.execute(
        select(
            models.Connection.id,
            models.Connection.status,
            models.Connection.disconnected_at,
            models.Connection.paused_at,
            models.Connection.consecutive_failures,
        )
    ).all()
    states = Counter(
        connection_state(
            status=row.status,
            disconnected=row.disconnected_at is not None,
            paused=row.paused_at is not None,
            awaiting_review=row.id in held,
            consecutive_failures=row.consecutive_failures,
        ).value
        for row in rows
    )
    due = set(
        session.execute(
            select(models.Connection.id).where(
                models.Connection.next_sync_at <= now,
                models.Connection.paused_at.is_(None),
                models.Connection.disconnected_at.is_(None),
                models.Connection.status != "broken",
            )
        ).scalars()
    )
    return QueueOverview(
        states={state.value: states.get(state.value, 0) for state in ConnectionState},
        waiting=len(due - running),
        running=len(running),
    )
