"""Kombo's cursors and pages going wrong: a cursor rejected or expired mid-listing, a cursor leading back,
endless fresh cursors, a record served on two pages, a page served empty, an empty first page.

Invariants: a listing that cannot be completed fails the run with the directory unchanged; a listing that
is complete but odd (a record twice) ends like a clean run with the oddity reported; a listing that is
short of people is never read as "they left": the run is held for review and nobody is detached.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from fault_harness import (
    EMPLOYEES,
    LATER,
    World,
    assert_only_bookkeeping,
    fails_unchanged,
    recovers,
    results,
)

from fakes import ListSource
from staffsync.connectors.kombo import InvalidKomboRecord, to_source_employee
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.sync.engine import SyncOutcome, run_sync


def test_a_cursor_kombo_rejects_mid_listing_fails_the_run_and_changes_nothing(synced: World) -> None:
    synced.arm("invalid_cursor", skip=1)
    outcome = fails_unchanged(synced, "Kombo refused the request (HTTP 400, PLATFORM.INPUT_INVALID)")
    assert "(at page 3 of Kombo's employees)" in (outcome.error or "")


def test_a_cursor_that_expires_mid_listing_fails_the_run_and_changes_nothing(synced: World) -> None:
    synced.state.settings.cursor_lifetime = dt.timedelta(minutes=1)

    def two_minutes_pass(_: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        synced.state.clock.advance(dt.timedelta(minutes=2))
        return page

    synced.wire.tamper.rewrite(two_minutes_pass, requests={2})
    fails_unchanged(synced, "The cursor has expired: start again from the first page")


@pytest.mark.parametrize("period", [1, 2], ids=["the same cursor again", "back to an earlier cursor"])
def test_a_cursor_that_leads_back_fails_the_run_as_a_pagination_loop_and_changes_nothing(
    synced: World, period: int
) -> None:
    asked: list[str | None] = []

    def lead_back(query: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        asked.append(query.get("cursor"))
        if len(asked) == 3:
            page["data"]["next"] = asked[3 - period]
        return page

    synced.wire.tamper.rewrite(lead_back, requests={1, 2, 3})
    fails_unchanged(synced, "came back to a page it had already served (pagination loop at page 3)")


def test_endless_fresh_cursors_serving_nothing_new_fail_the_run_in_bounded_time(synced: World) -> None:
    """A cursor that never ends, each time new, serving the same people again: caught, not followed for ever."""
    first: list[dict[str, Any]] = []

    def endless(query: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        first[:] = results(page)
        page["data"]["next"] = "endless-1"
        return page

    def again(query: dict[str, str]) -> dict[str, Any]:
        number = int(query["cursor"].removeprefix("endless-"))
        return {"status": "success", "data": {"results": first, "next": f"endless-{number + 1}"}}

    synced.wire.tamper.rewrite(endless, requests={1})
    synced.wire.tamper.answer(again, when=lambda query: query.get("cursor", "").startswith("endless-"))
    before = synced.snapshot()
    finished: list[SyncOutcome] = []
    runner = threading.Thread(target=lambda: finished.append(synced.sync(at=LATER, full=True)), daemon=True)
    started = time.monotonic()
    runner.start()
    runner.join(timeout=20)
    if not finished:
        synced.wire.tamper.clear()  # the answers stop, the runner fails and ends
        runner.join(timeout=10)
        pytest.fail(f"the fetch followed fresh cursors for {time.monotonic() - started:.0f} s without stopping")
    [outcome] = finished
    assert outcome.status == "failed", outcome
    assert "served 10 pages in a row with nothing new" in (outcome.error or ""), outcome.error
    assert_only_bookkeeping(before, synced.snapshot(), outcome.run_id)


def test_a_record_served_on_two_pages_is_synced_once_and_reported(pair: tuple[World, World]) -> None:
    synced, twin = pair
    last_of_page_1: list[dict[str, Any]] = []

    def shift(query: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        if "cursor" not in query:
            last_of_page_1[:] = results(page)[-1:]
        else:  # page 2 starts with the last record of page 1, as an offset shifted by a deletion would
            page["data"]["results"] = last_of_page_1 + results(page)
        return page

    synced.wire.tamper.rewrite(shift, requests={1, 2})
    outcome = recovers(synced, twin)
    [duplicate] = [issue for issue in synced.issues(outcome.run_id) if issue.code == "duplicate_record"]
    assert duplicate.remote_id == last_of_page_1[0]["id"]


def test_a_page_served_empty_mid_listing_holds_the_run_and_detaches_nobody(synced: World) -> None:
    def emptied(_: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        page["data"]["results"] = []
        return page

    synced.wire.tamper.rewrite(emptied, requests={2})
    before = synced.snapshot()
    outcome = synced.sync(at=LATER, full=True)

    assert outcome.status == "held", outcome
    assert any("detach" in reason for reason in outcome.hold_reasons), outcome.hold_reasons
    assert_only_bookkeeping(before, synced.snapshot(), outcome.run_id, event="sync.held")


def test_an_empty_first_page_for_a_connection_of_5000_people_is_never_read_as_everyone_leaving(world: World) -> None:
    """5,000 people linked (seeded without HTTP, from the integration's own records, to stay in budget),
    then Kombo answers the first page with no one and no next cursor."""
    big = World(world.db, world.wire, size=5_000, seed=5)
    seed_from_integration(big)
    big.wire.tamper.rewrite(lambda _, page: {"status": "success", "data": {"results": [], "next": None}})
    before = big.snapshot()

    outcome = big.sync(at=LATER, full=True)

    assert outcome.status == "held"
    assert any("returned nobody" in reason for reason in outcome.hold_reasons), outcome.hold_reasons
    assert len(big.requests(EMPLOYEES)) == 1
    assert_only_bookkeeping(before, big.snapshot(), outcome.run_id, event="sync.held")
    assert not big.events("employee.detached")


def seed_from_integration(world: World) -> None:
    renderer = world.integration.renderer()
    mirror = world.integration.mirror
    records: list[SourceEmployee | RejectedRecord] = []
    for key in mirror.employee_order:
        try:
            records.append(to_source_employee(renderer.employee(mirror.employees[key]), timezone=world.timezone))
        except InvalidKomboRecord as error:
            records.append(error.to_rejected())
    outcome = run_sync(
        world.db,
        world.connection_id,
        account_id=world.account_id,
        connector=ListSource(records),
        now=lambda: LATER - dt.timedelta(hours=1),
    )
    assert outcome.status == "succeeded" and outcome.counts["created"] > 4_900
