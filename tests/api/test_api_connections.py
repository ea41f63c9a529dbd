"""`/connections`: create, read, rename, disconnect; field settings, filters, filter options and preview."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_harness import PEOPLE, ApiWorld, open_world

from staffsync.storage.db import Database


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def _memory(world: ApiWorld, size: int = 30) -> str:
    created = world.send(
        "POST", "/connections", status=201, json={"name": "Demo", "provider": "memory", "config": {"size": size}}
    )
    assert created["config"] == {"size": size, "seed": 0}
    assert created["status"] == "new"
    connection_id: str = created["id"]
    return connection_id


def test_connections_are_created_listed_read_and_renamed(world: ApiWorld) -> None:
    memory_id = _memory(world)
    listed = world.get("/connections")
    assert [item["name"] for item in listed["items"]] == ["Personio DE", "Demo"]
    assert listed["next_cursor"] is None
    for item in listed["items"]:
        assert "credentials_encrypted" not in item
    renamed = world.send("PATCH", f"/connections/{memory_id}", json={"name": "Demo source", "priority": 2})
    assert (renamed["name"], renamed["priority"]) == ("Demo source", 2)
    assert world.get(f"/connections/{memory_id}")["name"] == "Demo source"


def test_connections_paginate_every_item_exactly_once(world: ApiWorld) -> None:
    made = {_memory(world, size=1) for _ in range(4)}
    walked = [item["id"] for item in world.walk("/connections", limit=2)]
    assert len(walked) == len(set(walked)) == 5
    assert made <= set(walked)


def test_an_unknown_provider_or_config_key_is_422(world: ApiWorld) -> None:
    unknown = world.call("POST", "/connections", token=world.a.admin, json={"name": "X", "provider": "workday"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_provider"
    bad = world.call(
        "POST", "/connections", token=world.a.admin, json={"name": "X", "provider": "kombo", "config": {"size": 3}}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == {"unknown": ["size"], "missing": ["integration_id"]}


def test_a_demo_source_too_large_for_memory_is_refused_in_plain_words(world: ApiWorld) -> None:
    huge = _memory(world, size=10**9)
    refused = world.call("GET", f"/connections/{huge}/preview", token=world.a.admin)
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "connector_unavailable",
        "message": "'size' must be at most 100,000, not 1,000,000,000",
        "details": None,
    }


def test_disconnecting_keeps_the_people_detached_with_the_reason(world: ApiWorld) -> None:
    disconnected = world.send("DELETE", f"/connections/{world.connection_id}")
    assert disconnected["status"] == "disconnected"
    assert disconnected["disconnected_at"] is not None
    detached = world.get("/employees", params={"view": "detached", "limit": 200})
    assert detached["total"] == PEOPLE
    assert {item["detach_reason"] for item in detached["items"]} == {"source disconnected"}
    assert world.get("/employees")["total"] == 0
    again = world.call("POST", f"/connections/{world.connection_id}/syncs", token=world.a.admin, json={})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "connection_disconnected"


def test_field_settings_are_read_and_saved_and_switched_off_fields_are_purged(world: ApiWorld) -> None:
    settings = world.get(f"/connections/{world.connection_id}/fields")
    by_field = {item["field"]: item for item in settings["fields"]}
    assert by_field["end_date"] == {
        "field": "end_date",
        "label": "End date",
        "core": True,
        "personal": False,
        "enabled": True,
        "mode": "continuous",
    }
    assert settings["diagnostics"] == []
    employee_id = world.employee_id("person3@acme.test")
    assert world.get(f"/employees/{employee_id}")["personal_email"] == "private3@mail.test"

    saved = world.send(
        "PUT",
        f"/connections/{world.connection_id}/fields",
        json={
            "fields": [
                {"field": "personal_email", "enabled": False, "mode": "import_once"},
                {"field": "end_date", "enabled": True, "mode": "import_once"},
            ]
        },
    )
    assert saved["purged"] == ["personal_email"]
    assert [d["code"] for d in saved["diagnostics"]] == ["offboarding_needs_continuous_end_date"]
    assert world.get(f"/employees/{employee_id}")["personal_email"] is None
    reread = {item["field"]: item for item in world.get(f"/connections/{world.connection_id}/fields")["fields"]}
    assert reread["personal_email"]["enabled"] is False
    assert reread["end_date"]["mode"] == "import_once"


def test_invalid_field_settings_are_422_with_the_diagnostics(world: ApiWorld) -> None:
    response = world.call(
        "PUT",
        f"/connections/{world.connection_id}/fields",
        token=world.a.admin,
        json={
            "fields": [
                {"field": "last_name", "enabled": False, "mode": "continuous"},
                {"field": "job_title", "enabled": True, "mode": "sometimes"},
            ]
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_field_settings"
    assert {(d["code"], d["field"]) for d in error["details"]} == {
        ("core_field_required", "last_name"),
        ("invalid_mode", "job_title"),
    }


def test_filters_are_read_and_saved_and_the_preview_follows_them(world: ApiWorld) -> None:
    path = f"/connections/{world.connection_id}/filters"
    assert world.get(path) == {"legal_entities": [], "employment_types": [], "teams": []}
    saved = world.send("PUT", path, json={"teams": ["team-sales"]})
    assert saved["teams"] == ["team-sales"]
    assert world.get(path)["teams"] == ["team-sales"]
    rows = world.walk(f"/connections/{world.connection_id}/preview", limit=5)
    assert len(rows) == PEOPLE
    assert not any(row["included"] for row in rows)
    assert all(row["reasons"] for row in rows)
    excluded = world.get(f"/connections/{world.connection_id}/preview", params={"status": "excluded", "q": "leaver"})
    assert [row["last_name"] for row in excluded["items"]] == ["Leaver"]


def test_the_preview_lists_every_source_person_included_or_not(world: ApiWorld) -> None:
    rows = world.walk(f"/connections/{world.connection_id}/preview", limit=5)
    assert len({row["remote_id"] for row in rows}) == PEOPLE
    assert all(row["included"] and row["reasons"] == [] for row in rows)
    none = world.get(f"/connections/{world.connection_id}/preview", params={"status": "excluded"})
    assert none["items"] == []


def test_filter_options_are_read_from_the_source(world: ApiWorld) -> None:
    memory_id = _memory(world)
    options = world.get(f"/connections/{memory_id}/filter-options")
    assert options["legal_entities"] and options["teams"] and options["employment_types"]
    assert set(options["legal_entities"][0]) == {"id", "name", "parent_id"}


def test_a_priority_outside_its_range_is_a_422_not_a_server_error(world: ApiWorld) -> None:
    # Found by schemathesis: an integer past 64 bits reached the database and answered 500.
    for priority in (0, 1001, 9223372036854775808):
        body = world.send("PATCH", f"/connections/{world.connection_id}", status=422, json={"priority": priority})
        assert body["error"]["code"] == "invalid_request"
    assert world.get(f"/connections/{world.connection_id}")["priority"] == 1
