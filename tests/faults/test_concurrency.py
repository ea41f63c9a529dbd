"""Runs of one connection meeting each other, on SQLite and PostgreSQL: several syncs started at once, an
approval arriving while a sync runs, a held plan approved after the HR system moved on.

Invariants: exactly one run of a connection proceeds and every other start is refused as busy, with no
row written twice; a held plan is applied at most once and never over a newer run; no HR change is lost
(the directory ends like a clean run of the final data).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from fault_harness import LATER, ONE_PAGE, SMALL, Wire, World, held_open

from staffsync.connectors.base import FetchRequest, FilterOptions, HRConnector
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.engine import RunNotHeld, SyncOutcome, approve_run, run_sync

ADMIN = "admin:alice"


class Gated:
    """A connector that stops after its first record until `release` is set: its run holds the connection's
    lock, mid-fetch, for as long as the test needs."""

    def __init__(self, inner: HRConnector, entered: threading.Event, release: threading.Event) -> None:
        self.inner, self.entered, self.release = inner, entered, release
        self.provider, self.supports_incremental = inner.provider, inner.supports_incremental

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        for number, record in enumerate(self.inner.employees(request)):
            if number == 0:
                self.entered.set()
                assert self.release.wait(30), "the test never let the gated run go on"
            yield record

    def filter_options(self) -> FilterOptions:
        return self.inner.filter_options()


def gated_sync(world: World, entered: threading.Event, release: threading.Event, at: dt.datetime) -> SyncOutcome:
    world.state.clock.set(at)
    with world.connector(**ONE_PAGE) as kombo:
        return run_sync(
            world.db,
            world.connection_id,
            account_id=world.account_id,
            connector=Gated(kombo, entered, release),
            now=lambda: at,
            full=True,
        )


def test_of_six_syncs_started_at_once_exactly_one_runs_and_the_directory_equals_a_clean_run(
    pair_on_db: tuple[World, World],
) -> None:
    world, twin = pair_on_db
    runs_before = len(world.runs())
    starts = 6
    barrier = threading.Barrier(starts)
    entered = threading.Event()
    outcomes: list[SyncOutcome] = []
    refused: list[ConnectionBusy] = []
    lock = threading.Lock()
    all_refused = threading.Event()

    with held_open() as release:

        def start() -> None:
            barrier.wait(10)
            try:
                outcome = gated_sync(world, entered, release, LATER)
            except ConnectionBusy as busy:
                with lock:
                    refused.append(busy)
                    if len(refused) == starts - 1:
                        all_refused.set()
                return
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=start) for _ in range(starts)]
        for thread in threads:
            thread.start()
        try:
            # The winner waits at its gate, holding the lock, until every other start was turned away.
            assert all_refused.wait(30), f"only {len(refused)} of {starts - 1} starts were refused"
            assert entered.wait(30)
        finally:
            release.set()
            for thread in threads:
                thread.join(30)

    assert [outcome.status for outcome in outcomes] == ["succeeded"]
    assert all("already running" in str(busy) for busy in refused)
    assert len(world.runs()) == runs_before + 1
    assert world.view() == twin.view()


def test_an_approval_arriving_while_a_sync_runs_is_refused_and_the_held_plan_is_never_applied(
    pair_on_db: tuple[World, World],
) -> None:
    world, _ = pair_on_db
    mass_leave(world)
    held = world.sync(at=LATER, full=True, connector=ONE_PAGE)
    assert held.status == "held"
    before = world.snapshot()
    entered = threading.Event()
    finished: list[SyncOutcome] = []

    with held_open() as release:
        later = LATER + dt.timedelta(minutes=5)
        running = threading.Thread(target=lambda: finished.append(gated_sync(world, entered, release, later)))
        running.start()
        try:
            assert entered.wait(30)
            with pytest.raises(ConnectionBusy):
                approve_run(world.db, held.run_id, account_id=world.account_id, actor=ADMIN, now=lambda: later)
        finally:
            release.set()
            running.join(30)

    [newer] = finished
    assert newer.status == "held"  # the people are still missing: the newer plan is held in turn
    with pytest.raises(RunNotHeld):
        approve_run(world.db, held.run_id, account_id=world.account_id, actor=ADMIN, now=lambda: later)
    after = world.snapshot()
    assert after.tables["employees"] == before.tables["employees"]
    assert after.tables["source_links"] == before.tables["source_links"]
    assert world.run(held.run_id).status == "discarded"


def test_a_held_plan_approved_after_more_hr_changes_arrived_loses_none_of_them(db: Database, clean_wire: Wire) -> None:
    world = World(db, clean_wire, size=SMALL)
    twin = world.twin()  # the clean run: synced once now, and once more on the final data at the end
    assert world.sync(connector=ONE_PAGE).status == twin.sync(connector=ONE_PAGE).status == "succeeded"
    mass_leave(world)
    held = world.sync(at=LATER, full=True, connector=ONE_PAGE)
    assert held.status == "held"
    # While the plan waits for its review, the HR system moves on: two hires, two renames.
    moved_on = LATER + dt.timedelta(hours=1)
    world.state.clock.set(moved_on)
    for first_name in ("Ada", "Grace"):
        world.integration.hire(first_name=first_name, last_name="Later", start_date=dt.date(2026, 2, 2))
    for person in world.people()[:2]:
        world.integration.change(person.id, job_title="Moved on")
    before = world.snapshot()

    approved = approve_run(world.db, held.run_id, account_id=world.account_id, actor=ADMIN, now=lambda: moved_on)
    assert approved.status == "succeeded"
    assert (
        len(world.events("employee.detached"))
        - len([row for row in before.tables["outbox_events"] if row["type"] == "employee.detached"])
        == held.counts["detached"]
    )
    assert world.sync(at=moved_on + dt.timedelta(minutes=5), full=True, connector=ONE_PAGE).status == "succeeded"

    # The clean run of the final data: one plan with everything, held for the same reason and approved.
    twin_held = twin.sync(at=moved_on + dt.timedelta(minutes=5), full=True, connector=ONE_PAGE)
    assert twin_held.status == "held"
    approve_run(twin.db, twin_held.run_id, account_id=twin.account_id, actor=ADMIN, now=lambda: moved_on)
    assert world.view() == twin.view()


def mass_leave(world: World) -> None:
    """A third of the company deleted in the HR system: more than the safeguard lets through unreviewed."""
    world.state.clock.set(LATER)
    world.integration.mass_delete(percent=30, seed=7)
