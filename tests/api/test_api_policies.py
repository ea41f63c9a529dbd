"""`/policies` and `/audit` through the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_harness import ApiWorld, open_world

from staffsync.storage.db import Database

# The harness's people are all in Engineering (tests/fakes.person); two get another team below.
POLICY: dict[str, Any] = {
    "name": "GitHub for engineers",
    "conditions": [{"field": "team", "operator": "equals", "values": ["Engineering"]}],
    "application": "GitHub",
    "role": "member",
}


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    yield from open_world(db)


def test_the_preview_lists_who_gains_and_saving_assigns_exactly_them(world: ApiWorld) -> None:
    preview = world.send("POST", "/policies/preview", json=POLICY)
    assert len(preview["gains"]) == 12 and preview["loses"] == [] and preview["keeps"] == 0
    created = world.send("POST", "/policies", status=201, json=POLICY)
    assert created["holders"] == 12
    holders = world.walk(f"/policies/{created['id']}/holders", limit=5)
    assert {h["employee_id"] for h in holders} == {p["employee_id"] for p in preview["gains"]}
    employee_id = holders[0]["employee_id"]
    assert world.get(f"/employees/{employee_id}/assignments") == [
        {"policy_id": created["id"], "policy": "GitHub for engineers", "application": "GitHub", "role": "member"}
    ]


def test_changing_a_policy_previews_the_losses_first(world: ApiWorld) -> None:
    created = world.send("POST", "/policies", status=201, json=POLICY)
    narrower = {
        **POLICY,
        "conditions": [*POLICY["conditions"], {"field": "job_title", "operator": "contains", "values": ["lead"]}],
    }
    preview = world.send("POST", "/policies/preview", json={**narrower, "id": created["id"]})
    assert len(preview["loses"]) == 12 and preview["gains"] == []
    replaced = world.send("PUT", f"/policies/{created['id']}", json=narrower)
    assert replaced["holders"] == 0
    events = [
        e for e in world.get("/syncs/" + world.get(f"/connections/{world.connection_id}/syncs")["items"][0]["id"])
    ]
    assert events  # the run still reads fine after policy changes


def test_an_invalid_policy_is_refused_with_every_problem(world: ApiWorld) -> None:
    body = world.send(
        "POST",
        "/policies",
        status=422,
        json={**POLICY, "conditions": [{"field": "team", "operator": "equals", "values": ["a", "b"]}]},
    )
    assert body["error"]["code"] == "invalid_policy"
    assert "use 'in' for several" in body["error"]["message"]
    assert world.get("/policies")["items"] == []


def test_preview_of_another_accounts_policy_is_404(world: ApiWorld) -> None:
    created = world.send("POST", "/policies", status=201, json=POLICY)
    response = world.call("POST", "/policies/preview", token=world.b.admin, json={**POLICY, "id": created["id"]})
    assert response.status_code == 404


def test_a_viewer_may_preview_but_not_save(world: ApiWorld) -> None:
    assert world.call("POST", "/policies/preview", token=world.a.viewer, json=POLICY).status_code == 200
    assert world.call("POST", "/policies", token=world.a.viewer, json=POLICY).status_code == 403
    assert world.get("/policies")["items"] == []


def test_every_configuration_change_is_in_the_audit_trail_with_its_actor(world: ApiWorld) -> None:
    policy = world.send("POST", "/policies", status=201, json=POLICY)
    world.send("PUT", f"/policies/{policy['id']}", json={**POLICY, "role": "admin"})
    world.send("PATCH", f"/connections/{world.connection_id}", json={"name": "Personio Germany"})
    world.send(
        "PUT",
        f"/connections/{world.connection_id}/fields",
        json={"fields": [{"field": "personal_email", "enabled": False, "mode": "import_once"}]},
    )
    world.send("PUT", f"/connections/{world.connection_id}/filters", json={"teams": ["team-eng"]})
    hook = world.send("POST", "/webhooks", status=201, json={"url": "http://127.0.0.1:9/hook"})
    world.send("POST", f"/webhooks/{hook['id']}/rotate-secret", json={"grace_hours": 1})
    entries = world.walk("/audit", limit=50)
    actions = [(e["action"], e["object_type"]) for e in entries]
    assert ("policy.created", "policy") in actions
    assert ("policy.updated", "policy") in actions
    assert ("webhook.created", "webhook") in actions
    assert ("webhook.updated", "webhook") in actions
    renamed = next(e for e in entries if e["action"] == "connection.updated" and "name" in e["changes"])
    assert renamed["changes"]["name"] == {"old": "Personio DE", "new": "Personio Germany"}
    # The harness set up the account, its tokens and its connection itself (no actor: the system); every
    # change since came through the API.
    setup = {"connection.created", "api_token.created", "admin_user.created"}
    assert {e["actor"] for e in entries if e["action"] not in setup} == {"api-token:ci admin"}
    role = next(e for e in entries if e["action"] == "policy.updated")
    assert role["changes"]["role"] == {"old": "member", "new": "admin"}
    rotated = next(e for e in entries if e["action"] == "webhook.updated")
    assert rotated["changes"]["secrets"]["new"] == "(changed, not shown)"
    assert hook["secret"] not in str(entries)
    only_policy = world.walk("/audit", limit=50, object_type="policy", object_id=policy["id"])
    assert [e["action"] for e in only_policy] == ["policy.updated", "policy.created"]


def test_approving_and_discarding_a_held_run_are_audited(world: ApiWorld) -> None:
    # Ten of twelve people gone, then an empty feed: both over the mass-change threshold.
    for resolve, kept in (("approve", 2), ("discard", 0)):
        world.source.records = world.source.records[:kept]
        held = world.sync()
        assert held.status == "held", held
        world.send("POST", f"/syncs/{held.run_id}/{resolve}")
    entries = world.walk("/audit", limit=50, object_type="sync_run")
    assert [e["action"] for e in entries] == ["sync_run.discarded", "sync_run.approved"]
    assert {e["actor"] for e in entries} == {"api-token:ci admin"}
    assert entries[1]["changes"]["status"] == {"old": "held", "new": "succeeded"}


def test_the_audit_trail_is_read_only(world: ApiWorld) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert world.call(method, "/audit", token=world.a.admin, json={}).status_code == 405
