"""Sync runs through the API: start in the background, poll, list, read changes, approve or discard a held run."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from api_harness import ApiWorld, open_world

from staffsync.connectors.base import FetchRequest
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.storage.db import Database
from staffsync.storage.locks import connection_lock


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def _held_run(world: ApiWorld) -> str:
    """Five of twelve people vanish at once: over the safeguard's share, so the run is held."""
    for n in range(3, 8):
        world.source.remove(f"r{n}")
    outcome = world.sync()
    assert outcome.status == "held", outcome
    return outcome.run_id


def test_a_sync_of_the_demo_source_runs_in_the_background_until_it_succeeds(world: ApiWorld) -> None:
    created = world.send(
        "POST", "/connections", status=201, json={"name": "Demo", "provider": "memory", "config": {"size": 30}}
    )
    response = world.call("POST", f"/connections/{created['id']}/syncs", token=world.a.admin, json={"full": True})
    assert response.status_code in (200, 202), response.text
    run = response.json()
    assert run["connection_id"] == created["id"]
    assert (run["trigger"], run["kind"], run["dry_run"]) == ("api", "full", False)
    assert (response.status_code == 202) == (run["status"] == "running")
    finished = world.wait_for_run(run["id"])
    assert finished["status"] == "succeeded", finished
    assert finished["counts"]["fetched"] == 30
    assert finished["counts"]["created"] > 0
    assert world.get(f"/connections/{created['id']}")["status"] == "ok"
    metrics = world.client.get("/metrics").text
    assert 'staffsync_sync_runs_total{status="succeeded"} 1.0' in metrics


def test_a_sync_still_running_is_answered_202_and_its_status_is_polled_until_it_ends(world: ApiWorld) -> None:
    fetch, opened = world.source.employees, threading.Event()

    def held_fetch(request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        # The source answers only when the test says so: the run is observably running until then.
        assert opened.wait(30), "the test never let the fetch go on"
        yield from fetch(request)

    world.source.employees = held_fetch  # type: ignore[method-assign]
    world.source.replace("r5", last_name="Renamed")
    response = world.call("POST", f"/connections/{world.connection_id}/syncs", token=world.a.admin, json={})
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] == "running"
    assert world.get(f"/syncs/{run['id']}")["status"] == "running"
    opened.set()
    finished = world.wait_for_run(run["id"])
    assert finished["status"] == "succeeded", finished
    assert finished["counts"]["updated"] == 1


def test_a_dry_run_changes_nothing(world: ApiWorld) -> None:
    world.source.replace("r4", job_title="Principal")
    response = world.call(
        "POST", f"/connections/{world.connection_id}/syncs", token=world.a.admin, json={"dry_run": True}
    )
    assert response.status_code in (200, 202)
    run = world.wait_for_run(response.json()["id"])
    assert run["dry_run"] is True and run["status"] == "succeeded"
    employee_id = world.employee_id("person4@acme.test")
    assert world.get(f"/employees/{employee_id}")["job_title"] == "Engineer"


def test_a_second_sync_while_one_runs_is_409_sync_running(world: ApiWorld) -> None:
    with connection_lock(world.db, world.connection_id):
        response = world.call("POST", f"/connections/{world.connection_id}/syncs", token=world.a.admin, json={})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sync_running"


def test_runs_and_their_changes_paginate_every_item_exactly_once(world: ApiWorld) -> None:
    for n in range(4, 7):
        world.source.replace(f"r{n}", work_phone=f"+49 30 {n}")
        world.sync()
    runs = world.walk(f"/connections/{world.connection_id}/syncs", limit=2)
    assert len(runs) == len({run["id"] for run in runs}) == 4
    assert [run["started_at"] for run in runs] == sorted((run["started_at"] for run in runs), reverse=True)
    first = runs[-1]
    assert first["counts"]["created"] == 12
    changes = world.walk(f"/syncs/{first['id']}/changes", limit=5)
    created = [change for change in changes if change["action"] == "create"]
    assert len(created) == 12
    assert len({change["id"] for change in changes}) == len(changes)
    assert world.get(f"/syncs/{first['id']}")["id"] == first["id"]


def test_a_held_run_is_approved(world: ApiWorld) -> None:
    run_id = _held_run(world)
    held = world.get(f"/syncs/{run_id}")
    assert held["status"] == "held" and held["hold_reasons"]
    approved = world.send("POST", f"/syncs/{run_id}/approve")
    assert approved["status"] == "succeeded"
    assert approved["resolved_by"] == "api-token:ci admin"
    assert world.get("/employees", params={"view": "detached"})["total"] == 5
    again = world.call("POST", f"/syncs/{run_id}/approve", token=world.a.admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "run_not_held"


def test_a_held_run_is_discarded(world: ApiWorld) -> None:
    run_id = _held_run(world)
    viewer = world.call("POST", f"/syncs/{run_id}/discard", token=world.a.viewer)
    assert viewer.status_code == 403
    discarded = world.send("POST", f"/syncs/{run_id}/discard")
    assert discarded["status"] == "discarded"
    assert world.get("/employees", params={"view": "detached"})["total"] == 0


def test_approving_over_people_who_changed_since_is_409(world: ApiWorld) -> None:
    run_id = _held_run(world)
    employee_id = world.employee_id("person3@acme.test")
    world.send("PATCH", f"/employees/{employee_id}", json={"fields": {"job_title": "Moved on"}})
    response = world.call("POST", f"/syncs/{run_id}/approve", token=world.a.admin)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "approval_conflict"
    assert employee_id in error["details"]["employee_ids"]
