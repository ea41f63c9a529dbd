"""Every way Kombo (or the network) can fail, through the unmodified SDK over `httpx.MockTransport`: each
ends as one ConnectorError in plain words that stops the fetch, and the API key never shows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from kombo import errors as sdk_errors
from kombo.utils.retries import BackoffStrategy, RetryConfig
from kombo_payloads import minimal_employee

from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest
from staffsync.connectors.kombo import KomboConnector, KomboErrorTranslator, retry_config
from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.records import RejectedRecord, SourceEmployee

API_KEY = "sk_test_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
INTEGRATION = "personio:CBNMt7dSNCzBdnRTx87dev4E"
SERVER = "http://kombo.test/v1"
LOG_URL = "https://app.kombo.dev/logs/abc"
EVERYTHING = FetchRequest(fields=frozenset(FIELD_NAMES))
# Retries within a third of a second, without jitter: every retry path runs in milliseconds.
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)

Reply = httpx.Response | Exception


class FakeKombo:
    """Answers with the given replies in order, repeating the last; records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply

    @property
    def calls(self) -> int:
        return len(self.requests)


@pytest.fixture
def connect() -> Iterator[Callable[..., KomboConnector]]:
    made: list[KomboConnector] = []

    def make(fake: FakeKombo, **options: Any) -> KomboConnector:
        options = {"retry": FAST, "timeout_ms": 500} | options
        connector = KomboConnector(
            API_KEY,
            INTEGRATION,
            timezone="Europe/Berlin",
            server_url=SERVER,
            transport=httpx.MockTransport(fake),
            **options,
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def employee(number: int, **values: Any) -> dict[str, Any]:
    return minimal_employee(number, **values)


def page(*employees: dict[str, Any], next_cursor: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "data": {"results": list(employees), "next": next_cursor}})


def kombo_error(
    status: int, code: str | None, message: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"status": "error", "error": {"code": code, "title": "Error", "message": message, "log_url": LOG_URL}}
    return httpx.Response(status, json=body, headers=headers)


def failure(connector: KomboConnector) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        list(connector.employees(EVERYTHING))
    error = caught.value
    assert API_KEY not in error.message and API_KEY not in str(error.details)
    return error


