"""The embedded schedule (STAFFSYNC_QUEUE=embedded): due connections run on their own, a few at a time,
never two runs of one connection at once; failures back off, held plans and broken credentials wait for
an admin, and a run cut off by a killed process is abandoned and synced again. Clocks are parameters:
no test waits for the schedule to come round."""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import select, text, update

from fakes import NOW, Directory, ListSource, make_directory, person
from staffsync.api.metrics import ApiMetrics
from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.scheduler import EmbeddedScheduler
from staffsync.services.background_syncs import BackgroundSyncs, SyncNotStarted
from staffsync.storage import models, schedules
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync import engine, scheduled_run
from staffsync.sync.engine import approve_run, discard_run

HOUR = dt.timedelta(hours=1)


class Clock:
    def __init__(self, start: dt.datetime = NOW) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, delta: dt.timedelta) -> None:
        self.moment += delta


@dataclass
class GatedSource(ListSource):
    """Blocks inside the fetch until the test lets it go, and counts how many fetches are inside at once."""

    gate: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    inside: list[int] = field(default_factory=list)
    watch: threading.Condition = field(default_factory=threading.Condition)
    shared: dict[str, int] = field(default_factory=lambda: {"active": 0, "most": 0})

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        with self.watch:
            self.shared["active"] += 1
            self.shared["most"] = max(self.shared["most"], self.shared["active"])
            self.watch.notify_all()
        try:
            assert self.gate.acquire(timeout=30), "the test never let the fetch go on"
            yield from super().employees(request)
        finally:
            with self.watch:
                self.shared["active"] -= 1
                self.shared["done"] = self.shared.get("done", 0) + 1
                self.watch.notify_all()

    def wait_until_inside(self, count: int) -> None:
        with self.watch:
            assert self.watch.wait_for(lambda: self.shared["active"] >= count, timeout=30)


class RejectingSource(ListSource):
    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        raise ConnectorError(FailureKind.CREDENTIALS_REJECTED, "The HR system rejected the stored credentials (401)")
        yield  # pragma: no cover


def connection(db: Database, connection_id: str) -> models.Connection:
    with db.session() as session:
        found = session.get(models.Connection, connection_id)
        assert found is not None
        return found


def runs_of(db: Database, connection_id: str) -> list[models.SyncRun]:
    with db.session() as session:
        return list(
            session.execute(
                select(models.SyncRun)
                .where(models.SyncRun.connection_id == connection_id)
                .order_by(models.SyncRun.started_at)
            ).scalars()
        )


def set_next(db: Database, connection_id: str, at: dt.datetime | None) -> None:
    with db.transaction() as session:
        session.execute(update(models.Connection).where(models.Connection.id == connection_id).values(next_sync_at=at))


def pause(db: Database, connection_id: str, *, now: dt.datetime) -> None:
    with db.transaction() as session:
        found = session.get(models.Connection, connection_id)
        assert found is not None
        schedules.pause(session, found, now=now)


# --- due selection


def test_a_connection_runs_when_due_and_then_waits_for_its_interval(db: Database) -> None:
    directory = make_directory(db, ListSource([person(1), person(2)]))
    clock = Clock()
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=clock)

    first = scheduler.run_due()
    assert [o.counts["created"] for o in first] == [2]
    assert connection(db, directory.connection_id).next_sync_at == NOW + HOUR

    clock.advance(dt.timedelta(minutes=30))
    assert scheduler.run_due() == []

    clock.advance(dt.timedelta(minutes=30))
    assert [o.status for o in scheduler.run_due()] == ["succeeded"]


def test_due_connections_are_picked_longest_overdue_first(db: Database) -> None:
    directory = make_directory(db)
    late = directory.add_connection("Late", priority=2)
    later = directory.add_connection("Later", priority=3)
    future = directory.add_connection("Future", priority=4)
    set_next(db, directory.connection_id, None)
    set_next(db, late, NOW - dt.timedelta(minutes=10))
    set_next(db, later, NOW - dt.timedelta(minutes=30))
    set_next(db, future, NOW + dt.timedelta(minutes=5))

    with db.session() as session:
        assert [c.id for c in schedules.due_connections(session, NOW)] == [later, late]
        assert [c.id for c in schedules.due_connections(session, NOW, limit=1)] == [later]
        assert [c.id for c in schedules.due_connections(session, NOW, exclude={later})] == [late]
        assert [c.id for c in schedules.due_connections(session, NOW + dt.timedelta(minutes=5))] == [
            later,
            late,
            future,
        ]


