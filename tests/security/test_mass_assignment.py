"""Mass assignment (API3: broken object property level authorisation): no request body of /api/v1 accepts a field it
does not declare, so `account_id`, `role`, `id` or anything else a client adds is refused with 422, never applied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_harness import ApiWorld, open_world

from staffsync.api.app import create_app
from staffsync.storage.db import Database

SMUGGLED = {"account_id": "another-account", "role": "admin", "id": "00000000-0000-0000-0000-000000000000"}


def _openapi() -> dict[str, Any]:
    return create_app(Database("sqlite://")).openapi()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def _open_objects(document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """The object schemas reachable from `schema` that would accept undeclared properties."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return []
        seen.add(ref)
        where = ref.rsplit("/", 1)[-1]
    schema = _resolve(document, schema)
    problems: list[str] = []
    if schema.get("type") == "object" and "properties" in schema and schema.get("additionalProperties") is not False:
        problems.append(where)
    for key in ("properties",):
        for name, child in schema.get(key, {}).items():
            problems += _open_objects(document, child, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            problems += _open_objects(document, schema[key], f"{where}[]", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for child in schema.get(key, []):
            problems += _open_objects(document, child, where, seen)
    return problems


def _bodies() -> list[tuple[str, str, dict[str, Any]]]:
    document = _openapi()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path, content["application/json"]["schema"]))
    return found


def test_every_json_body_of_the_api_forbids_undeclared_fields_at_every_level() -> None:
    document = _openapi()
    bodies = _bodies()
    assert len(bodies) >= 8, "the walk found almost no request bodies: is it broken?"
    problems = {
        f"{method} {path}": found
        for method, path, schema in bodies
        if (found := _open_objects(document, schema, f"{method} {path}", set()))
    }
    assert not problems, f"declare model_config = ConfigDict(extra='forbid') on: {problems}"


def test_the_walk_notices_an_open_object() -> None:
    document = {"components": {"schemas": {"Open": {"type": "object", "properties": {"a": {"type": "string"}}}}}}
    assert _open_objects(document, {"$ref": "#/components/schemas/Open"}, "body", set()) == ["Open"]


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def test_smuggled_account_role_and_id_fields_are_refused_with_422_and_change_nothing(world: ApiWorld) -> None:
    connection = f"/connections/{world.connection_id}"
    before = world.get(connection)
    for field, value in SMUGGLED.items():
        answer = world.call("PATCH", connection, token=world.a.admin, json={"name": "Renamed", field: value})
        assert answer.status_code == 422, f"{field}: {answer.status_code}"
        assert answer.json()["error"]["code"] == "invalid_request"
        assert any(item["loc"][-1] == field for item in answer.json()["error"]["details"]), answer.text
    assert world.get(connection) == before
    hook = world.call(
        "POST", "/webhooks", token=world.a.admin, json={"url": "http://127.0.0.1:9/hook", "secret": "whsec_mine"}
    )
    assert hook.status_code == 422, "a client must not choose its own signing secret"
    body = {"name": "X", "provider": "memory", **SMUGGLED}
    created = world.call("POST", "/connections", token=world.a.admin, json=body)
    assert created.status_code == 422
    assert [item["name"] for item in world.get("/connections")["items"]] == [before["name"]]


def test_an_employee_edit_cannot_name_a_field_outside_the_catalogue(world: ApiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    before = world.get(f"/employees/{employee_id}")
    answer = world.call(
        "PATCH", f"/employees/{employee_id}", token=world.a.admin, json={"fields": {"account_id": "another-account"}}
    )
    assert answer.status_code == 422, answer.text
    assert world.get(f"/employees/{employee_id}") == before
