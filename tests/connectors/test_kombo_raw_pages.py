"""Employee pages read as plain JSON under the SDK (raw_pages.py): JSON the SDK's parser takes and orjson does not,
a page the transport could not keep, and the environment's proxy, which httpx honours only for a client without a
transport of its own."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from kombo_payloads import minimal_employee

from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest
from staffsync.connectors.kombo import KomboConnector, retry_config
from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.records import SourceEmployee

API_KEY = "sk_test_7c6b5a4d3e2f1a0b9c8d7e6f5a4b3c2d"
INTEGRATION = "personio:Q2XnvVGmDyK4Bd5RQoT8sLrA"
EVERYTHING = FetchRequest(fields=frozenset(FIELD_NAMES))
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)


def page_body(*employees: dict[str, Any]) -> bytes:
    return json.dumps({"status": "success", "data": {"results": list(employees), "next": None}}).encode()


def connector(handler: Any, **options: Any) -> KomboConnector:
    return KomboConnector(
        API_KEY,
        INTEGRATION,
        timezone="Europe/Berlin",
        server_url="http://kombo.test/v1",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        **options,
    )


def test_a_page_with_json_orjson_refuses_but_the_sdk_takes_is_read_as_the_sdk_would() -> None:
    body = page_body(minimal_employee(1), minimal_employee(2)).replace(b'"results"', b'"score": NaN, "results"', 1)

    with connector(
        lambda request: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    ) as kombo:
        found = list(kombo.employees(EVERYTHING))

    assert [type(item) for item in found] == [SourceEmployee, SourceEmployee]


def test_a_page_the_sdk_accepted_but_staffsync_could_not_keep_fails_in_plain_words() -> None:
    """A redirect elsewhere than an employees page: the SDK parses what it gets, staffsync has no records."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/hris/employees"):
            return httpx.Response(307, headers={"location": "http://kombo.test/v1/elsewhere"})
        return httpx.Response(200, content=page_body(minimal_employee(1)), headers={"content-type": "application/json"})

    with connector(handler) as kombo, pytest.raises(ConnectorError) as caught:
        list(kombo.employees(EVERYTHING))

    assert caught.value.kind is FailureKind.INVALID_RESPONSE
    assert "could not be read as JSON" in caught.value.message


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: it records the absolute URL each request asks it for."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = page_body(minimal_employee(1))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def proxy() -> Iterator[str]:
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_kombo_is_reached_through_the_environment_s_proxy(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)

    with KomboConnector(
        API_KEY, INTEGRATION, timezone="Europe/Berlin", server_url="http://kombo.test/v1", retry=FAST
    ) as kombo:
        found = list(kombo.employees(EVERYTHING))

    assert [item.remote_id for item in found] == ["E1"]
    assert _Proxy.seen and _Proxy.seen[0].startswith("http://kombo.test/v1/hris/employees?")


def test_no_proxy_names_the_hosts_reached_directly(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "all_proxy", "ALL_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "kombo.test")

    with (
        KomboConnector(
            API_KEY, INTEGRATION, timezone="Europe/Berlin", server_url="http://kombo.test/v1", retry=FAST
        ) as kombo,
        pytest.raises(ConnectorError) as caught,
    ):
        list(kombo.employees(EVERYTHING))

    assert caught.value.kind is FailureKind.NETWORK, "kombo.test is no real host: reached directly, it is not found"
    assert _Proxy.seen == []
