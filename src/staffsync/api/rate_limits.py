"""Rate limits and throttles, and the 429 that answers them. One mechanism, `Throttle` (at most N events per key in
a sliding window), serves every limit of the application:

- the expensive actions, which call the HR provider: starting a sync (per connection) and previewing a source (per
  account), whose own rate limits and quotas an eager script (or a double-clicking admin) would exhaust;
- failed sign-ins (per client address and per email) and failed API-token authentications (per client address),
  so that guessing credentials is slow (ASVS 2.2.1).

Counted in this process only: several `serve` processes each allow the limit. That is enough to stop a runaway
client or a guessing script; the provider's own 429s (retried by the connector) remain the hard ceiling.
The REST API answers 429 with `Retry-After` and the error code `rate_limited`; a page answers 429 with an error
page saying when to try again (the sign-in form answers its own 429, on the form)."""

from __future__ import annotations

import ipaddress
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
SIGN_IN_FAILURES = 5
SIGN_IN_WINDOW_S = 15 * 60.0
# Tokens carry 256 random bits, so this is not what keeps them unguessable: it keeps a script that hammers the API
# with made-up or revoked tokens from costing a database query per attempt, and makes it show.
TOKEN_FAILURES = 10
TOKEN_WINDOW_S = 5 * 60.0
# A throttle forgets the keys whose events all left the window once it holds this many (then twice as many as
# it kept): addresses and emails are the client's to choose, and must not pile up in memory.
_SWEEP_FLOOR = 1024

# For the routes' `responses=`: the OpenAPI document promises what a limited route may answer.
RATE_LIMITED_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorEnvelope, "description": "rate_limited: too many in the last minute; see `Retry-After`"}
}


class Throttle:
    """At most `limit` events per key within the last `window_s` seconds.

    A rate limit counts every attempt (`take`); a guessing throttle counts only failures: `retry_after` before
    the attempt, `count` after a failure, and `forget` after a success for the keys that success vouches for."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = _SWEEP_FLOOR

    def take(self, key: str) -> int:
        """Count one event for `key` and answer 0, or answer the seconds to wait and count nothing."""
        now = self._clock()
        with self._lock:
            wait = self._wait(key, now)
            if not wait:
                self._record(key, now)
            return wait

    def retry_after(self, *keys: str) -> int:
        """Seconds until every key is below its limit again; 0 when none is at it. Counts nothing."""
        now = self._clock()
        with self._lock:
            return max((self._wait(key, now) for key in keys), default=0)

    def count(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._record(key, now)

    def forget(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._events.pop(key, None)

    def __len__(self) -> int:
        """How many keys are held in memory."""
        with self._lock:
            return len(self._events)

    def _wait(self, key: str, now: float) -> int:
        events = self._events.get(key)
        if events is None:
            return 0
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if len(events) < self.limit:
            return 0
        return max(1, int(events[0] + self.window_s - now) + 1)

    def _record(self, key: str, now: float) -> None:
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self._sweep_at:
                self._sweep(now)
            # Only the last `limit` events decide a wait: older ones may go.
            events = self._events[key] = deque(maxlen=self.limit)
        events.append(now)

    def _sweep(self, now: float) -> None:
        horizon = now - self.window_s
        for key in [key for key, events in self._events.items() if not events or events[-1] <= horizon]:
            del self._events[key]
        self._sweep_at = max(_SWEEP_FLOOR, 2 * len(self._events))


@dataclass
class RateLimits:
    """Every limit of one application, on one clock (which tests move)."""

    clock: Callable[[], float] = time.monotonic
    # The two limits of expensive actions are the operator's (STAFFSYNC_SYNC_STARTS_PER_MINUTE,
    # STAFFSYNC_PREVIEWS_PER_MINUTE): what a provider's quota allows differs per contract. The guessing throttles
    # are not: raising them only helps a guesser.
    sync_starts_per_minute: int = SYNC_STARTS_PER_MINUTE
    previews_per_minute: int = PREVIEWS_PER_MINUTE
    sync_starts: Throttle = field(init=False)
    previews: Throttle = field(init=False)
    sign_in_failures: Throttle = field(init=False)
    token_failures: Throttle = field(init=False)

    def __post_init__(self) -> None:
        self.sync_starts = Throttle(self.sync_starts_per_minute, 60.0, self.clock)
        self.previews = Throttle(self.previews_per_minute, 60.0, self.clock)
        self.sign_in_failures = Throttle(SIGN_IN_FAILURES, SIGN_IN_WINDOW_S, self.clock)
        self.token_failures = Throttle(TOKEN_FAILURES, TOKEN_WINDOW_S, self.clock)


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def rate_limits_of(request: Request) -> RateLimits:
    limits = request.app.state.rate_limits
    assert isinstance(limits, RateLimits)
    return limits


def client_key(request: Request) -> str:
    """The key of the client's address. An IPv6 client counts by its /64: a single subscriber is given a whole
    /64, and could otherwise take a fresh address for every attempt. Behind a proxy the address is the one
    uvicorn takes from `X-Forwarded-For` of a trusted proxy (FORWARDED_ALLOW_IPS)."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"ip:{host or 'unknown'}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"ip:{address}"


def check_sync_start(request: Request, account_id: str, connection_id: str) -> None:
    """Per connection (scoped by account, so one tenant's ids never share another's budget)."""
    throttle = rate_limits_of(request).sync_starts
    wait = throttle.take(f"{account_id}:{connection_id}")
    if wait:
        raise RateLimited(
            f"At most {throttle.limit} syncs of a connection start per minute. Try again in {wait} s.", wait
        )


def check_preview(request: Request, account_id: str) -> None:
    throttle = rate_limits_of(request).previews
    wait = throttle.take(account_id)
    if wait:
        raise RateLimited(
            f"At most {throttle.limit} previews of a source per minute per account. Try again in {wait} s.", wait
        )


def check_token_failures(request: Request) -> None:
    """Before a token is looked up: an address that sent too many bad tokens waits, whatever token it sends now.
    Checking after the lookup would let a locked-out guesser still tell a right token (200) from a wrong one."""
    wait = rate_limits_of(request).token_failures.retry_after(client_key(request))
    if wait:
        raise RateLimited(f"Too many failed authentications from this address. Try again in {wait} s.", wait)


def count_token_failure(request: Request) -> None:
    # A success never clears the count: anyone holding one valid token could otherwise reset it between guesses.
    rate_limits_of(request).token_failures.count(client_key(request))


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
