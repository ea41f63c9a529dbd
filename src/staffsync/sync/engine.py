"""One sync run, as data flows (ARCHITECTURE.md §3): fetch → normalise → filter → match → plan →
stage → safeguards → apply in one transaction → record the run.

A failed or incomplete fetch applies nothing. A held run keeps its staged plan for an admin.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from staffsync.connectors.base import ConnectorError, FetchRequest, HRConnector
from staffsync.domain.events import Event
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.domain.safeguards import PlanImpact, Thresholds, weigh
from staffsync.storage import audit, models, outbox, schedules
from staffsync.storage import connections as connection_store
from staffsync.storage import employees as employee_store
from staffsync.storage import runs as run_store
from staffsync.storage.db import Database
from staffsync.storage.locks import connection_lock
from staffsync.storage.runs import ChangeStatus
from staffsync.sync.apply import apply_run, touch_seen
from staffsync.sync.garbage import fewer_collections
from staffsync.sync.planner import RunPlanner

BATCH_SIZE = 1000
# Incremental fetches reach back a little before the last one started: clocks differ, and fetching a
# change twice is harmless while missing one is not.
OVERLAP = dt.timedelta(minutes=10)
# A run that adds or detaches this many people changes the tables enough to refresh planner statistics.
BULK_CHANGE = 1000
# A complete fetch repairs whatever incremental fetches missed, and is the only one that may detach.
FULL_FETCH_EVERY = dt.timedelta(hours=24)


# What a failed run says about its connection: rejected credentials need an admin at once (PRODUCT.md §6),
# a source still being set up only needs patience; anything else is a failure that may pass.
_CONNECTION_STATUS = {"credentials_rejected": "broken", "waiting_for_source": "waiting"}


class RunStatus:
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    HELD = "held"
    DISCARDED = "discarded"


@dataclass
class SyncOutcome:
    run_id: str
    status: str
    kind: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    hold_reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProposedSettings:
    """Field settings and filters an admin is considering: a dry run plans with them instead of the saved ones."""

    fields: FieldSettings
    filters: FilterRules


Progress = Callable[[int], None]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def account_today(timezone: str, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(timezone)).date()


def run_sync(
    db: Database,
    connection_id: str,
    *,
    account_id: str,
    connector: HRConnector,
    dry_run: bool = False,
    full: bool | None = None,
    trigger: str = "manual",
    now: Callable[[], dt.datetime] = utc_now,
    today: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    on_started: Callable[[str], None] | None = None,
    run_id: str | None = None,
    proposed: ProposedSettings | None = None,
) -> SyncOutcome:
    """Raises ConnectionBusy when another run of this connection holds the lock; every other failure
    ends as a failed run record, never as an exception. `on_started` gets the run's id as soon as its
    record exists, before the fetch: callers that run syncs in the background answer with it. `run_id`:
    the id the run record gets, chosen by whoever queued the run and waits for it to appear.

    `proposed`: a dry run plans with these settings instead of the connection's, and stores them nowhere.
    It fetches in full, as the first sync after saving them would (a settings change forces a full fetch)."""
    if proposed is not None and not dry_run:
        raise ValueError("Proposed settings can only be simulated: pass dry_run=True, or save them first")
    with connection_lock(db, connection_id) as lock, fewer_collections():
        started = now()
        with db.transaction() as session:
            connection = connection_store.get_connection(session, account_id, connection_id)
            if connection is None:
                raise LookupError(f"No connection {connection_id} in this account")
            if connection.disconnected_at is not None:
                raise ConnectionDisconnected(f"Connection {connection.name} is disconnected: it no longer syncs")
            # Holding the lock, no other run of this connection is going: one still "running" was cut off
            # (the process died). Its staged plan was never applied; the run says so and this one re-plans.
            run_store.abandon_running_runs(session, account_id, connection_id, now=started)
            account = session.get(models.Account, account_id)
            assert account is not None
            day = today or account_today(account.timezone, started)
            is_full = _wants_full(connection, connector, True if proposed is not None else full, started)
            run = models.SyncRun(
                id=run_id or str(uuid.uuid4()),
                account_id=account_id,
                connection_id=connection_id,
                trigger=trigger,
                kind="full" if is_full else "incremental",
                dry_run=dry_run,
                status=RunStatus.RUNNING,
                started_at=started,
                fetch_started_at=started,
                hold_reasons=[],
                timings={},
            )
            session.add(run)
            planner = RunPlanner(
                run_id=run.id,
                account_id=account_id,
                connection_id=connection_id,
                settings=proposed.fields if proposed else connection_store.field_settings_of(connection),
                rules=proposed.filters if proposed else connection_store.filters_of(connection),
                ranks=connection_store.ranks(session, account_id),
                today=day,
                staged_status=ChangeStatus.SIMULATED if dry_run else ChangeStatus.STAGED,
                now=started,
            )
            linked_before = employee_store.count_active_links(session, account_id, connection_id)
            thresholds = connection_store.thresholds_of(connection)
            request = FetchRequest(
                fields=planner.settings.enabled_fields(),
                updated_after=None if is_full or connection.watermark is None else connection.watermark - OVERLAP,
            )
        if on_started is not None:
            on_started(run.id)
        timings: dict[str, float] = {}
        try:
            clock = time.perf_counter()
            stream = connector.employees(request)
            while batch := list(itertools.islice(stream, batch_size)):
                with db.transaction() as session:
                    planner.plan_batch(session, batch)
                lock.renew()
                if progress is not None:
                    progress(len(batch))
            timings["fetch_and_plan_s"] = round(time.perf_counter() - clock, 3)
            outcome = _conclude(
                db,
                run,
                planner,
                complete_fetch=is_full,
                impact_base=linked_before,
                thresholds=thresholds,
                day=day,
                now=now,
                timings=timings,
            )
        except Exception as error:  # a run never ends as an exception: it ends failed, with nothing applied
            return _fail(db, run, planner, error, now=now(), timings=timings)
        if (
            outcome.status == RunStatus.SUCCEEDED
            and not dry_run
            and sum(outcome.counts[name] for name in ("created", "detached")) >= BULK_CHANGE
        ):
            db.refresh_statistics()
        return outcome


def _conclude(
    db: Database,
    run: models.SyncRun,
    planner: RunPlanner,
    *,
    complete_fetch: bool,
    impact_base: int,
    thresholds: Thresholds,
    day: dt.date,
    now: Callable[[], dt.datetime],
    timings: dict[str, float],
) -> SyncOutcome:
    """After a complete stream: detachments and managers, the safeguards, then apply, hold or simulate."""
    clock = time.perf_counter()
    with db.transaction() as session:
        if complete_fetch:
            planner.plan_unseen(session)
        planner.plan_managers(session, complete_fetch=complete_fetch)
        planner.flush(session)
    timings["finish_plan_s"] = round(time.perf_counter() - clock, 3)
    verdict = weigh(
        PlanImpact(
            linked_before=impact_base,
            detachments=planner.detachments,
            new_end_dates=planner.new_end_dates,
            records_fetched=planner.fetched,
            complete_fetch=complete_fetch,
        ),
        thresholds,
    )
    clock = time.perf_counter()
    with db.transaction() as session:
        run = session.merge(run)
        _record_counts(run, planner, run_store.change_counts(session, run.account_id, run.id))
        run.hold_reasons = list(verdict.reasons)
        finished = now()
        if run.dry_run:
            run.status = RunStatus.SUCCEEDED
        elif verdict.hold:
            run.status = RunStatus.HELD
            _emit(session, run, "sync.held", finished, reasons=list(verdict.reasons), counts=run_store.run_counts(run))
        else:
            applied = apply_run(session, run, now=finished, today=day, refuse_conflicts=False)
            touch_seen(session, run, planner.seen - applied.linked, now=finished)
            _mark_synced(session, run, run.connection_id, is_full=complete_fetch)
            run.status = RunStatus.SUCCEEDED
            _emit(session, run, "sync.succeeded", finished, counts=run_store.run_counts(run))
        if not run.dry_run:
            run_store.supersede_held_runs(session, run.account_id, run.connection_id, by_run=run.id, now=finished)
        schedules.record_run(session, run, now=finished)
        timings["apply_s"] = round(time.perf_counter() - clock, 3)
        run.timings = timings
        run.finished_at = finished
        return SyncOutcome(
            run.id, run.status, run.kind, run.dry_run, run_store.run_counts(run), None, list(verdict.reasons)
        )


def approve_run(
    db: Database, run_id: str, *, account_id: str, actor: str, now: Callable[[], dt.datetime] = utc_now
) -> SyncOutcome:
    """Applies exactly the held plan, or refuses (ApprovalConflict) if any of its people changed since."""
    with db.session() as session:
        connection_id = _held_run(session, account_id, run_id).connection_id
    # The lock first, then the transaction: SQLite's lease row is written on a connection of its own.
    with connection_lock(db, connection_id), db.transaction(actor=actor) as session:
        run = _held_run(session, account_id, run_id)
        account = session.get(models.Account, account_id)
        assert account is not None
        moment = now()
        apply_run(session, run, now=moment, today=account_today(account.timezone, moment), refuse_conflicts=True)
        _mark_synced(session, run, run.connection_id, is_full=run.kind == "full")
        run.status = RunStatus.SUCCEEDED
        run.resolved_by = actor
        run.resolved_at = moment
        _emit(session, run, "sync.succeeded", moment, approved_by=actor)
        _audit_review(session, run, "sync_run.approved", moment)
        schedules.record_review(session, account_id, run.connection_id, now=moment)
        return SyncOutcome(run.id, run.status, run.kind, False, run_store.run_counts(run))


def discard_run(
    db: Database, run_id: str, *, account_id: str, actor: str, now: Callable[[], dt.datetime] = utc_now
) -> SyncOutcome:
    with db.transaction(actor=actor) as session:
        run = _held_run(session, account_id, run_id)
        moment = now()
        run_store.set_change_status(
            session,
            account_id,
            run.id,
            from_status=ChangeStatus.STAGED,
            to_status=ChangeStatus.DISCARDED,
            now=moment,
        )
        run.status = RunStatus.DISCARDED
        run.resolved_by = actor
        run.resolved_at = moment
        _emit(session, run, "sync.discarded", moment, discarded_by=actor)
        _audit_review(session, run, "sync_run.discarded", moment)
        schedules.record_review(session, account_id, run.connection_id, now=moment)
        return SyncOutcome(run.id, run.status, run.kind, False, run_store.run_counts(run))


def _audit_review(session: Session, run: models.SyncRun, action: str, moment: dt.datetime) -> None:
    audit.record(
        session,
        account_id=run.account_id,
        action=action,
        object_type="sync_run",
        object_id=run.id,
        object_label=f"held run of {run.started_at:%Y-%m-%d %H:%M} UTC",
        changes={"status": {"old": RunStatus.HELD, "new": run.status}, "counts": run_store.run_counts(run)},
        now=moment,
    )


class RunNotHeld(RuntimeError):
    pass


class ConnectionDisconnected(RuntimeError):
    pass


def _emit(session: Session, run: models.SyncRun, event_type: str, now: dt.datetime, **data: object) -> None:
    event = Event(event_type, {"run_id": run.id, "connection_id": run.connection_id, **data})
    outbox.insert_events(session, outbox.event_rows([event], account_id=run.account_id, now=now))


def _held_run(session: Session, account_id: str, run_id: str) -> models.SyncRun:
    run = run_store.get_run(session, account_id, run_id)
    if run is None:
        raise LookupError(f"No sync run {run_id} in this account")
    if run.status != RunStatus.HELD:
        raise RunNotHeld(f"Run {run_id} is {run.status}, not held: only held runs can be approved or discarded")
    return run


def _wants_full(connection: models.Connection, connector: HRConnector, full: bool | None, now: dt.datetime) -> bool:
    if full is not None:
        return full or not connector.supports_incremental
    if not connector.supports_incremental or connection.watermark is None or connection.last_full_sync_at is None:
        return True
    if connection.settings_changed_at > connection.last_full_sync_at:
        return True
    if connection.watermark > now:
        # This server's clock went back since that fetch (it ran ahead then): fetching from a watermark
        # in its future would skip whatever changed in between, so only a complete fetch is safe.
        return True
    return now - connection.last_full_sync_at >= FULL_FETCH_EVERY


def _mark_synced(session: Session, run: models.SyncRun, connection_id: str, *, is_full: bool) -> None:
    connection = session.get(models.Connection, connection_id)
    assert connection is not None
    connection.watermark = run.fetch_started_at
    if is_full:
        connection.last_full_sync_at = run.fetch_started_at
    connection.status = "ok"
    connection.status_message = None


def _record_counts(run: models.SyncRun, planner: RunPlanner, counts: dict[str, int]) -> None:
    run.fetched = planner.fetched
    run.created = counts["created"]
    run.updated = counts["updated"]
    run.detached = counts["detached"]
    run.excluded = planner.excluded
    run.rejected = planner.rejected
    run.unchanged = max(planner.considered - run.created - run.updated, 0)


def _fail(
    db: Database,
    run: models.SyncRun,
    planner: RunPlanner,
    error: Exception,
    *,
    now: dt.datetime,
    timings: dict[str, float],
) -> SyncOutcome:
    if isinstance(error, ConnectorError):
        kind, message = error.kind.value, error.message
    elif isinstance(error, IntegrityError):
        # Another source of the account added the same person (same work email) between this run's plan and
        # its apply: the plan is stale, not wrong. The next run sees that person and links to them.
        kind, message = (
            "concurrent_change",
            "Another source of this account changed the same people while this run was planning; "
            "nothing was applied, and the next sync picks the changes up",
        )
    else:
        # Exception texts can quote payloads: keep only the type, which never carries personal data.
        kind, message = (
            "internal",
            f"The fetch stopped with an unexpected {type(error).__name__}; nothing was applied",
        )
    with db.transaction() as session:
        session.execute(
            delete(models.Change).where(models.Change.account_id == run.account_id, models.Change.run_id == run.id)
        )
        run = session.merge(run)
        run.status = RunStatus.FAILED
        run.error_kind = kind
        run.error_message = message
        run.finished_at = now
        run.fetched = planner.fetched
        run.rejected = planner.rejected
        run.timings = timings
        connection = session.get(models.Connection, run.connection_id)
        if connection is not None:
            connection.status = _CONNECTION_STATUS.get(kind, "failing")
            connection.status_message = message
        _emit(session, run, "sync.failed", now, error=message)
        schedules.record_run(session, run, now=now)
        return SyncOutcome(run.id, RunStatus.FAILED, run.kind, run.dry_run, run_store.run_counts(run), message)
