"""Time going odd around a sync: the account's clock falling back an hour (DST), a run that starts before
midnight in the account's time zone and applies after it, and the server's own clock jumping back.

Invariants: no HR change is ever missed by an incremental fetch, whatever the wall clocks do; one run
decides with one calendar day, the account's day when it started, and emits each lifecycle event once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from fault_harness import World


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def test_an_incremental_sync_after_the_autumn_dst_change_misses_no_change_and_keeps_the_day(world: World) -> None:
    """Berlin's 02:00-03:00 happens twice on 2026-10-25: a change made at the second 02:05 comes after a
    sync at the first 02:50, though its local time reads earlier."""
    first = at("2026-10-25T02:50:00+02:00")
    world.state.clock.set(first)
    assert world.sync(at=first).kind == "full"

    change = at("2026-10-25T02:05:00+01:00")
    assert change > first
    world.state.clock.set(change)
    renamed, leaving = steady(world)[:2]
    world.integration.change(renamed.id, last_name="Zurückgestellt")
    world.integration.terminate(leaving.id, dt.date(2026, 10, 25))

    outcome = world.sync(at=at("2026-10-25T02:20:00+01:00"))

    assert outcome.status == "succeeded" and outcome.kind == "incremental"
    assert outcome.counts["updated"] == 2
    people = world.view()["employees"]
    assert people[renamed.work_email]["last_name"] == "Zurückgestellt"
    assert people[leaving.work_email]["end_date"] == dt.date(2026, 10, 25)
    [offboarding] = [
        event for event in world.events("offboarding.scheduled") if event.data["remote_id"] == remote_id(world, leaving)
    ]
    assert offboarding.data["end_date"] == "2026-10-25"


def test_a_run_spanning_midnight_decides_with_the_day_it_started_and_emits_each_event_once(world: World) -> None:
    """The account's day is the 12th when the run starts at 23:59:59 in Berlin and the 13th when it applies.
    Someone hired and leaving on the 12th is a leaver of today for the whole run: offboarding scheduled."""
    before_midnight = at("2026-01-12T23:59:59+01:00")
    after_midnight = at("2026-01-13T00:00:01+01:00")
    world.state.clock.set(before_midnight - dt.timedelta(hours=1))
    assert world.sync(at=before_midnight - dt.timedelta(hours=1)).status == "succeeded"
    short_stay = world.integration.hire(first_name="Kurz", last_name="Zeitig", start_date=dt.date(2026, 1, 5))
    world.integration.terminate(short_stay.id, dt.date(2026, 1, 12))

    outcome = world.sync(at=before_midnight, now=ticking(before_midnight, after_midnight))

    assert outcome.status == "succeeded"
    run = world.run(outcome.run_id)
    assert run.started_at == before_midnight and run.finished_at == after_midnight
    [offboarding] = offboardings(world, short_stay)
    assert offboarding.data["end_date"] == "2026-01-12" and offboarding.data["run_id"] == outcome.run_id

    # The next day's run has nothing new to say about them.
    assert world.sync(at=after_midnight + dt.timedelta(hours=1)).counts["updated"] == 0
    assert [event.id for event in offboardings(world, short_stay)] == [offboarding.id]


def test_a_change_made_after_the_server_clock_jumped_back_is_not_missed(world: World) -> None:
    """The server's clock ran two hours ahead for one sync, which became the watermark; once the clock is
    corrected, an incremental fetch from that watermark would skip everything changed in between."""
    start = at("2026-01-12T09:00:00+00:00")
    assert world.sync(at=start).kind == "full"
    ahead = start + dt.timedelta(hours=2)  # our clock; Kombo's says 09:05
    world.state.clock.set(start + dt.timedelta(minutes=5))
    assert world.sync(at=start + dt.timedelta(minutes=5), now=lambda: ahead).status == "succeeded"

    world.state.clock.set(start + dt.timedelta(minutes=10))
    renamed = steady(world)[0]
    world.integration.change(renamed.id, last_name="Nachgestellt")
    corrected = start + dt.timedelta(minutes=20)
    outcome = world.sync(at=corrected)

    assert outcome.status == "succeeded"
    assert world.view()["employees"][renamed.work_email]["last_name"] == "Nachgestellt"


def ticking(*moments: dt.datetime) -> Callable[[], dt.datetime]:
    """A clock that reads each moment in turn, then keeps reading the last."""
    readings: Iterator[dt.datetime] = iter(moments)
    last = [moments[0]]

    def now() -> dt.datetime:
        last[0] = next(readings, last[0])
        return last[0]

    return now


def steady(world: World) -> list[Any]:
    """People in post with no leaving date: a change to them is the only thing a sync can report."""
    return [p for p in world.people() if p.end_date is None and p.employment_status == "active" and not p.deleted]


def offboardings(world: World, person: object) -> list[Any]:
    return [
        event for event in world.events("offboarding.scheduled") if event.data["remote_id"] == remote_id(world, person)
    ]


def remote_id(world: World, person: object) -> str:
    return world.integration.mirror.employee_id(person.id)  # type: ignore[attr-defined]
