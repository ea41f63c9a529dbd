"""Keys, integration headers, the connect flow, integration lifecycle and setup states, through the SDK."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from kombo import errors
from kombo.utils import BackoffStrategy, RetryConfig
from kombo_sim_harness import Simulator

CALLBACK = "http://staffsync.example/connect/kombo/callback?state=abc"


def _complete(sim: Simulator, link: str, **params: str) -> httpx.Response:
    """What the admin's browser does: open the hosted page, press its button."""
    page = sim.http.get(link, params=params)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<form" in page.text and "<button" in page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return sim.http.post(link, data={**form, "action": "connect"}, follow_redirects=False)


def test_check_api_key_and_bad_keys(sim: Simulator) -> None:
    integration = sim.integration(size=10)
    with sim.kombo(integration) as kombo:
        assert kombo.general.check_api_key().data.environment_id == sim.state.environment_id
    with sim.kombo(integration, api_key="wrong") as kombo:
        with pytest.raises(errors.KomboGeneralError) as general:
            kombo.general.check_api_key()
        with pytest.raises(errors.KomboHrisError) as hris:
            kombo.hris.get_employees()
    assert general.value.status_code == hris.value.status_code == 401
    assert hris.value.data.error.code == "PLATFORM.AUTHENTICATION_INVALID"


