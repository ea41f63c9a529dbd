"""One run the schedule asked for, as both schedulers run it (the embedded loop and the procrastinate
worker): skipped when no longer due or already running, recorded as failed when it crashes; and the
sweep that finds runs whose process died.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import ProviderSettings, build_connector
from staffsync.storage import connections as connection_store
from staffsync.storage import models, schedules
from staffsync.storage import runs as run_store
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy, ConnectionLock
from staffsync.sync.engine import ConnectionDisconnected, SyncOutcome, run_sync, utc_now

log = logging.getLogger(__name__)

ConnectorFor = Callable[[models.Connection], HRConnector]


class RegistryConnectors:
    """Builds a connection's connector from the registry, with the installation's settings and its
    account's time zone."""

    def __init__(self, db: Database, settings: ProviderSettings) -> None:
        self.db = db
        self.settings = settings

    def __call__(self, connection: models.Connection) -> HRConnector:
        with self.db.session() as session:
            account = session.get(models.Account, connection.account_id)
            timezone = account.timezone if account is not None else "UTC"
        return build_connector(connection, settings=self.settings, timezone=timezone)


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    connection_id: str
    # None when no run happened: `skipped` says why, or the run crashed (`crashed_run_id`).
    outcome: SyncOutcome | None = None
    skipped: str | None = None
    crashed_run_id: str | None = None
    duration_s: float = 0.0


def run_scheduled(
    db: Database,
    connection_id: str,
    *,
    account_id: str,
    connector_for: ConnectorFor,
    trigger: str = "schedule",
    only_if_due: bool = True,
    now: Callable[[], dt.datetime] = utc_now,
    run_id: str | None = None,
    dry_run: bool = False,
    full: bool | None = None,
) -> ScheduledRun:
    """`only_if_due=False` for runs someone asked for (Sync now, a retry of the same slot)."""
    started = time.perf_counter()
    with db.session() as session:
        connection = connection_store.get_connection(session, account_id, connection_id)
        if connection is None or connection.disconnected_at is not None:
            return ScheduledRun(connection_id, skipped="disconnected")
        if only_if_due and not schedules.schedule_of(connection).is_due(now()):
            # Another run (Sync now, another worker) got there first and moved the schedule on.
            return ScheduledRun(connection_id, skipped="not due")
        try:
            connector = connector_for(connection)
        except Exception as error:  # a connector that cannot even be built is a failed run, said so
            return _crashed(
                db, connection_id, account_id, error, trigger=trigger, now=now(), started=started, run_id=run_id
            )
    try:
        outcome = run_sync(
            db,
            connection_id,
            account_id=account_id,
            connector=connector,
            trigger=trigger,
            now=now,
            run_id=run_id,
            dry_run=dry_run,
            full=full,
        )
    except ConnectionBusy:
        return ScheduledRun(connection_id, skipped="busy")
    except (ConnectionDisconnected, LookupError):
        return ScheduledRun(connection_id, skipped="disconnected")
    except Exception as error:  # the engine records fetch failures itself; this is anything it did not survive
        return _crashed(
            db, connection_id, account_id, error, trigger=trigger, now=now(), started=started, run_id=run_id
        )
    return ScheduledRun(connection_id, outcome=outcome, duration_s=time.perf_counter() - started)


def _crashed(
    db: Database,
    connection_id: str,
    account_id: str,
    error: Exception,
    *,
    trigger: str,
    now: dt.datetime,
    started: float,
    run_id: str | None,
) -> ScheduledRun:
    # The type only: exception texts can quote payloads or connection strings.
    log.exception("scheduled sync of connection %s crashed (%s)", connection_id, type(error).__name__)
    lock = ConnectionLock(db, connection_id)
    try:
        lock.acquire()
    except ConnectionBusy:
        # Someone else runs it now; their run will find ours, if it was left running, and abandon it.
        return ScheduledRun(connection_id, skipped="busy")
    try:
        with db.transaction() as session:
            crashed = schedules.record_crash(
                session,
                account_id,
                connection_id,
                error=type(error).__name__,
                trigger=trigger,
                now=now,
                run_id=run_id,
            )
    finally:
        lock.release()
    return ScheduledRun(connection_id, crashed_run_id=crashed, duration_s=time.perf_counter() - started)


def recover_abandoned(db: Database, *, now: dt.datetime) -> int:
    """Runs recorded as running whose connection nobody holds were cut off by a dead process: they are
    marked abandoned (their staged plan dropped, nothing of it applied) and the connection, still due,
    syncs again. A lock still held, or a lease not yet expired (SQLite), means: not now, maybe later."""
    with db.session() as session:
        candidates = schedules.running_runs(session)
    abandoned = 0
    for account_id, connection_id in candidates:
        lock = ConnectionLock(db, connection_id)
        try:
            lock.acquire()
        except ConnectionBusy:
            continue
        try:
            with db.transaction() as session:
                abandoned += run_store.abandon_running_runs(session, account_id, connection_id, now=now)
        finally:
            lock.release()
    if abandoned:
        log.warning("%d sync run(s) cut off by a stopped process were marked abandoned", abandoned)
    return abandoned