def test_broken_paused_and_disconnected_connections_are_not_scheduled(db: Database) -> None:
    broken = make_directory(db, ListSource([person(1)]))
    gone = make_directory(db, ListSource([person(1)]))
    paused = make_directory(db, ListSource([person(1)]))
    with db.transaction() as session:
        session.execute(
            update(models.Connection).where(models.Connection.id == broken.connection_id).values(status="broken")
        )
        session.execute(
            update(models.Connection).where(models.Connection.id == gone.connection_id).values(disconnected_at=NOW)
        )
    pause(db, paused.connection_id, now=NOW)
    scheduler = EmbeddedScheduler(db, lambda _connection: ListSource([person(1)]), now=lambda: NOW + HOUR)
    assert scheduler.run_due() == []


def test_a_paused_connection_waits_and_resuming_makes_it_due_at_once(db: Database) -> None:
    directory = make_directory(db, ListSource([person(1)]))
    clock = Clock()
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=clock)
    pause(db, directory.connection_id, now=NOW)

    clock.advance(dt.timedelta(days=3))
    assert scheduler.run_due() == []
    assert connection(db, directory.connection_id).next_sync_at is None

    with db.transaction() as session:
        found = session.get(models.Connection, directory.connection_id)
        assert found is not None
        schedules.resume(session, found, now=clock())
    assert [o.status for o in scheduler.run_due()] == ["succeeded"]
    assert connection(db, directory.connection_id).next_sync_at == clock() + HOUR


# --- bounded concurrency and no overlap


def test_the_schedule_runs_no_more_syncs_at_once_than_its_concurrency(db: Database) -> None:
    ids = [make_directory(db).connection_id for _ in range(5)]
    shared = {"active": 0, "most": 0}
    watch = threading.Condition()
    gate = threading.Semaphore(0)
    sources = {
        cid: GatedSource([person(n)], gate=gate, watch=watch, shared=shared) for n, cid in enumerate(ids, start=1)
    }
    scheduler = EmbeddedScheduler(db, lambda c: sources[c.id], now=lambda: NOW, concurrency=2)
    outcomes: list[object] = []
    runner = threading.Thread(target=lambda: outcomes.extend(scheduler.run_due()))
    runner.start()
    try:
        # Let the held fetches go one at a time, each time until one has finished: a run beyond the bound
        # would have had all that time to start.
        sources[ids[0]].wait_until_inside(2)
        for finished in range(1, len(ids) + 1):
            gate.release()
            with watch:
                assert watch.wait_for(lambda n=finished: shared.get("done", 0) >= n, timeout=30)
    finally:
        for _ in ids:
            gate.release()
        runner.join(60)
    assert shared["most"] == 2
    assert len(outcomes) == 5
    assert {o.status for o in outcomes} == {"succeeded"}


def test_connections_of_one_account_run_one_after_the_other(db: Database) -> None:
    directory = make_directory(db)
    second = directory.add_connection("Second source", priority=2)
    shared = {"active": 0, "most": 0}
    watch = threading.Condition()
    gate = threading.Semaphore(0)
    # The same people in both sources: run at once, both runs would create them.
    sources = {
        cid: GatedSource([person(1), person(2)], gate=gate, watch=watch, shared=shared)
        for cid in (directory.connection_id, second)
    }
    scheduler = EmbeddedScheduler(db, lambda c: sources[c.id], now=lambda: NOW, concurrency=4)
    outcomes: list[object] = []
    runner = threading.Thread(target=lambda: outcomes.extend(scheduler.run_due()))
    runner.start()
    try:
        sources[second].wait_until_inside(1)
        for finished in (1, 2):
            gate.release()
            with watch:
                assert watch.wait_for(lambda n=finished: shared.get("done", 0) >= n, timeout=30)
    finally:
        gate.release()
        gate.release()
        runner.join(60)
    assert shared["most"] == 1
    assert [o.status for o in outcomes] == ["succeeded", "succeeded"]  # type: ignore[attr-defined]
    assert len(directory.employees()) == 2


