"""Fault injection and the request log: the gateway every `/v1` request passes through.

A fault is armed through the control API for a route pattern (`/hris/employees`, `/hris/*`, `*`),
optionally one method and one integration, and fires for the next `times` matching requests (or
until removed when `times` is null), after letting `skip` of them through, each with `probability`.

Kinds, what the client gets, and what the SDK raises:

- rate_limit: 429 PLATFORM.RATE_LIMIT_EXCEEDED with `Retry-After` (seconds, or an HTTP-date with
  `retry_after_date`) and/or `retry-after-ms` → KomboHrisError, retried by an SDK RetryConfig.
- concurrency_limit: 429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED, `Concurrency-Remaining: 0` → KomboHrisError.
- server_error: 5xx (default 500) JSON envelope PLATFORM.UNKNOWN_ERROR → KomboHrisError.
- remote_unavailable: 503 REMOTE.SERVICE_UNAVAILABLE → KomboHrisError.
- html_error: 5xx (default 502) `text/html` page, as from a proxy → SDKDefaultError.
- unauthorized / forbidden / not_found: 401 PLATFORM.AUTHENTICATION_INVALID, 403
  INTEGRATION.PERMISSION_MISSING, 404 PLATFORM.INTEGRATION_NOT_FOUND → KomboHrisError.
- invalid_cursor: 400 PLATFORM.INPUT_INVALID, only on requests that carry a cursor → KomboHrisError.
- unknown_error_code: 400 envelope whose code is outside the SDK's Literal → ResponseValidationError.
- slow: the normal answer after `delay` seconds → httpx.TimeoutException with a smaller timeout_ms.
- reset: the TCP connection aborted (RST), no response at all → httpx.ReadError or RemoteProtocolError.
- missing_key: 200 with `key` (default `id`) removed from each result → ResponseValidationError.
- unknown_enum: 200 with a strict enum set to `value` (default DIVISION): group `type`, employees'
  `groups[].type`, integration `setup_status`, force-sync `type` → ResponseValidationError.
- truncated: 200 `application/json` whose body stops after `fraction` of it → ResponseValidationError.

`status` and `code` override the defaults of the envelope kinds. Note that `general.*` and
`connect.*` operations only accept PLATFORM.* codes: an INTEGRATION.* code there is a validation error.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import fnmatch
import random
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, get_args
from urllib.parse import parse_qsl

import orjson
from starlette.responses import Response

from staffsync.simulators.kombo.wire import KomboJSONResponse, error_body

FaultKind = Literal[
    "rate_limit",
    "concurrency_limit",
    "server_error",
    "remote_unavailable",
    "html_error",
    "unauthorized",
    "forbidden",
    "not_found",
    "invalid_cursor",
    "unknown_error_code",
    "slow",
    "reset",
    "missing_key",
    "unknown_enum",
    "truncated",
]
FAULT_KINDS: Final = frozenset(get_args(FaultKind))
_ENVELOPES: Final[dict[str, tuple[int, str]]] = {
    "rate_limit": (429, "PLATFORM.RATE_LIMIT_EXCEEDED"),
    "concurrency_limit": (429, "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"),
    "server_error": (500, "PLATFORM.UNKNOWN_ERROR"),
    "remote_unavailable": (503, "REMOTE.SERVICE_UNAVAILABLE"),
    "unauthorized": (401, "PLATFORM.AUTHENTICATION_INVALID"),
    "forbidden": (403, "INTEGRATION.PERMISSION_MISSING"),
    "not_found": (404, "PLATFORM.INTEGRATION_NOT_FOUND"),
    "invalid_cursor": (400, "PLATFORM.INPUT_INVALID"),
    "unknown_error_code": (400, "PLATFORM.SIMULATED_UNKNOWN_CODE"),
}
_BODY_KINDS: Final = frozenset({"missing_key", "unknown_enum", "truncated"})
_HTML_PAGE: Final = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    route: str = "*"
    method: str | None = None
    integration_id: str | None = None
    times: int | None = 1
    skip: int = 0
    probability: float = 1.0
    status: int | None = None
    code: str | None = None
    retry_after: float | None = None
    retry_after_date: bool = False
    retry_after_ms: int | None = None
    delay: float = 2.0
    key: str = "id"
    value: str = "DIVISION"
    fraction: float = 0.5
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(sorted(FAULT_KINDS))}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for a fault that stays until removed")
        if not 0.0 <= self.probability <= 1.0 or not 0.0 < self.fraction < 1.0 or self.skip < 0 or self.delay < 0:
            raise ValueError("probability must be in [0, 1], fraction in (0, 1), skip and delay not negative")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if not self.route.startswith(("/", "*")):
            self.route = "/" + self.route

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The armed faults, first armed first matched; shared by the event loop and control callers."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        # B311 is a false positive here: reproducible simulated faults, not security.
        self._random = random.Random(seed)  # nosec B311

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            kept = [fault for fault in self._faults if fault.id != fault_id]
            removed = len(kept) != len(self._faults)
            self._faults = kept
        return removed

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, route: str, integration_id: str | None, *, has_cursor: bool) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and fault.method.upper() != method:
                    continue
                if not fnmatch.fnmatchcase(route, fault.route):
                    continue
                if fault.integration_id is not None and fault.integration_id != integration_id:
                    continue
                # An expired cursor can only be presented by a request that carries one.
                if fault.kind == "invalid_cursor" and not has_cursor:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.probability < 1.0 and self._random.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return fault
        return None


@dataclass(slots=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    integration_id: str | None
    at: float
    status: int | None = None
    fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Every `/v1` request with its final status (0: the connection was reset), oldest first."""

    def __init__(self, limit: int = 100_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: LoggedRequest) -> LoggedRequest:
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [entry for entry in self._entries if path is None or fnmatch.fnmatchcase(entry.path, path)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


async def gateway(faults: FaultBook, log: RequestLog, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Logs each `/v1` request and applies the first matching fault; everything else passes untouched."""
    path: str = scope.get("path", "")
    if scope["type"] != "http" or not path.startswith("/v1/"):
        await app(scope, receive, send)
        return
    headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    entry = log.record(LoggedRequest(scope["method"], path, query, headers.get("x-integration-id"), time.time()))

    async def logged_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry.status = message["status"]
        await send(message)

    fault = faults.take(scope["method"], path[3:], entry.integration_id, has_cursor="cursor" in query)
    if fault is None:
        await app(scope, receive, logged_send)
        return
    entry.fault = fault.kind
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay)
        await app(scope, receive, logged_send)
    elif fault.kind == "reset":
        entry.status = 0
        await _reset(send)
    elif fault.kind in _BODY_KINDS:
        await _rewritten(fault, scope, receive, logged_send, app)
    else:
        await _fault_response(fault)(scope, receive, logged_send)


def _fault_response(fault: Fault) -> Response:
    if fault.kind == "html_error":
        status = fault.status or 502
        return Response(_HTML_PAGE.format(status=status), status_code=status, media_type="text/html")
    status, code = _ENVELOPES[fault.kind]
    status = fault.status or status
    code = fault.code or ("PLATFORM.TASK_TIMED_OUT" if fault.kind == "server_error" and status == 504 else code)
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        if fault.retry_after_date:
            # An HTTP-date compares with the client's wall clock, never with the simulator's clock.
            moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=fault.retry_after)
            headers["Retry-After"] = email.utils.format_datetime(moment, usegmt=True)
        else:
            headers["Retry-After"] = f"{fault.retry_after:g}"
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
    if fault.kind == "concurrency_limit":
        headers["Concurrency-Remaining"] = "0"
    message = f"Simulated fault: {fault.kind}."
    return KomboJSONResponse(error_body(code, message), status_code=status, headers=headers)


async def _reset(send: Send) -> None:
    """Aborts the TCP connection under the request, so the client sees a reset instead of any response.

    Returning from an ASGI app without answering is not enough (uvicorn then sends a 500), so this
    reaches the transport of uvicorn's request cycle, the object `send` is bound to, and aborts it with
    SO_LINGER 0, which makes the kernel send a RST. Without a socket (an in-process ASGI transport)
    the nearest equivalent is an exception in place of the response.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.Transport):
        raise ConnectionResetError("simulated connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let the loop deliver connection_lost first: uvicorn then knows there is no one left to answer.
    for _ in range(3):
        await asyncio.sleep(0)


async def _rewritten(fault: Fault, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Runs the app, then damages its successful JSON body before it leaves."""
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    body = b"".join(chunks)
    if start.get("status") == 200:
        body = _damage(fault, body)
    headers = [(key, value) for key, value in start.get("headers", []) if key.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _damage(fault: Fault, body: bytes) -> bytes:
    if fault.kind == "truncated":
        return body[: max(1, int(len(body) * fault.fraction))]
    document = orjson.loads(body)
    data = document.get("data")
    results = data.get("results") if isinstance(data, dict) else None
    targets = results if isinstance(results, list) and results else [data]
    for target in targets:
        if not isinstance(target, dict):
            continue
        if fault.kind == "missing_key":
            target.pop(fault.key, None)
        elif isinstance(target.get("groups"), list):
            for group in target["groups"]:
                group["type"] = fault.value
        elif "setup_status" in target:
            target["setup_status"] = fault.value
        elif "type" in target:
            target["type"] = fault.value
    return orjson.dumps(document)
