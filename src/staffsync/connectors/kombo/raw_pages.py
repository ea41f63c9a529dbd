"""Employee pages read as plain JSON, under the official SDK.

The SDK validates every page of `GET /hris/employees` into its pydantic models, and the mapping then wants
plain JSON back (`mapping.py`): at 100,000 people that round trip cost a third of a full fetch (the SDK's
validation 14 s, converting back 6 s). `RawEmployeePages` sits under the SDK as its HTTP transport: it keeps
the `results` of each successful employees page as parsed JSON, and hands the SDK the same page without
them. The SDK still builds the request, authenticates, retries, reads the cursor and raises its errors on
anything that is not a 200; only the records skip its models, and the mapping reads them leniently, one
person at a time, rejecting the unreadable ones with a reason instead of failing the page.
"""

from __future__ import annotations

import json
import urllib.request
from collections import deque
from typing import Final
from urllib.parse import urlsplit

import httpx
import orjson

EMPLOYEES_PATH: Final = "/hris/employees"
# Headers that described the original body and would misdescribe the smaller one.
_BODY_HEADERS: Final = frozenset({"content-length", "content-encoding", "transfer-encoding"})


class RawEmployeePages(httpx.BaseTransport):
    """Wraps the transport of one connector's client. Not shared between threads: a connector reads one page
    at a time, and `take` returns the records of the page the SDK has just returned."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._pages: deque[list[object]] = deque()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        # rstrip: a redirect may add a trailing slash, and the page it leads to is still an employees page.
        path = request.url.path.rstrip("/")
        if request.method != "GET" or not path.endswith(EMPLOYEES_PATH) or response.status_code != 200:
            return response
        body = response.read()
        response.close()
        results, page = _split(body)
        if results is None:
            # Not the page Kombo documents: the SDK sees it whole and says what is wrong with it.
            return _replaced(response, request, body)
        self._pages.append(results)
        return _replaced(response, request, orjson.dumps(page))

    def forget(self) -> None:
        """Drops pages the SDK never returned (it failed, or retried after reading one)."""
        self._pages.clear()

    def take(self) -> list[object] | None:
        """The records of the last page read (a page read while the SDK retried is older and is dropped); None
        when the SDK accepted a page this transport did not keep."""
        if not self._pages:
            return None
        results = self._pages.pop()
        self._pages.clear()
        return results

    def close(self) -> None:
        self._inner.close()


def _split(body: bytes) -> tuple[list[object] | None, object]:
    """The page's results, and the page without them; (None, None) for a body that is not such a page."""
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson refuses what the SDK's parser takes (NaN, Infinity, 1e400): read it as the SDK would.
        try:
            page = json.loads(body)
        except (ValueError, RecursionError):
            return None, None
    data = page.get("data") if isinstance(page, dict) else None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return None, None
    assert isinstance(data, dict)  # narrowed above; mypy loses it through the conditional expression
    data["results"] = []
    return results, page


def _replaced(original: httpx.Response, request: httpx.Request, body: bytes) -> httpx.Response:
    headers = [(name, value) for name, value in original.headers.multi_items() if name.lower() not in _BODY_HEADERS]
    kept: dict[str, object] = {
        key: original.extensions[key] for key in ("http_version", "reason_phrase") if key in original.extensions
    }
    return httpx.Response(original.status_code, headers=headers, content=body, request=request, extensions=kept)


def network_transport(server_url: str) -> httpx.HTTPTransport:
    """The transport under the SDK's client. httpx reads HTTP(S)_PROXY, ALL_PROXY and NO_PROXY only for a client
    without a transport of its own: the same choice, made here, so that an installation behind an egress proxy
    still reaches Kombo."""
    parts = urlsplit(server_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return httpx.HTTPTransport(proxy=proxy)
    return httpx.HTTPTransport()