def test_sync_now_racing_the_schedule_never_runs_the_connection_twice_at_once(db: Database) -> None:
    gated = GatedSource([person(1), person(2)])
    directory = make_directory(db, gated)
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=lambda: NOW)
    scheduled: list[object] = []
    runner = threading.Thread(target=lambda: scheduled.extend(scheduler.run_due()))
    runner.start()
    try:
        gated.wait_until_inside(1)
        # The admin presses Sync now while the scheduled run fetches: refused, not queued behind it.
        with pytest.raises(SyncNotStarted) as refused:
            BackgroundSyncs(db).start(
                directory.connection_id, account_id=directory.account_id, connector=gated, trigger="ui"
            )
        assert isinstance(refused.value.cause, ConnectionBusy)
    finally:
        gated.gate.release()
        runner.join(60)
    assert [o.status for o in scheduled] == ["succeeded"]

    # And the other way round: a Sync now is running when the schedule comes round.
    syncs = BackgroundSyncs(db)
    manual = syncs.start(directory.connection_id, account_id=directory.account_id, connector=gated, trigger="ui")
    gated.wait_until_inside(1)
    try:
        late = EmbeddedScheduler(db, lambda _connection: gated, now=lambda: NOW + 2 * HOUR)
        assert late.run_due() == []
    finally:
        gated.gate.release()
        syncs.join(60)
    runs = runs_of(db, directory.connection_id)
    assert [run.status for run in runs] == ["succeeded", "succeeded"]
    assert runs[1].id == manual
    assert runs[0].finished_at is not None and runs[0].finished_at <= runs[1].started_at


def test_sync_now_does_not_wait_behind_a_schedule_that_is_full(db: Database) -> None:
    busy = make_directory(db, GatedSource([person(1)]))
    waiting = make_directory(db, ListSource([person(2)]))
    # Both due, the busy one longer overdue: with one sync at a time the schedule runs it first.
    set_next(db, busy.connection_id, NOW - dt.timedelta(minutes=30))
    set_next(db, waiting.connection_id, NOW - dt.timedelta(minutes=10))
    sources = {busy.connection_id: busy.source, waiting.connection_id: waiting.source}
    scheduler = EmbeddedScheduler(db, lambda c: sources[c.id], now=lambda: NOW, concurrency=1)
    scheduled: list[object] = []
    runner = threading.Thread(target=lambda: scheduled.extend(scheduler.run_due()))
    runner.start()
    gated = busy.source
    assert isinstance(gated, GatedSource)
    try:
        gated.wait_until_inside(1)
        syncs = BackgroundSyncs(db)
        manual = syncs.start(
            waiting.connection_id, account_id=waiting.account_id, connector=waiting.source, trigger="ui"
        )
        syncs.join(30)
        # Finished while the schedule's only slot is still taken by the other connection's fetch.
        assert [(run.id, run.status) for run in runs_of(db, waiting.connection_id)] == [(manual, "succeeded")]
        assert gated.shared["active"] == 1
    finally:
        gated.gate.release()
        runner.join(60)
    # When the schedule came round to it, the Sync now had already done its slot: no second run.
    assert [o.status for o in scheduled] == ["succeeded"]  # type: ignore[attr-defined]
    assert len(runs_of(db, waiting.connection_id)) == 1


# --- failures, back-off, quarantine


def test_a_run_that_crashes_is_recorded_as_failed_and_waits_for_its_back_off(db: Database) -> None:
    directory = make_directory(db)

    def unbuildable(_connection: models.Connection) -> ListSource:
        raise RuntimeError("the connector could not be built")

    clock = Clock()
    scheduler = EmbeddedScheduler(db, unbuildable, now=clock)
    assert scheduler.run_due() == []

    [run] = runs_of(db, directory.connection_id)
    assert run.status == "failed"
    assert run.error_message == "The run stopped with an unexpected RuntimeError; nothing of it was applied"
    state = connection(db, directory.connection_id)
    assert (state.status, state.consecutive_failures, state.failing_since) == ("failing", 1, NOW)
    assert state.next_sync_at == NOW + HOUR
    # Not retried at every tick: the next pass finds nothing due.
    assert scheduler.run_due() == []
    assert len(runs_of(db, directory.connection_id)) == 1
    assert [e.type for e in directory.events()] == ["sync.failed"]


