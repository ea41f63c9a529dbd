"""Each fault knob, armed through the control API, raises in the SDK what notes §7 predicts."""

from __future__ import annotations

import time

import httpx
import pytest
from kombo import errors
from kombo.utils import BackoffStrategy, RetryConfig
from kombo_sim_harness import Simulator

# A backoff far longer than any Retry-After used here: a quick retry proves the header was honoured.
SLOW_BACKOFF = RetryConfig("backoff", BackoffStrategy(20_000, 20_000, 1.0, 60_000, jitter_ms=0), True)
QUICK_BACKOFF = RetryConfig("backoff", BackoffStrategy(10, 50, 1.5, 5_000, jitter_ms=0), True)


def _statuses(sim: Simulator, path: str = "/v1/hris/employees") -> list[int | None]:
    return [entry["status"] for entry in sim.requests(path)]


def test_rate_limit_raises_without_retries_and_is_retried_after_retry_after_seconds(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    sim.fault("rate_limit", route="/hris/employees", retry_after=1)
    with sim.kombo(integration) as kombo:
        with pytest.raises(errors.KomboHrisError) as raised:
            kombo.hris.get_employees()
        assert raised.value.status_code == 429 and raised.value.headers["retry-after"] == "1"
        assert raised.value.data.error.code == "PLATFORM.RATE_LIMIT_EXCEEDED"
        sim.fault("rate_limit", route="/hris/employees", retry_after=1, times=2)
        started = time.monotonic()
        assert kombo.hris.get_employees(retries=SLOW_BACKOFF).result.data.results
        elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 6.0
    assert _statuses(sim) == [429, 429, 429, 200]


def test_retry_after_as_http_date_and_retry_after_ms_are_honoured(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    with sim.kombo(integration, retry_config=SLOW_BACKOFF) as kombo:
        sim.fault("rate_limit", route="/hris/groups", retry_after=2, retry_after_date=True)
        started = time.monotonic()
        kombo.hris.get_groups()
        assert 0.9 <= time.monotonic() - started < 6.0
        sim.fault("rate_limit", route="/hris/groups", retry_after_ms=300)
        started = time.monotonic()
        kombo.hris.get_groups()
        assert 0.3 <= time.monotonic() - started < 3.0
    assert _statuses(sim, "/v1/hris/groups") == [429, 200, 429, 200]
    date = [e for e in sim.requests("/v1/hris/groups") if e["fault"]]
    assert len(date) == 2


def test_server_errors_as_json_envelopes_and_as_html_pages(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    with sim.kombo(integration) as kombo:
        for status, code in ((500, "PLATFORM.UNKNOWN_ERROR"), (504, "PLATFORM.TASK_TIMED_OUT")):
            sim.fault("server_error", status=status)
            with pytest.raises(errors.KomboHrisError) as raised:
                kombo.hris.get_employments()
            assert (raised.value.status_code, raised.value.data.error.code) == (status, code)
        sim.fault("remote_unavailable")
        with pytest.raises(errors.KomboHrisError, match="Simulated fault") as remote:
            kombo.hris.get_employments()
        assert remote.value.data.error.code == "REMOTE.SERVICE_UNAVAILABLE"
        sim.fault("html_error")
        with pytest.raises(errors.SDKDefaultError) as html:
            kombo.hris.get_employments()
        assert html.value.status_code == 502 and "text/html" in str(html.value)
        sim.fault("html_error", status=503, times=2)
        assert kombo.hris.get_employments(retries=QUICK_BACKOFF).result.data.results  # 5xx pages are retried
    assert _statuses(sim, "/v1/hris/employments")[-3:] == [503, 503, 200]


def test_auth_permission_and_concurrency_faults_are_typed_errors(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    expected = {
        "unauthorized": (401, "PLATFORM.AUTHENTICATION_INVALID"),
        "forbidden": (403, "INTEGRATION.PERMISSION_MISSING"),
        "not_found": (404, "PLATFORM.INTEGRATION_NOT_FOUND"),
        "concurrency_limit": (429, "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"),
    }
    with sim.kombo(integration) as kombo:
        for kind, (status, code) in expected.items():
            sim.fault(kind, route="/hris/*")
            with pytest.raises(errors.KomboHrisError) as raised:
                kombo.hris.get_legal_entities()
            assert (raised.value.status_code, raised.value.data.error.code) == (status, code)
        assert raised.value.headers["concurrency-remaining"] == "0"
        # general.* only knows PLATFORM codes: an INTEGRATION code there fails validation, as at Kombo.
        sim.fault("forbidden", route="/force-sync")
        with pytest.raises(errors.ResponseValidationError):
            kombo.general.trigger_sync()


def test_a_slow_response_times_out_in_the_client(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    sim.fault("slow", delay=0.6)
    with sim.kombo(integration) as kombo:
        with pytest.raises(httpx.TimeoutException):
            kombo.hris.get_employees(timeout_ms=150)
        sim.fault("slow", delay=0.2)
        assert kombo.hris.get_employees(timeout_ms=5_000).result.data.results


def test_a_connection_reset_is_a_transport_error_and_retryable(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    sim.fault("reset", route="/hris/employees")
    with sim.kombo(integration) as kombo:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            kombo.hris.get_employees()
        assert kombo.hris.get_employees().result.data.results  # the next connection is fine
        sim.fault("reset", route="/hris/employees")
        assert kombo.hris.get_employees(retries=QUICK_BACKOFF).result.data.results
    assert _statuses(sim) == [0, 200, 0, 200]


@pytest.mark.parametrize(
    ("kind", "options", "route"),
    [
        ("missing_key", {}, "employees"),
        ("missing_key", {"key": "changed_at"}, "groups"),
        ("unknown_enum", {}, "groups"),
        ("unknown_enum", {"value": "SQUAD"}, "employees"),
        ("truncated", {}, "employees"),
        ("truncated", {"fraction": 0.99}, "locations"),
        ("unknown_error_code", {}, "employees"),
    ],
)
def test_malformed_bodies_are_response_validation_errors(
    sim: Simulator, kind: str, options: dict[str, object], route: str
) -> None:
    integration = sim.integration(size=20)
    sim.fault(kind, route=f"/hris/{route}", **options)
    with sim.kombo(integration) as kombo:
        call = getattr(kombo.hris, f"get_{route}")
        with pytest.raises(errors.ResponseValidationError):
            call()
        assert call().result.data.results  # one call only: the fault is spent


def test_integration_details_with_an_unknown_setup_status_fail_validation(sim: Simulator) -> None:
    integration = sim.integration(size=5)
    sim.fault("unknown_enum", route="/integrations/*", value="ALMOST_DONE")
    with sim.kombo(integration) as kombo, pytest.raises(errors.ResponseValidationError):
        kombo.general.get_integration_details(integration_id=integration.id)


def test_a_cursor_invalidated_mid_pagination(sim: Simulator) -> None:
    integration = sim.integration(size=100)
    sim.fault("invalid_cursor", route="/hris/employees", skip=1)
    with sim.kombo(integration) as kombo:
        page = kombo.hris.get_employees(page_size=20)
        page = page.next()
        assert page is not None  # the second page: `skip` let it through
        with pytest.raises(errors.KomboHrisError) as raised:
            page.next()
    assert raised.value.data.error.code == "PLATFORM.INPUT_INVALID"
    assert _statuses(sim) == [200, 200, 400]


def test_cursors_expire_after_their_lifetime(sim: Simulator) -> None:
    integration = sim.integration(size=30)
    sim.control("PUT", "/settings", json={"cursor_lifetime_seconds": 60})
    with sim.kombo(integration) as kombo:
        first = kombo.hris.get_employees(page_size=10)
        sim.control("POST", "/clock", json={"advance_seconds": 61})
        with pytest.raises(errors.KomboHrisError, match="expired"):
            first.next()


def test_probabilistic_and_persistent_faults_until_removed(sim: Simulator) -> None:
    integration = sim.integration(size=5)
    fault = sim.fault("server_error", route="/hris/groups", times=None, probability=0.5)
    statuses = [sim.http.get(f"{sim.api}/hris/groups", headers=sim.headers(integration)).status_code for _ in range(40)]
    assert 5 < statuses.count(500) < 35 and statuses.count(200) == 40 - statuses.count(500)
    listed = sim.control("GET", "/faults")["faults"]
    assert [f["id"] for f in listed] == [fault["id"]] and listed[0]["fired"] == statuses.count(500)
    sim.control("DELETE", f"/faults/{fault['id']}")
    assert sim.http.get(f"{sim.api}/hris/groups", headers=sim.headers(integration)).status_code == 200
    bad = sim.http.post(f"{sim.base}/_control/faults", json={"kind": "gremlins"})
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]


def test_faults_can_target_one_integration_and_method(sim: Simulator) -> None:
    first, second = sim.integration(size=5), sim.integration(size=5)
    sim.fault("server_error", integration_id=second.id, method="GET", times=None)
    assert sim.http.get(f"{sim.api}/hris/groups", headers=sim.headers(first)).status_code == 200
    assert sim.http.get(f"{sim.api}/hris/groups", headers=sim.headers(second)).status_code == 500
    assert sim.http.post(f"{sim.api}/force-sync", headers=sim.headers(second), json={}).status_code == 200
