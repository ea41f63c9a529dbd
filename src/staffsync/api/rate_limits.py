"""Rate limits on the expensive actions: starting a sync and previewing a source both call the HR provider, whose
own rate limits and quotas an eager script (or a double-clicking admin) would exhaust for the whole account.

Counted in this process only, like the sign-in throttle: several `serve` processes each allow the limit. That is
enough to stop a runaway client; the provider's own 429s (retried by the connector) remain the hard ceiling.
The REST API answers 429 with `Retry-After` and the error code `rate_limited`; a page answers 429 with an error
page saying when to try again."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from staffsync.api.errors import envelope
from staffsync.api.schemas import ErrorEnvelope

SYNC_STARTS_PER_MINUTE = 10
PREVIEWS_PER_MINUTE = 60

# For the routes' `responses=`: the OpenAPI document promises what a limited route may answer.
RATE_LIMITED_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorEnvelope, "description": "rate_limited: too many in the last minute; see `Retry-After`"}
}


class SlidingWindow:
    """At most `limit` events per key within the last `window_s` seconds."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Count one event for `key` and answer 0, or answer the seconds to wait and count nothing."""
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return max(1, int(events[0] + self.window_s - now) + 1)
            events.append(now)
            return 0


@dataclass
class RateLimits:
    clock: Callable[[], float] = time.monotonic
    sync_starts: SlidingWindow = field(init=False)
    previews: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self.sync_starts = SlidingWindow(SYNC_STARTS_PER_MINUTE, 60.0, self.clock)
        self.previews = SlidingWindow(PREVIEWS_PER_MINUTE, 60.0, self.clock)


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def rate_limits_of(request: Request) -> RateLimits:
    limits = request.app.state.rate_limits
    assert isinstance(limits, RateLimits)
    return limits


def check_sync_start(request: Request, account_id: str, connection_id: str) -> None:
    """Per connection (scoped by account, so one tenant's ids never share another's budget)."""
    wait = rate_limits_of(request).sync_starts.take(f"{account_id}:{connection_id}")
    if wait:
        raise RateLimited(
            f"At most {SYNC_STARTS_PER_MINUTE} syncs of a connection start per minute. Try again in {wait} s.", wait
        )


def check_preview(request: Request, account_id: str) -> None:
    wait = rate_limits_of(request).previews.take(account_id)
    if wait:
        raise RateLimited(
            f"At most {PREVIEWS_PER_MINUTE} previews of a source per minute per account. Try again in {wait} s.", wait
        )


def install_rate_limits(app: FastAPI, limits: RateLimits | None = None) -> None:
    app.state.rate_limits = limits or RateLimits()

    @app.exception_handler(RateLimited)
    def _rate_limited(request: Request, error: RateLimited) -> Response:
        headers = {"Retry-After": str(error.retry_after)}
        if request.url.path.startswith("/api/"):
            response: Response = envelope(429, "rate_limited", error.message, {"retry_after": error.retry_after})
        else:
            # Imported here: the web package imports the API's context, and pages are a layer above it.
            from staffsync.web.auth import WebError, error_page

            response = error_page(request, WebError(429, "Slow down", error.message))
        response.headers.update(headers)
        return response
