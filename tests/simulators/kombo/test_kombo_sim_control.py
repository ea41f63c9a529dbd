"""The control API over HTTP (mutations, syncs, clock, settings, request log) and `staffsync kombo-sim`."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from kombo import Kombo
from kombo_sim_harness import Simulator


def test_hire_change_terminate_and_delete_reach_the_api(sim: Simulator) -> None:
    created = sim.control("POST", "/integrations", json={"size": 60, "seed": 9, "tool": "hibob", "generate": True})
    integration = sim.state.integrations[created["id"]]
    assert created["generated"] is True and created["tool"] == "hibob"
    team = next(g for g in integration.mirror.groups if g.item.kind == "team")
    path = f"/integrations/{integration.id}"
    hired = sim.control(
        "POST",
        f"{path}/hire",
        json={"first_name": "Grace", "last_name": "Hopper", "team_id": team.id, "start_date": "2031-01-05"},
    )
    assert hired["synced"] is True
    sim.control(
        "POST", f"{path}/employees/{hired['id']}/change", json={"job_title": "Admiral", "employment_type": "contractor"}
    )
    sim.control("POST", f"{path}/employees/{hired['local_id']}/terminate", json={"termination_date": "2032-01-31"})
    with sim.kombo(integration) as kombo:
        grace = kombo.hris.get_employees(ids=[hired["id"]]).result.data.results[0]
        assert (grace.first_name, grace.job_title, grace.employment_type) == ("Grace", "Admiral", "CONTRACT")
        assert grace.employment_status == "PENDING" and grace.termination_date.year == 2032
        assert team.id in {g.id for g in grace.groups} and grace.work_email == "grace.hopper@acme.example"
        sim.control("POST", f"{path}/employees/{hired['remote_id']}/delete")
        assert not kombo.hris.get_employees(ids=[hired["id"]]).result.data.results
        deleted = sim.control("POST", f"{path}/mass-delete", json={"percent": 10, "seed": 3})["deleted"]
        assert len(deleted) == 6
        more = sim.control("POST", f"{path}/mass-delete", json={"count": 4})["deleted"]
        remaining = kombo.hris.get_employees(page_size=250).result.data.results
    assert len(remaining) == 60 - 10 and not {e.id for e in remaining} & set(deleted + more)
    summary = sim.control("GET", path)
    assert summary["mirrored_employees"] == 61 and summary["last_sync"]["deleted"] == 4


def test_many_people_change_in_one_request_or_none_do(sim: Simulator) -> None:
    integration = sim.integration(size=10)
    path = f"/integrations/{integration.id}"
    with sim.kombo(integration) as kombo:
        first, second, third = kombo.hris.get_employees(page_size=3).result.data.results
    changed = sim.control(
        "POST",
        f"{path}/employees/change",
        json={
            "changes": [{"employee": first.id, "last_name": "Lovelace"}, {"employee": second.id, "job_title": "CTO"}]
        },
    )
    assert changed == {"changed": 2}
    refused = sim.http.post(
        f"{sim.base}/_control{path}/employees/change",
        json={"changes": [{"employee": third.id, "last_name": "Kept"}, {"employee": "emp_999999", "last_name": "X"}]},
    )
    assert refused.status_code == 404
    sim.control("POST", f"{path}/sync", json={"type": "FULL"})
    with sim.kombo(integration) as kombo:
        now = {e.id: e for e in kombo.hris.get_employees(ids=[first.id, second.id, third.id]).result.data.results}
    assert (now[first.id].last_name, now[second.id].job_title) == ("Lovelace", "CTO")
    assert now[third.id].last_name == third.last_name


def test_control_rejects_bad_input_plainly(sim: Simulator) -> None:
    integration = sim.integration(size=10)
    path = f"{sim.base}/_control/integrations/{integration.id}"
    cases = [
        ("POST", f"{path}/hire", {"team_id": "no-such-team"}, 400, "no such record"),
        ("POST", f"{path}/hire", {"salary": 3}, 400, "cannot set"),
        ("POST", f"{path}/employees/emp_999999/change", {"job_title": "x"}, 404, "no person"),
        ("POST", f"{path}/employees/emp_000001/terminate", {}, 400, "termination_date"),
        ("POST", f"{path}/employees/change", {"changes": [{"job_title": "x"}]}, 400, "`employee` id"),
        ("POST", f"{path}/employees/change", {"changes": [{"employee": "emp_999999"}]}, 404, "no person"),
        ("POST", f"{path}/employees/change", {"changes": [{"employee": "emp_000001", "salary": 1}]}, 400, "cannot set"),
        ("POST", f"{path}/mass-delete", {"count": 11}, 400, "cannot delete"),
        ("PUT", f"{sim.base}/_control/settings", {"setup_error_status": True}, 400, "must be a int"),
        ("PUT", f"{sim.base}/_control/settings", {"speed": 1}, 400, "unknown settings"),
        ("POST", f"{sim.base}/_control/integrations/nope/sync", {}, 404, "no integration"),
    ]
    for method, url, body, status, message in cases:
        response = sim.http.request(method, url, json=body)
        assert response.status_code == status and message in response.json()["error"], (url, response.text)


def test_clock_settings_state_and_request_log(sim: Simulator) -> None:
    integration = sim.integration(size=10)
    assert sim.control("POST", "/clock", json={"now": "2030-06-01T00:00:00Z", "frozen": True})["now"].startswith(
        "2030-06-01T00:00:00.000"
    )
    assert sim.control("POST", "/clock", json={"advance_days": 1, "advance_seconds": 30})["now"] == (
        "2030-06-02T00:00:30.000Z"
    )
    sim.control("PUT", "/settings", json={"anonymise_after_days": 30, "cursor_lifetime_seconds": None})
    overview = sim.control("GET", "/state")
    assert overview["settings"]["anonymise_after_days"] == 30 and overview["now"] == "2030-06-02T00:00:30.000Z"
    assert integration.id in {i["id"] for i in overview["integrations"]}
    sim.http.get(f"{sim.api}/hris/groups", params={"page_size": 5}, headers=sim.headers(integration))
    sim.http.get(f"{sim.api}/check-api-key", headers=sim.headers(integration))
    logged = sim.control("GET", "/requests")["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in logged] == [
        ("GET", "/v1/hris/groups", 200),
        ("GET", "/v1/check-api-key", 200),
    ]
    assert logged[0]["query"] == {"page_size": "5"} and logged[0]["integration_id"] == integration.id
    assert sim.requests("/v1/hris/*") == logged[:1]
    sim.control("DELETE", "/requests")
    assert sim.control("GET", "/requests")["count"] == 0


def test_unknown_routes_and_bad_bodies_answer_in_kombo_envelopes(sim: Simulator) -> None:
    integration = sim.integration(size=5)
    missing = sim.http.get(f"{sim.api}/hris/teams", headers=sim.headers(integration))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    bad = sim.http.post(f"{sim.api}/connect/create-link", json={}, headers=sim.headers(integration))
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/json"
    assert "end_user_email" in bad.json()["error"]["message"]


def test_the_kombo_sim_command_serves_and_prints_what_a_client_needs() -> None:
    command = [sys.executable, "-c", "from staffsync.cli import main; main()", "kombo-sim", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--employees", "30", "--seed", "4", "--api-key", "cli-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(5))
        assert printed["api_key"] == "cli-key" and printed["integration_id"].startswith("personio:")
        with Kombo(
            api_key="cli-key", integration_id=printed["integration_id"], server_url=printed["base_url"]
        ) as kombo:
            assert len(kombo.hris.get_employees().result.data.results) == 30
        with pytest.raises(httpx.HTTPStatusError):
            httpx.get(printed["base_url"] + "/check-api-key").raise_for_status()
    finally:
        process.terminate()
        process.wait(timeout=10)