def test_a_run_that_crashes_after_staging_part_of_its_plan_is_failed_and_its_plan_dropped(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = make_directory(db, ListSource([person(n) for n in range(1, 31)]))
    assert directory.sync().status == "succeeded"
    before = directory.state()
    renamed = ListSource([person(n, last_name=f"Renamed{n}") for n in range(1, 31)], fail_after=20)

    def cannot_record(*_args: object, **_kwargs: object) -> NoReturn:
        raise RuntimeError("the database went away while the failure was being recorded")

    # Four batches of five staged, then the source breaks, and recording that failure breaks too: the
    # engine, which otherwise ends every run as a record, gives up with an exception.
    monkeypatch.setattr(scheduled_run, "run_sync", functools.partial(engine.run_sync, batch_size=5))
    monkeypatch.setattr(engine, "_fail", cannot_record)
    scheduler = EmbeddedScheduler(db, lambda _connection: renamed, now=lambda: NOW + 2 * HOUR)
    assert scheduler.run_due() == []

    _, crashed = runs_of(db, directory.connection_id)
    assert (crashed.status, crashed.error_kind) == ("failed", "internal")
    assert crashed.error_message == "The run stopped with an unexpected RuntimeError; nothing of it was applied"
    with db.session() as session:
        assert session.execute(select(models.Change).where(models.Change.run_id == crashed.id)).all() == []
    after = directory.state()
    assert {name: rows for name, rows in after.items() if name != "outbox_events"} == {
        name: rows for name, rows in before.items() if name != "outbox_events"
    }
    assert [e.type for e in directory.events()].count("sync.failed") == 1
    state = connection(db, directory.connection_id)
    assert (state.status, state.consecutive_failures) == ("failing", 1)
    assert state.next_sync_at == NOW + 3 * HOUR


def test_repeated_failures_back_off_towards_daily_and_a_success_resets_the_connection(db: Database) -> None:
    source = ListSource([person(1), person(2)], fail_after=1)
    directory = make_directory(db, source)
    clock = Clock()
    scheduler = EmbeddedScheduler(db, lambda _connection: source, now=clock)

    waits = []
    for _ in range(5):
        [failed] = scheduler.run_due()
        assert failed.status == "failed"
        state = connection(db, directory.connection_id)
        assert state.next_sync_at is not None
        waits.append((state.next_sync_at - clock()) / HOUR)
        # Nothing runs before the back-off is over.
        clock.moment = state.next_sync_at - dt.timedelta(seconds=1)
        assert scheduler.run_due() == []
        clock.moment = state.next_sync_at
    assert waits == [1, 2, 4, 24, 24]
    failing = connection(db, directory.connection_id)
    assert failing.failing_since == NOW
    assert failing.status == "failing"
    assert "ConnectionResetError" in (failing.status_message or "")
    with db.session() as session:
        assert schedules.state_of(session, failing).value == "quarantined"
        assert schedules.overview(session, clock()).states["quarantined"] == 1

    source.fail_after = None
    [ok] = scheduler.run_due()

    assert ok.status == "succeeded"
    healed = connection(db, directory.connection_id)
    assert (healed.consecutive_failures, healed.failing_since, healed.status) == (0, None, "ok")
    assert healed.next_sync_at == clock() + HOUR


def test_rejected_credentials_stop_the_schedule_until_an_admin_fixes_them(db: Database) -> None:
    directory = make_directory(db, RejectingSource())
    clock = Clock()
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=clock)

    [rejected] = scheduler.run_due()
    assert rejected.status == "failed"
    broken = connection(db, directory.connection_id)
    assert (broken.status, broken.next_sync_at) == ("broken", None)

    clock.advance(dt.timedelta(days=7))
    assert scheduler.run_due() == []

    # The admin fixes the credentials and presses Sync now: its success puts the connection back on schedule.
    directory.source = ListSource([person(1)])
    assert directory.sync(now=clock).status == "succeeded"
    assert connection(db, directory.connection_id).next_sync_at == clock() + HOUR


