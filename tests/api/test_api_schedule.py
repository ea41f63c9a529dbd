"""`PATCH /connections/{id}`: pause and resume the schedule, change its interval (5 minutes at least); a
connection shows when it syncs next and since when it is failing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from api_harness import ApiWorld, open_world

from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_a_connection_created_without_an_interval_gets_the_installation_s_default(
    world: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAFFSYNC_SYNC_INTERVAL_MINUTES", "15")
    created = world.send("POST", "/connections", status=201, json={"name": "Default", "provider": "memory"})
    assert created["schedule_minutes"] == 15
    chosen = world.send(
        "POST", "/connections", status=201, json={"name": "Own", "provider": "memory", "schedule_minutes": 30}
    )
    assert chosen["schedule_minutes"] == 30


def test_a_connection_shows_its_next_sync_and_its_health(world: ApiWorld) -> None:
    before = utc_now()
    world.sync()
    shown = world.get(f"/connections/{world.connection_id}")
    assert shown["paused"] is False
    assert (shown["consecutive_failures"], shown["failing_since"]) == (0, None)
    assert parse(shown["next_sync_at"]) >= before + dt.timedelta(minutes=60)

    world.source.fail_after = 0
    world.sync()
    failing = world.get(f"/connections/{world.connection_id}")
    assert failing["status"] == "failing"
    assert failing["consecutive_failures"] == 1
    assert failing["failing_since"] is not None
    assert "nothing was applied" in failing["status_message"]


def test_pausing_stops_the_schedule_and_resuming_makes_the_connection_due_at_once(world: ApiWorld) -> None:
    world.sync()
    paused = world.send("PATCH", f"/connections/{world.connection_id}", json={"paused": True})
    assert (paused["paused"], paused["next_sync_at"]) == (True, None)

    before = utc_now()
    resumed = world.send("PATCH", f"/connections/{world.connection_id}", json={"paused": False})
    assert resumed["paused"] is False
    assert before <= parse(resumed["next_sync_at"]) <= utc_now()


def test_changing_the_interval_moves_the_next_sync(world: ApiWorld) -> None:
    world.sync()
    hourly = parse(world.get(f"/connections/{world.connection_id}")["next_sync_at"])
    changed = world.send("PATCH", f"/connections/{world.connection_id}", json={"schedule_minutes": 15})
    assert changed["schedule_minutes"] == 15
    assert parse(changed["next_sync_at"]) == hourly - dt.timedelta(minutes=45)


@pytest.mark.parametrize("minutes", [4, 0, 10081])
def test_an_interval_outside_five_minutes_to_a_week_is_refused(world: ApiWorld, minutes: int) -> None:
    refused = world.call(
        "PATCH", f"/connections/{world.connection_id}", token=world.a.admin, json={"schedule_minutes": minutes}
    )
    assert refused.status_code == 422
    created = world.call(
        "POST",
        "/connections",
        token=world.a.admin,
        json={"name": "Demo", "provider": "memory", "schedule_minutes": minutes},
    )
    assert created.status_code == 422


def test_viewers_cannot_pause_and_other_accounts_cannot_see_the_connection(world: ApiWorld) -> None:
    viewer = world.call("PATCH", f"/connections/{world.connection_id}", token=world.a.viewer, json={"paused": True})
    assert viewer.status_code == 403
    other = world.call("PATCH", f"/connections/{world.connection_id}", token=world.b.admin, json={"paused": True})
    assert other.status_code == 404
    assert world.get(f"/connections/{world.connection_id}")["paused"] is False
