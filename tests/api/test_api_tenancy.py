"""Every route that names an object answers another account with 404 and changes nothing.

The cases are generated from the application's routes: a new endpoint with an object id in its path fails
this suite until the mapping below says how to obtain an id of account A for its parameter."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_harness import API, ApiWorld, open_world
from sqlalchemy import select

from staffsync.api.routes import route_templates
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.webhooks.delivery import fan_out

# (route path, parameter) → how to find an object of account A for it.
IdSource = Callable[[ApiWorld], str]


def _connection(world: ApiWorld) -> str:
    return world.connection_id


def _run(world: ApiWorld) -> str:
    runs = world.get(f"/connections/{world.connection_id}/syncs")["items"]
    run_id: str = runs[0]["id"]
    return run_id


def _employee(world: ApiWorld) -> str:
    return world.employee_id("person3@acme.test")


def _webhook(world: ApiWorld) -> str:
    webhook_id: str = world.send(
        "POST", "/webhooks", status=201, json={"url": "http://127.0.0.1:9/hook", "event_types": []}
    )["id"]
    return webhook_id


def _delivery(world: ApiWorld) -> str:
    webhook_id = _webhook(world)
    fan_out(world.db, utc_now())
    delivery_id: str = world.get(f"/webhooks/{webhook_id}/deliveries")["items"][0]["id"]
    return delivery_id


def _policy(world: ApiWorld) -> str:
    policy_id: str = world.send("POST", "/policies", status=201, json=POLICY)["id"]
    return policy_id


POLICY = {
    "name": "GitHub for engineers",
    "conditions": [{"field": "team", "operator": "equals", "values": ["Engineering"]}],
    "application": "GitHub",
    "role": "member",
}


ID_SOURCES: dict[str, IdSource] = {
    "/api/v1/connections/{id}": _connection,
    "/api/v1/syncs/{id}": _run,
    "/api/v1/employees/{id}": _employee,
    "/api/v1/onboardings/{employee_id}": _employee,
    "/api/v1/webhooks/{id}": _webhook,
    "/api/v1/webhook-deliveries/{id}": _delivery,
    "/api/v1/policies/{id}": _policy,
}

# Bodies valid enough to reach the handler: a 422 would prove nothing about scoping.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/v1/connections/{id}"): {"name": "Taken over"},
    ("PUT", "/api/v1/connections/{id}/fields"): {
        "fields": [{"field": "personal_email", "enabled": False, "mode": "import_once"}]
    },
    ("PUT", "/api/v1/connections/{id}/filters"): {"teams": ["team-sales"]},
    ("POST", "/api/v1/connections/{id}/syncs"): {"dry_run": False, "full": True},
    ("PATCH", "/api/v1/employees/{id}"): {"fields": {"job_title": "Owned"}},
    ("PATCH", "/api/v1/webhooks/{id}"): {"url": "http://127.0.0.1:9/taken-over"},
    ("POST", "/api/v1/webhooks/{id}/rotate-secret"): {"grace_hours": 0},
    ("PUT", "/api/v1/policies/{id}"): {**POLICY, "name": "Taken over"},
}


def object_routes() -> list[tuple[str, str]]:
    from staffsync.api.app import create_app

    app = create_app(Database("sqlite://"))
    found = [
        (method, route.path)
        for route in route_templates(app)
        if route.path.startswith(API) and "{" in route.path
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert found, "no object routes found: the route walk is broken"
    return found


def _owner_prefix(path: str) -> tuple[str, str]:
    match = re.match(r"^(.*?/\{(\w+)\})", path)
    assert match, path
    return match.group(1), match.group(2)


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def _snapshot(world: ApiWorld) -> dict[str, list[tuple[str, ...]]]:
    tables = [
        models.Employee,
        models.Connection,
        models.SyncRun,
        models.Change,
        models.SourceLink,
        models.OutboxEvent,
        models.WebhookEndpoint,
        models.WebhookDelivery,
        models.Policy,
        models.PolicyAssignment,
        models.AuditEntry,
    ]
    with world.db.session() as session:
        return {
            model.__tablename__: sorted(
                tuple(str(value) for value in row) for row in session.execute(select(models.table_of(model))).all()
            )
            for model in tables
        }


def test_every_object_route_has_an_id_source() -> None:
    missing = sorted({_owner_prefix(path)[0] for _, path in object_routes()} - set(ID_SOURCES))
    assert not missing, f"add these route parameters to ID_SOURCES: {missing}"


@pytest.mark.parametrize(("method", "path"), object_routes())
def test_another_accounts_object_is_404_and_untouched(world: ApiWorld, method: str, path: str) -> None:
    prefix, parameter = _owner_prefix(path)
    object_id = ID_SOURCES[prefix](world)
    url = path.replace("{" + parameter + "}", object_id).removeprefix(API)
    before = _snapshot(world)
    response = world.call(method, url, token=world.b.admin, json=BODIES.get((method, path)))
    assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
    assert response.json()["error"]["code"] == "not_found"
    world.context.join_syncs(timeout=60)
    assert _snapshot(world) == before, f"{method} {path} changed account A's data"
    # The owner still reaches it: the 404 is about scope, not a broken route.
    assert (
        world.call(
            "GET",
            prefix.removeprefix(API).replace("{" + parameter + "}", object_id).replace("/onboardings/", "/employees/"),
            token=world.a.admin,
        ).status_code
        == 200
    )
