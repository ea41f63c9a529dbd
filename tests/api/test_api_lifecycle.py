"""`/onboardings` and `/offboardings`: who starts, who leaves, and why departures may be missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_harness import FUTURE_END, FUTURE_START, ApiWorld, open_world

from staffsync.storage.db import Database


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def test_onboardings_list_future_starters_until_ignored(world: ApiWorld) -> None:
    listed = world.get("/onboardings")
    assert [(item["last_name"], item["start_date"]) for item in listed["items"]] == [
        ("Newcomer", FUTURE_START.isoformat())
    ]
    assert listed["view"] == "onboardings"
    ignored = world.send("POST", f"/onboardings/{listed['items'][0]['id']}/ignore")
    assert ignored["onboarding_ignored"] is True and ignored["hidden"] is True
    assert world.get("/onboardings")["items"] == []


def test_offboardings_list_leavers_from_a_continuous_end_date(world: ApiWorld) -> None:
    listed = world.get("/offboardings")
    assert [(item["last_name"], item["end_date"]) for item in listed["items"]] == [("Leaver", FUTURE_END.isoformat())]
    assert listed["diagnostics"] == []


def test_offboardings_explain_an_end_date_that_is_not_continuous(world: ApiWorld) -> None:
    world.send(
        "PUT",
        f"/connections/{world.connection_id}/fields",
        json={"fields": [{"field": "end_date", "enabled": True, "mode": "import_once"}]},
    )
    listed = world.get("/offboardings")
    assert listed["items"] == []
    assert [(d["connection_name"], d["code"]) for d in listed["diagnostics"]] == [
        ("Personio DE", "offboarding_needs_continuous_end_date")
    ]


def test_a_viewer_cannot_ignore_an_onboarding(world: ApiWorld) -> None:
    employee_id = world.get("/onboardings")["items"][0]["id"]
    response = world.call("POST", f"/onboardings/{employee_id}/ignore", token=world.a.viewer)
    assert response.status_code == 403
    assert len(world.get("/onboardings")["items"]) == 1