def test_a_rejected_api_key_is_said_with_kombo_s_message_and_log_and_not_retried(
    connect: Callable[..., KomboConnector],
) -> None:
    fake = FakeKombo(kombo_error(401, "PLATFORM.AUTHENTICATION_INVALID", "The provided API key is invalid."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.CREDENTIALS_REJECTED
    assert error.message == f"Kombo rejected the credentials: The provided API key is invalid. (log: {LOG_URL})"
    assert error.log_url == LOG_URL
    assert error.details["code"] == "PLATFORM.AUTHENTICATION_INVALID" and error.details["status"] == "401"
    assert fake.calls == 1


def test_hr_system_credentials_expired_at_kombo_are_rejected_credentials(
    connect: Callable[..., KomboConnector],
) -> None:
    fake = FakeKombo(kombo_error(401, "INTEGRATION.AUTHENTICATION_INVALID", "Personio says: invalid client secret."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.CREDENTIALS_REJECTED
    assert error.message.startswith("Kombo rejected the credentials: the HR system no longer accepts")
    assert "Personio says: invalid client secret." in error.message


def test_a_missing_permission_is_rejected_credentials_with_kombo_s_message(
    connect: Callable[..., KomboConnector],
) -> None:
    fake = FakeKombo(kombo_error(403, "INTEGRATION.PERMISSION_MISSING", "Missing scope: employees:read."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.CREDENTIALS_REJECTED
    assert "lacks a permission: Missing scope: employees:read." in error.message


def test_an_unknown_integration_is_rejected_credentials_naming_the_integration(
    connect: Callable[..., KomboConnector],
) -> None:
    fake = FakeKombo(kombo_error(404, "PLATFORM.INTEGRATION_NOT_FOUND", "No integration found."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.CREDENTIALS_REJECTED
    assert f"Kombo does not know integration {INTEGRATION}" in error.message


@pytest.mark.parametrize(
    "code", ["INTEGRATION.SETUP_INCOMPLETE", "INTEGRATION.SETUP_SYNC_PENDING", "INTEGRATION.QA_FAILED"]
)
def test_an_integration_still_in_setup_is_waiting_for_the_first_sync(
    connect: Callable[..., KomboConnector], code: str
) -> None:
    error = failure(connect(FakeKombo(kombo_error(403, code, "The integration is not ready."))))

    assert error.kind is FailureKind.WAITING_FOR_SOURCE
    assert error.message.startswith("Waiting for the HR system's first sync at Kombo")


def test_an_inactive_integration_says_so(connect: Callable[..., KomboConnector]) -> None:
    error = failure(connect(FakeKombo(kombo_error(403, "INTEGRATION.INACTIVE", "This integration is inactive."))))

    assert error.kind is FailureKind.WAITING_FOR_SOURCE
    assert error.message.startswith("The integration is inactive at Kombo")


def test_a_rate_limit_is_retried_and_the_fetch_then_succeeds(connect: Callable[..., KomboConnector]) -> None:
    limited = kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", "Slow down.", headers={"Retry-After": "0"})
    fake = FakeKombo(limited, limited, page(employee(1)))

    found = list(connect(fake).employees(EVERYTHING))

    assert [item.remote_id for item in found] == ["E1"]
    assert fake.calls == 3


def test_retry_after_is_honoured_instead_of_the_backoff(connect: Callable[..., KomboConnector]) -> None:
    limited = kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", "Slow down.", headers={"Retry-After": "1"})
    fake = FakeKombo(limited, page(employee(1)))
    # The backoff alone would wait 5 ms; Kombo asked for a second.
    connector = connect(fake, retry=retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=5_000, jitter_ms=0))

    started = time.monotonic()
    found = list(connector.employees(EVERYTHING))

    assert time.monotonic() - started >= 0.95
    assert len(found) == 1 and fake.calls == 2


def test_a_rate_limit_that_outlasts_the_retries_is_rate_limited(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(
        kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", "Too many requests.", headers={"Retry-After": "0"})
    )

    error = failure(connect(fake))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.message.startswith("Kombo's rate limit was still exceeded after retrying for 0.3 s (HTTP 429)")
    assert fake.calls > 1


def test_a_429_without_a_kombo_body_is_rate_limited_too(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(httpx.Response(429, text="slow down", headers={"content-type": "text/plain"}))

    assert failure(connect(fake)).kind is FailureKind.RATE_LIMITED


def test_a_server_error_is_retried_and_the_fetch_then_succeeds(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(kombo_error(503, "PLATFORM.UNKNOWN_ERROR", "Try again."), page(employee(1)))

    assert len(list(connect(fake).employees(EVERYTHING))) == 1
    assert fake.calls == 2


def test_a_lasting_json_server_error_is_unavailable_with_its_status(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(kombo_error(500, "PLATFORM.UNKNOWN_ERROR", "Something went wrong on our side."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.UNAVAILABLE
    assert error.message == (
        f"Kombo is unavailable (HTTP 500), after retrying for 0.3 s: Something went wrong on our side. (log: {LOG_URL})"
    )
    assert error.details["status"] == "500"


def test_an_html_gateway_error_is_unavailable_without_quoting_the_page(connect: Callable[..., KomboConnector]) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
    fake = FakeKombo(httpx.Response(502, text=html, headers={"content-type": "text/html"}))

    error = failure(connect(fake))

    assert error.kind is FailureKind.UNAVAILABLE
    assert "HTTP 502" in error.message and "text/html" in error.message
    assert "nginx" not in error.message
    assert fake.calls > 1


def test_the_hr_system_behind_kombo_being_down_is_unavailable(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(kombo_error(503, "REMOTE.SERVICE_UNAVAILABLE", "Personio answered 503."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.UNAVAILABLE
    assert error.message.startswith("The HR system behind Kombo is unavailable (HTTP 503)")


def test_an_error_code_the_sdk_does_not_know_is_judged_by_its_status(connect: Callable[..., KomboConnector]) -> None:
    # The SDK's strict code enum turns this envelope into a ResponseValidationError, not a KomboHrisError.
    fake = FakeKombo(kombo_error(401, "PLATFORM.BRAND_NEW_CODE", "Your key was revoked."))

    error = failure(connect(fake))

    assert error.kind is FailureKind.CREDENTIALS_REJECTED
    assert error.message == f"Kombo rejected the credentials (HTTP 401): Your key was revoked. (log: {LOG_URL})"


def test_a_person_without_an_id_is_an_invalid_response_naming_where(connect: Callable[..., KomboConnector]) -> None:
    anonymous = employee(2)
    del anonymous["id"]

    error = failure(connect(FakeKombo(page(employee(1), anonymous))))

    assert error.kind is FailureKind.INVALID_RESPONSE
    assert error.message == "Kombo sent a response staffsync cannot read: employee 2 of the page has no `id`"


def test_a_key_the_mapping_does_not_need_may_be_missing(connect: Callable[..., KomboConnector]) -> None:
    """The SDK's models require `groups`; a person without any is simply in no team."""
    teamless = employee(2)
    del teamless["groups"]

    found = list(connect(FakeKombo(page(employee(1), teamless))).employees(EVERYTHING))

    assert [type(item) for item in found] == [SourceEmployee, SourceEmployee]
    assert isinstance(found[1], SourceEmployee) and found[1].team is None


def test_a_group_type_kombo_added_later_is_no_team_and_rejects_nobody(connect: Callable[..., KomboConnector]) -> None:
    odd = employee(1, groups=[{"id": "D", "remote_id": "1", "name": "Secret Division", "type": "DIVISION"}])

    (person,) = list(connect(FakeKombo(page(odd))).employees(EVERYTHING))

    assert isinstance(person, SourceEmployee) and person.team is None and person.teams == ()


def test_an_unreadable_value_rejects_that_person_alone_never_quoting_it(
    connect: Callable[..., KomboConnector],
) -> None:
    odd = employee(1, work_email=["renee.private@example.org"])

    rejected, fine = list(connect(FakeKombo(page(odd, employee(2)))).employees(EVERYTHING))

    assert isinstance(rejected, RejectedRecord) and rejected.remote_id == odd["id"] and rejected.field == "work_email"
    assert "renee.private" not in rejected.reason
    assert isinstance(fine, SourceEmployee)


def test_truncated_json_is_an_invalid_response(connect: Callable[..., KomboConnector]) -> None:
    cut = httpx.Response(
        200, content=b'{"status":"success","data":{"results":[{"id":"E1",', headers={"content-type": "application/json"}
    )

    error = failure(connect(FakeKombo(cut)))

    assert error.kind is FailureKind.INVALID_RESPONSE
    assert error.message == "Kombo sent a response staffsync cannot read: the body is not complete JSON"


def test_a_success_that_is_not_json_is_an_invalid_response(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"}))

    error = failure(connect(fake))

    assert error.kind is FailureKind.INVALID_RESPONSE
    assert "HTTP 200 with text/html" in error.message


def test_a_timeout_is_a_network_failure_saying_how_long_kombo_had(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(httpx.ReadTimeout("timed out"))

    error = failure(connect(fake, timeout_ms=1_500))

    assert error.kind is FailureKind.NETWORK
    assert error.message == "Kombo did not answer within 1.5 s, after retrying for 0.3 s"
    assert fake.calls > 1


def test_an_unreachable_kombo_is_a_network_failure(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(httpx.ConnectError("[Errno 111] Connection refused"))

    error = failure(connect(fake))

    assert error.kind is FailureKind.NETWORK
    assert error.message.startswith(
        "Could not reach Kombo at kombo.test: ConnectError ([Errno 111] Connection refused)"
    )


def test_a_transient_network_failure_is_retried(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(httpx.ConnectError("reset"), page(employee(1)))

    assert len(list(connect(fake).employees(EVERYTHING))) == 1


def test_a_failure_on_a_later_page_stops_the_stream_and_says_where(connect: Callable[..., KomboConnector]) -> None:
    expired = kombo_error(400, "PLATFORM.INPUT_INVALID", "The cursor has expired.")
    stream = connect(FakeKombo(page(employee(1), next_cursor="c2"), expired)).employees(EVERYTHING)

    first = next(stream)
    with pytest.raises(ConnectorError) as caught:
        next(stream)

    assert isinstance(first, SourceEmployee)
    assert caught.value.kind is FailureKind.UNAVAILABLE
    assert caught.value.message == (
        "Kombo refused the request (HTTP 400, PLATFORM.INPUT_INVALID): The cursor has expired. "
        f"(at page 2 of Kombo's employees) (log: {LOG_URL})"
    )


def test_the_api_key_is_redacted_even_when_kombo_quotes_it(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(kombo_error(401, "PLATFORM.AUTHENTICATION_INVALID", f"Unknown key {API_KEY}."))

    error = failure(connect(fake))

    assert error.message.startswith("Kombo rejected the credentials: Unknown key [redacted].")


def test_the_sdk_exception_is_not_chained_because_it_can_quote_the_body(connect: Callable[..., KomboConnector]) -> None:
    cut = b'{"status":"success","data":{"results":[{"id":"E1","work_email":"private@example.org",'
    error = failure(connect(FakeKombo(httpx.Response(200, content=cut, headers={"content-type": "application/json"}))))

    assert error.__cause__ is None and error.__suppress_context__


def test_the_translator_covers_a_missing_response_and_leaves_our_own_bugs_alone() -> None:
    translator = KomboErrorTranslator(
        integration_id=INTEGRATION, server_url=SERVER, timeout_s=60, retry_window_s=120, secrets=(API_KEY,)
    )

    missing = translator.translate(sdk_errors.NoResponseError())

    assert missing is not None and missing.kind is FailureKind.NETWORK
    assert missing.message == "Kombo at kombo.test sent no response"
    assert translator.translate(KeyError("bug")) is None


def test_without_retries_a_rate_limit_fails_at_once(connect: Callable[..., KomboConnector]) -> None:
    fake = FakeKombo(kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", "Slow down."))
    no_retries = RetryConfig("none", BackoffStrategy(5, 5, 2.0, 0), retry_connection_errors=False)

    error = failure(connect(fake, retry=no_retries))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.message.startswith("Kombo's rate limit was still exceeded (HTTP 429; retries are off): Slow down.")
    assert fake.calls == 1