def test_a_missing_or_unknown_integration_is_not_found(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTEGRATION_ID", raising=False)
    for integration_id in (None, "personio:doesnotexist"):
        with sim.kombo(integration_id) as kombo, pytest.raises(errors.KomboHrisError) as raised:
            kombo.hris.get_groups()
        assert raised.value.status_code == 404
        assert raised.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"


def test_connect_link_page_redirect_and_one_time_token_exchange(sim: Simulator) -> None:
    with sim.kombo(None) as kombo:
        link = kombo.connect.create_connection_link(
            end_user_email="admin@acme.example",
            end_user_organization_name="Acme",
            end_user_origin_id="request-42",
            integration_tool="hibob",
        ).data.link
        assert link.startswith(sim.api + "/connect/")
        redirect = _complete(sim, link, redirect_url=CALLBACK)
        assert redirect.status_code == 303
        location = urlsplit(redirect.headers["location"])
        assert location._replace(query="").geturl() == CALLBACK.split("?")[0]
        query = parse_qs(location.query)
        assert query["state"] == ["abc"]
        token = query["token"][0]
        found = kombo.connect.get_integration_by_token(token=token).data
        assert (found.tool, found.end_user_origin_id, found.end_user_email) == (
            "hibob",
            "request-42",
            "admin@acme.example",
        )
        assert found.id.startswith("hibob:") and found.setup_status == "COMPLETED"
        with pytest.raises(errors.KomboGeneralError) as spent:
            kombo.connect.get_integration_by_token(token=token)
        assert spent.value.data.error.code == "PLATFORM.INPUT_INVALID"
    assert sim.http.get(link).status_code == 410  # a link connects once
    with sim.kombo(found.id) as kombo:
        assert kombo.hris.get_employees().result.data.results
        details = kombo.general.get_integration_details(integration_id=found.id).data
    assert (details.id, details.status, details.end_user.organization_name) == (found.id, "ACTIVE", "Acme")


def test_without_a_redirect_url_the_page_shows_the_token(sim: Simulator) -> None:
    with sim.kombo(None) as kombo:
        link = kombo.connect.create_connection_link(
            end_user_email="a@acme.example", end_user_organization_name="A"
        ).data.link
        shown = _complete(sim, link)
        token = re.search(r'data-token="([^"]+)"', shown.text)
        assert shown.status_code == 200 and token
        assert kombo.connect.get_integration_by_token(token=token.group(1)).data.tool == "personio"


def test_setup_states_answer_409_until_filtering_is_confirmed_and_the_first_sync_ran(sim: Simulator) -> None:
    retry = RetryConfig("backoff", BackoffStrategy(50, 100, 1.5, 2_000), True)
    with sim.kombo(None) as kombo:
        link = kombo.connect.create_connection_link(
            end_user_email="a@acme.example", end_user_organization_name="A", enable_filtering=True
        ).data.link
        token = parse_qs(urlsplit(_complete(sim, link, redirect_url=CALLBACK).headers["location"]).query)["token"][0]
        integration_id = kombo.connect.get_integration_by_token(token=token).data.id
    with sim.kombo(integration_id, retry_config=retry) as kombo:
        with pytest.raises(errors.KomboHrisError) as incomplete:
            kombo.hris.get_employees()
        assert (incomplete.value.status_code, incomplete.value.data.error.code) == (409, "INTEGRATION.SETUP_INCOMPLETE")
        assert len(sim.requests()) == 1  # 409 is not retried: an unfinished setup is no transient error
        setup = kombo.general.create_setup_link(integration_id=integration_id, link_type="EMBEDDED").data.link
        assert _complete(sim, setup, redirect_url=CALLBACK).status_code == 303
        with pytest.raises(errors.KomboHrisError) as pending:
            kombo.hris.get_employees()
        assert (pending.value.status_code, pending.value.data.error.code) == (409, "INTEGRATION.SETUP_SYNC_PENDING")
        assert kombo.general.trigger_sync().data.already_queued is True  # Kombo started the final sync itself
        sim.control("POST", "/clock", json={"advance_seconds": 6})
        assert kombo.hris.get_employees().result.data.results
        assert kombo.general.get_integration_details(integration_id=integration_id).data.setup_status == "COMPLETED"
    sim.control("PUT", "/settings", json={"setup_error_status": 503})
    stuck = sim.integration(size=5, setup_status="INCOMPLETE")
    with sim.kombo(stuck) as kombo, pytest.raises(errors.KomboHrisError) as legacy:
        kombo.hris.get_employees()
    assert legacy.value.status_code == 503


def test_setup_link_without_a_setup_step_is_input_invalid(sim: Simulator) -> None:
    integration = sim.integration(size=5)
    with sim.kombo(integration) as kombo, pytest.raises(errors.KomboGeneralError) as raised:
        kombo.general.create_setup_link(integration_id=integration.id, link_type="EMBEDDED")
    assert raised.value.data.error.code == "PLATFORM.INPUT_INVALID"


def test_disable_relink_and_delete_an_integration(sim: Simulator) -> None:
    integration = sim.integration(size=20)
    with sim.kombo(integration) as kombo:
        kombo.general.set_integration_enabled(integration_id=integration.id, value=False)
        assert kombo.general.get_integration_details(integration_id=integration.id).data.status == "INACTIVE"
        with pytest.raises(errors.KomboHrisError) as inactive:
            kombo.hris.get_locations()
        assert inactive.value.data.error.code == "INTEGRATION.INACTIVE"
        kombo.general.set_integration_enabled(integration_id=integration.id, value=True)
        assert kombo.hris.get_locations().result.data.results
        relink = kombo.general.create_reconnection_link(integration_id=integration.id).data.link
        token = parse_qs(urlsplit(_complete(sim, relink, redirect_url=CALLBACK).headers["location"]).query)["token"][0]
        assert kombo.connect.get_integration_by_token(token=token).data.id == integration.id
        kombo.general.delete_integration(integration_id=integration.id, body={})
        with pytest.raises(errors.KomboHrisError) as gone:
            kombo.hris.get_employees()
        assert gone.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"
        with pytest.raises(errors.KomboGeneralError):
            kombo.general.get_integration_details(integration_id=integration.id)


def test_force_sync_queues_one_sync_per_type(sim: Simulator) -> None:
    integration = sim.integration(size=5)
    with sim.kombo(integration) as kombo:
        full = kombo.general.trigger_sync().data
        delta = kombo.general.trigger_sync(type_="DELTA").data
        again = kombo.general.trigger_sync(type_="FULL").data
        assert (full.type, full.already_queued, delta.already_queued) == ("FULL", False, False)
        assert again.already_queued and again.sync_id == full.sync_id and delta.sync_id != full.sync_id
        sim.control("POST", "/clock", json={"advance_seconds": 5})
        assert kombo.general.trigger_sync().data.already_queued is False


def test_passthrough_echoes(sim: Simulator) -> None:
    integration = sim.integration(size=5)
    with sim.kombo(integration) as kombo:
        echoed = kombo.general.send_passthrough_request(
            tool="personio", api="personnel", method="GET", path="/company/employees"
        )
    assert echoed.data.status == 200 and echoed.data.url.endswith("/personnel/company/employees")
    assert echoed.warnings