# --- held runs


@pytest.fixture
def held(db: Database) -> tuple[Directory, Clock, EmbeddedScheduler]:
    source = ListSource([person(n) for n in range(1, 13)])
    directory = make_directory(db, source)
    clock = Clock()
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=clock)
    assert [o.status for o in scheduler.run_due()] == ["succeeded"]
    source.records = source.records[:2]  # 10 of 12 people vanish: over the mass-change threshold
    clock.advance(HOUR)
    assert [o.status for o in scheduler.run_due()] == ["held"]
    return directory, clock, scheduler


def test_a_held_run_is_not_run_over_by_the_schedule(
    db: Database, held: tuple[Directory, Clock, EmbeddedScheduler]
) -> None:
    directory, clock, scheduler = held
    connection_id = directory.connection_id
    assert connection(db, connection_id).next_sync_at is None

    for later in (HOUR, dt.timedelta(days=1), dt.timedelta(days=7)):
        clock.moment = NOW + HOUR + later
        assert scheduler.run_due() == []
    assert [run.status for run in runs_of(db, connection_id)] == ["succeeded", "held"]
    with db.session() as session:
        assert schedules.state_of(session, connection(db, connection_id)).value == "awaiting_review"


def test_approving_a_held_run_puts_the_connection_back_on_its_schedule(
    db: Database, held: tuple[Directory, Clock, EmbeddedScheduler]
) -> None:
    directory, clock, scheduler = held
    [held_run] = [run for run in runs_of(db, directory.connection_id) if run.status == "held"]
    clock.advance(dt.timedelta(hours=5))
    approve_run(db, held_run.id, account_id=directory.account_id, actor="admin:alice", now=clock)
    assert connection(db, directory.connection_id).next_sync_at == clock() + HOUR
    clock.advance(HOUR)
    assert [o.status for o in scheduler.run_due()] == ["succeeded"]


def test_discarding_a_held_run_puts_the_connection_back_and_the_next_run_plans_again(
    db: Database, held: tuple[Directory, Clock, EmbeddedScheduler]
) -> None:
    directory, clock, scheduler = held
    [held_run] = [run for run in runs_of(db, directory.connection_id) if run.status == "held"]
    discard_run(db, held_run.id, account_id=directory.account_id, actor="admin:alice", now=clock)
    assert connection(db, directory.connection_id).next_sync_at == clock() + HOUR
    clock.advance(HOUR)
    # The source is still short of ten people: the new plan is held again, for a new review.
    assert [o.status for o in scheduler.run_due()] == ["held"]


# --- crash recovery


def test_a_run_left_running_by_a_dead_process_is_abandoned_at_the_next_start_and_synced_again(db: Database) -> None:
    directory = make_directory(db, ListSource([person(1)]))
    with db.transaction() as session:
        session.add(
            models.SyncRun(
                id="cut-off-run",
                account_id=directory.account_id,
                connection_id=directory.connection_id,
                trigger="schedule",
                kind="full",
                status="running",
                started_at=NOW - HOUR,
            )
        )
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=lambda: NOW)
    assert [o.status for o in scheduler.run_due()] == ["succeeded"]
    cut_off, synced = runs_of(db, directory.connection_id)
    assert (cut_off.status, cut_off.error_kind) == ("failed", "abandoned")
    assert synced.status == "succeeded"


