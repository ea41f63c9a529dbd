"""`/employees`: the directory list, a profile, hand edits under the field locks, hiding, history."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator

import pytest
from api_harness import PEOPLE, ApiWorld, open_world

from staffsync.storage.db import Database
from staffsync.storage.directory import DirectoryCursor


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def test_the_directory_paginates_every_employee_exactly_once(world: ApiWorld) -> None:
    for limit in (1, 5, 12, 200):
        walked = world.walk("/employees", limit=limit)
        assert len(walked) == PEOPLE
        assert len({item["id"] for item in walked}) == PEOPLE
    first = world.get("/employees", params={"limit": 5})
    assert first["total"] == PEOPLE and first["view"] == "active" and first["next_cursor"]


def test_the_next_page_starts_after_the_last_person_shown_even_when_the_list_changed_before_it(
    world: ApiWorld,
) -> None:
    """Keyset paging: hiding someone already shown neither repeats nor skips anyone (an offset would skip one)."""
    everyone = [item["id"] for item in world.walk("/employees", limit=200)]
    first = world.get("/employees", params={"limit": 4})
    assert [item["id"] for item in first["items"]] == everyone[:4]
    world.send("POST", f"/employees/{everyone[0]}/hide")
    second = world.get("/employees", params={"limit": 4, "cursor": first["next_cursor"]})
    assert [item["id"] for item in second["items"]] == everyone[4:8]


def test_a_cursor_of_another_list_or_a_made_up_one_is_400(world: ApiWorld) -> None:
    onboarding_cursor = DirectoryCursor(0, (dt.date(2099, 1, 4), "Last", "First", "id")).to_token()
    nested = base64.urlsafe_b64encode(b"[" * 2000).decode()
    for cursor in (onboarding_cursor, nested):
        refused = world.call("GET", "/employees", token=world.a.admin, params={"cursor": cursor})
        assert refused.status_code == 400, cursor
        assert refused.json()["error"]["code"] == "invalid_cursor"


def test_the_directory_is_searchable(world: ApiWorld) -> None:
    found = world.get("/employees", params={"q": "newcomer"})
    assert [item["last_name"] for item in found["items"]] == ["Newcomer"]
    assert found["total"] == 1


def test_a_profile_has_its_fields_and_no_secrets(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    profile = world.get(f"/employees/{employee_id}")
    assert profile["first_name"] == "First3"
    assert profile["team"] == {"id": "team-eng", "name": "Engineering"}
    assert profile["start_date"] == "2024-01-01"
    assert profile["primary_connection_id"] == world.connection_id
    assert profile["hidden"] is False


def test_an_import_once_field_is_edited_and_recorded_in_history(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    edited = world.send("PATCH", f"/employees/{employee_id}", json={"fields": {"job_title": "Staff Engineer"}})
    assert edited["job_title"] == "Staff Engineer"
    assert edited["manually_edited"] == ["job_title"]
    history = world.walk(f"/employees/{employee_id}/history", limit=1)
    assert [entry["action"] for entry in history] == ["edit", "create"]
    assert history[0]["actor"] == "api-token:ci admin"
    assert history[0]["fields"][0] == {
        "field": "job_title",
        "old": "Engineer",
        "new": "Staff Engineer",
        "overrides_manual": False,
    }


def test_editing_a_continuous_field_is_409_naming_the_connection(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    response = world.call(
        "PATCH", f"/employees/{employee_id}", token=world.a.admin, json={"fields": {"last_name": "Changed"}}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "field_locked"
    assert "Personio DE" in error["message"]
    assert error["details"] == [{"field": "last_name", "reason": error["message"]}]
    assert world.get(f"/employees/{employee_id}")["last_name"] == "Last3"


def test_edits_of_unknown_fields_or_malformed_values_are_422(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    unknown = world.call("PATCH", f"/employees/{employee_id}", token=world.a.admin, json={"fields": {"salary": 1}})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"] == {"unknown_fields": ["salary"]}
    world.send(
        "PUT",
        f"/connections/{world.connection_id}/fields",
        json={"fields": [{"field": "start_date", "enabled": True, "mode": "import_once"}]},
    )
    malformed = world.call(
        "PATCH", f"/employees/{employee_id}", token=world.a.admin, json={"fields": {"start_date": "soon"}}
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["details"] == {"invalid_fields": ["start_date"]}
    moved = world.send("PATCH", f"/employees/{employee_id}", json={"fields": {"start_date": "2024-02-01"}})
    assert moved["start_date"] == "2024-02-01"


def test_an_edit_that_would_end_before_the_start_is_422_and_changes_nothing(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    modes = [{"field": name, "enabled": True, "mode": "import_once"} for name in ("start_date", "end_date")]
    world.send("PUT", f"/connections/{world.connection_id}/fields", json={"fields": modes})
    world.send("PATCH", f"/employees/{employee_id}", json={"fields": {"end_date": "2025-01-31"}})
    for fields in ({"start_date": "2025-06-01"}, {"end_date": "2023-12-31"}):
        refused = world.call("PATCH", f"/employees/{employee_id}", token=world.a.admin, json={"fields": fields})
        assert refused.status_code == 422, fields
        assert refused.json()["error"]["code"] == "invalid_edit"
        assert "is before start date" in refused.json()["error"]["message"]
    kept = world.get(f"/employees/{employee_id}")
    assert (kept["start_date"], kept["end_date"]) == ("2024-01-01", "2025-01-31")


def test_a_viewer_cannot_edit(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    response = world.call(
        "PATCH", f"/employees/{employee_id}", token=world.a.viewer, json={"fields": {"job_title": "Boss"}}
    )
    assert response.status_code == 403
    assert world.get(f"/employees/{employee_id}")["job_title"] == "Engineer"


def test_hidden_people_leave_the_default_list_and_come_back(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    assert world.send("POST", f"/employees/{employee_id}/hide")["hidden"] is True
    assert world.get("/employees")["total"] == PEOPLE - 1
    assert world.get("/employees", params={"include_hidden": True})["total"] == PEOPLE
    assert world.send("POST", f"/employees/{employee_id}/unhide")["hidden"] is False
    assert world.get("/employees")["total"] == PEOPLE
