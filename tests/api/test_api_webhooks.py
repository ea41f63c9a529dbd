"""`/webhooks`: subscribe, read, change, rotate the secret, look at deliveries, replay, unsubscribe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_harness import ApiWorld, open_world

from staffsync.api.deps import WebhookConfig
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.webhooks.delivery import fan_out


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def subscribe(world: ApiWorld, **body: object) -> dict[str, object]:
    created: dict[str, object] = world.send(
        "POST", "/webhooks", status=201, json={"url": "http://127.0.0.1:9/hook", **body}
    )
    return created


def test_a_new_webhook_answers_its_secret_once_and_never_again(world: ApiWorld) -> None:
    created = subscribe(world, description="HRIS bridge", event_types=["employee.created", "sync.failed"])
    assert str(created["secret"]).startswith("whsec_")
    assert created["event_types"] == ["employee.created", "sync.failed"]
    read = world.get(f"/webhooks/{created['id']}")
    assert "secret" not in read
    assert read["active_secrets"] == 1
    assert [item["id"] for item in world.get("/webhooks")["items"]] == [created["id"]]


def test_an_unknown_event_type_is_refused_with_the_list_of_known_ones(world: ApiWorld) -> None:
    body = world.send(
        "POST", "/webhooks", status=422, json={"url": "http://127.0.0.1:9/", "event_types": ["employee.create"]}
    )
    assert body["error"]["code"] == "unknown_event_type"
    assert "employee.created" in body["error"]["message"]
    assert world.get("/webhooks")["items"] == []


def test_a_private_address_is_refused_when_the_installation_does_not_allow_it(world: ApiWorld) -> None:
    hook = subscribe(world)
    allowing = world.context.webhooks()
    world.context.webhooks = lambda: WebhookConfig(allowing.cipher, allow_private=False)
    body = world.send("POST", "/webhooks", status=422, json={"url": "http://169.254.169.254/latest/meta-data/"})
    assert body["error"]["code"] == "url_refused"
    assert "link-local" in body["error"]["message"]
    # A change of URL passes the same check as a new endpoint.
    body = world.send("PATCH", f"/webhooks/{hook['id']}", status=422, json={"url": "http://10.0.0.5/hook"})
    assert body["error"]["code"] == "url_refused"
    assert world.get(f"/webhooks/{hook['id']}")["url"] == "http://127.0.0.1:9/hook"
    assert len(world.get("/webhooks")["items"]) == 1


def test_patch_changes_only_what_is_sent_and_rejects_unknown_fields(world: ApiWorld) -> None:
    hook = subscribe(world, description="before", event_types=["sync.failed"])
    changed = world.send("PATCH", f"/webhooks/{hook['id']}", json={"description": "after"})
    assert changed["description"] == "after"
    assert changed["event_types"] == ["sync.failed"]
    body = world.send("PATCH", f"/webhooks/{hook['id']}", status=422, json={"status": "active", "secrets": []})
    assert body["error"]["code"] == "invalid_request"


def test_rotating_keeps_both_secrets_signing_during_the_grace_period(world: ApiWorld) -> None:
    hook = subscribe(world)
    rotated = world.send("POST", f"/webhooks/{hook['id']}/rotate-secret", json={"grace_hours": 24})
    assert rotated["secret"] != hook["secret"]
    assert rotated["webhook"]["active_secrets"] == 2
    immediate = world.send("POST", f"/webhooks/{hook['id']}/rotate-secret", json={"grace_hours": 0})
    assert immediate["webhook"]["active_secrets"] == 1


def test_deliveries_are_listed_per_webhook_and_a_delivery_can_be_replayed(world: ApiWorld) -> None:
    hook = subscribe(world, event_types=["employee.created"])
    fan_out(world.db, utc_now())
    deliveries = world.walk(f"/webhooks/{hook['id']}/deliveries", limit=5)
    # The harness's first sync created twelve people: one delivery each, nothing else subscribed.
    assert len(deliveries) == 12
    assert {d["event_type"] for d in deliveries} == {"employee.created"}
    assert world.get(f"/webhooks/{hook['id']}/deliveries", params={"status": "failed"})["items"] == []
    replayed = world.send("POST", f"/webhook-deliveries/{deliveries[0]['id']}/replay")
    assert replayed["status"] == "pending"
    assert replayed["attempts"] == 0
    assert world.get(f"/webhook-deliveries/{deliveries[0]['id']}")["event_id"] == deliveries[0]["event_id"]


def test_deleting_a_webhook_removes_it_and_its_deliveries(world: ApiWorld) -> None:
    hook = subscribe(world)
    fan_out(world.db, utc_now())
    delivery_id = world.get(f"/webhooks/{hook['id']}/deliveries")["items"][0]["id"]
    response = world.call("DELETE", f"/api/v1/webhooks/{hook['id']}".removeprefix("/api/v1"), token=world.a.admin)
    assert response.status_code == 204
    assert world.call("GET", f"/webhooks/{hook['id']}", token=world.a.admin).status_code == 404
    assert world.call("GET", f"/webhook-deliveries/{delivery_id}", token=world.a.admin).status_code == 404


def test_a_viewer_reads_webhooks_but_cannot_change_them(world: ApiWorld) -> None:
    hook = subscribe(world)
    assert world.get("/webhooks", token=world.a.viewer)["items"][0]["id"] == hook["id"]
    for method, path, body in [
        ("POST", "/webhooks", {"url": "http://127.0.0.1:9/"}),
        ("PATCH", f"/webhooks/{hook['id']}", {"description": "x"}),
        ("DELETE", f"/webhooks/{hook['id']}", None),
        ("POST", f"/webhooks/{hook['id']}/rotate-secret", {}),
    ]:
        response = world.call(method, path, token=world.a.viewer, json=body)
        assert response.status_code == 403, (method, path)
    assert world.get(f"/webhooks/{hook['id']}")["description"] == ""