KILLED_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fakes import ListSource, person
    from staffsync.storage.db import Database
    from staffsync.sync.engine import run_sync

    url, account_id, connection_id, marker = sys.argv[1:5]

    class Stalling(ListSource):
        def employees(self, request):
            for index, record in enumerate(super().employees(request)):
                if index == 24:
                    Path(marker).write_text("stalled")
                    time.sleep(120)
                yield record

    renamed = [person(n, last_name=f"Renamed{n}") for n in range(1, 31)]
    run_sync(Database(url), connection_id, account_id=account_id, connector=Stalling(renamed),
             trigger="schedule", batch_size=5)
    """
)


def test_a_worker_killed_mid_run_leaves_the_directory_unchanged_and_the_next_run_succeeds(
    db: Database, tmp_path: Path
) -> None:
    directory = make_directory(db, ListSource([person(n) for n in range(1, 31)]))
    assert directory.sync().status == "succeeded"
    before = directory.state()
    marker = tmp_path / "stalled"
    tests_dir = Path(__file__).parent
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_WORKER,
            db.url.render_as_string(hide_password=False),
            directory.account_id,
            directory.connection_id,
            str(marker),
        ],
        env={**os.environ, "PYTHONPATH": str(tests_dir)},
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), worker.stderr.read().decode() if worker.stderr else "no stderr"
        [running] = [run for run in runs_of(db, directory.connection_id) if run.status == "running"]
        with db.session() as session:
            staged = session.execute(
                select(models.Change).where(models.Change.run_id == running.id, models.Change.status == "staged")
            ).all()
        assert len(staged) == 20  # four batches of five planned and staged, none applied
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)

    assert directory.state() == before
    renamed = ListSource([person(n, last_name=f"Renamed{n}") for n in range(1, 31)])
    scheduler = EmbeddedScheduler(db, lambda _connection: renamed, now=lambda: NOW + 2 * HOUR)
    if db.is_sqlite:
        # While the dead worker's lease lasts, nobody can tell it from a slow one: its run is left alone.
        assert scheduler.run_due() == []
        assert [run.status for run in runs_of(db, directory.connection_id) if run.id == running.id] == ["running"]
        # Its lease would run out within ten minutes: let that time pass.
        with db.transaction() as session:
            session.execute(update(models.SyncLock).values(expires_at=NOW))
    else:
        _wait_for_advisory_locks_to_be_freed(db)

    [outcome] = scheduler.run_due()

    assert outcome.status == "succeeded"
    assert outcome.counts["updated"] == 30
    killed = next(run for run in runs_of(db, directory.connection_id) if run.id == running.id)
    assert (killed.status, killed.error_kind) == ("failed", "abandoned")
    with db.session() as session:
        leftovers = session.execute(select(models.Change).where(models.Change.run_id == running.id)).all()
    assert leftovers == []
    assert {e.last_name for e in directory.employees().values()} == {f"Renamed{n}" for n in range(1, 31)}


def _wait_for_advisory_locks_to_be_freed(db: Database) -> None:
    """The server ends a killed client's session (and its advisory locks) as soon as it sees the socket close."""
    deadline = time.monotonic() + 30
    with db.engine.connect() as connection:
        while time.monotonic() < deadline:
            held = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = pg_locks.database "
                    "WHERE locktype = 'advisory' AND datname = current_database()"
                )
            ).scalar_one()
            connection.rollback()
            if held == 0:
                return
            time.sleep(0.05)
    pytest.fail("the killed worker's advisory lock was never released")


# --- the loop of `serve`, and what it reports


def test_the_background_loop_syncs_due_connections_without_being_asked(db: Database) -> None:
    directory = make_directory(db, ListSource([person(1), person(2)]))
    metrics = ApiMetrics()
    scheduler = EmbeddedScheduler(
        db, lambda _connection: directory.source, tick=dt.timedelta(seconds=0.2), metrics=metrics
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            r.status == "succeeded" for r in runs_of(db, directory.connection_id)
        ):
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert [run.status for run in runs_of(db, directory.connection_id)] == ["succeeded"]
    exposed = metrics.exposition().body.decode()
    assert 'staffsync_sync_runs_total{status="succeeded"} 1.0' in exposed
    assert "staffsync_sync_duration_seconds_count 1.0" in exposed
    assert 'staffsync_employees_synced_total{change="created"} 2.0' in exposed
    assert 'staffsync_connections{status="ok"} 1.0' in exposed
    assert "staffsync_sync_queue_depth 0.0" in exposed
    assert "staffsync_syncs_running 0.0" in exposed


def test_queue_depth_counts_due_connections_that_are_not_running(db: Database) -> None:
    directory = make_directory(db)
    second = directory.add_connection("Second", priority=2)
    set_next(db, second, NOW + HOUR)
    metrics = ApiMetrics()
    metrics.watch_schedule(db)
    exposed = metrics.exposition().body.decode()
    # Both are new; only the first is due (the second was scheduled for later).
    assert 'staffsync_connections{status="new"} 2.0' in exposed
    with db.session() as session:
        assert schedules.overview(session, NOW).waiting == 1
