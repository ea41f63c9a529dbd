"""When a connection syncs next: its interval, back-off after failures, quarantine, and what stops it.

A failing source is not hammered (reliability notes §0.4, after Entra's quarantine): each failed slot
doubles the wait (1 h → 2 h → 4 h with the default hour) and from the fourth failed slot in a row the
connection is quarantined to one try a day; a success resets it at once. Rejected credentials stop the
schedule until an admin fixes them, and so does a held run until it is approved or discarded: the
schedule never plans over a plan an admin has not looked at yet.

Retries of one slot (a queue retrying a transient error minutes later) do not count as more failed
slots, or one short outage would be enough to quarantine a connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

DEFAULT_INTERVAL_MINUTES = 60
MIN_INTERVAL_MINUTES = 5
# Once a week is the slowest schedule that still deserves the name; slower sources are synced by hand.
MAX_INTERVAL_MINUTES = 7 * 24 * 60
QUARANTINE_AFTER = 4
QUARANTINE_INTERVAL = dt.timedelta(days=1)
# A source still being set up (Kombo's first sync) is asked again sooner than hourly: the admin is
# usually waiting for that first sync.
WAITING_POLL = dt.timedelta(minutes=15)


class RunResult(StrEnum):
    """What a finished run means for the schedule."""

    SUCCEEDED = "succeeded"
    HELD = "held"
    FAILED = "failed"
    CREDENTIALS_REJECTED = "credentials_rejected"
    WAITING_FOR_SOURCE = "waiting_for_source"


class ConnectionState(StrEnum):
    """One word for where a connection stands, the most pressing first (metrics label, CLI, UI)."""

    DISCONNECTED = "disconnected"
    PAUSED = "paused"
    BROKEN = "broken"
    AWAITING_REVIEW = "awaiting_review"
    QUARANTINED = "quarantined"
    FAILING = "failing"
    WAITING = "waiting"
    NEW = "new"
    OK = "ok"


class InvalidInterval(ValueError):
    pass


def check_interval(minutes: int) -> int:
    if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
        raise InvalidInterval(
            f"A schedule runs every {MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES} minutes, not every {minutes}"
        )
    return minutes


def backoff(interval: dt.timedelta, failures: int) -> dt.timedelta:
    """The wait after `failures` failed slots in a row: the interval, doubled per further failure, daily
    once quarantined — never more often than the interval itself."""
    if failures <= 1:
        return interval
    if failures >= QUARANTINE_AFTER:
        return max(QUARANTINE_INTERVAL, interval)
    return max(min(interval * (1 << (failures - 1)), QUARANTINE_INTERVAL), interval)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The scheduling state of one connection, as stored on it."""

    interval: dt.timedelta
    next_sync_at: dt.datetime | None
    consecutive_failures: int = 0
    failing_since: dt.datetime | None = None
    paused: bool = False

    @property
    def quarantined(self) -> bool:
        return self.consecutive_failures >= QUARANTINE_AFTER

    def is_due(self, now: dt.datetime) -> bool:
        return not self.paused and self.next_sync_at is not None and self.next_sync_at <= now

    def after_run(self, result: RunResult, *, at: dt.datetime, retry: bool = False, blocked: bool = False) -> Schedule:
        """`retry`: the run repeated a failed slot, its failure does not count as one more. `blocked`: the
        connection waits for an admin anyway (a held plan to review, credentials to fix)."""
        if result in (RunResult.SUCCEEDED, RunResult.HELD):
            healthy = replace(self, consecutive_failures=0, failing_since=None)
            # A held plan waits for its review: planning again would discard it before anyone saw it.
            blocked = blocked or result is RunResult.HELD
            return healthy._next(None if blocked else at + self.interval)
        if result is RunResult.WAITING_FOR_SOURCE:
            return self._next(None if blocked else at + min(self.interval, WAITING_POLL))
        failures = self.consecutive_failures + (0 if retry and self.consecutive_failures else 1)
        failing = replace(self, consecutive_failures=failures, failing_since=self.failing_since or at)
        if blocked or result is RunResult.CREDENTIALS_REJECTED:
            return failing._next(None)
        return failing._next(at + backoff(self.interval, failures))

    def after_review(self, *, at: dt.datetime, blocked: bool = False) -> Schedule:
        """A held run was approved or discarded: the schedule takes the connection back."""
        return self._next(None if blocked else at + self.interval)

    def pause(self) -> Schedule:
        return replace(self, paused=True, next_sync_at=None)

    def resume(self, *, at: dt.datetime, blocked: bool = False) -> Schedule:
        """Due at once: the admin who resumes a connection expects it to catch up now. `blocked`: it
        still waits for something else (a review, new credentials)."""
        return replace(self, paused=False, next_sync_at=None if blocked else at)

    def with_interval(self, interval: dt.timedelta) -> Schedule:
        """The next run moves as if the new interval had been in force since the last one."""
        if self.next_sync_at is None:
            return replace(self, interval=interval)
        last = self.next_sync_at - backoff(self.interval, self.consecutive_failures)
        return replace(self, interval=interval, next_sync_at=last + backoff(interval, self.consecutive_failures))

    def _next(self, at: dt.datetime | None) -> Schedule:
        return replace(self, next_sync_at=None if self.paused else at)


def connection_state(
    *,
    status: str,
    disconnected: bool,
    paused: bool,
    awaiting_review: bool,
    consecutive_failures: int,
) -> ConnectionState:
    if disconnected:
        return ConnectionState.DISCONNECTED
    if paused:
        return ConnectionState.PAUSED
    if status == "broken":
        return ConnectionState.BROKEN
    if awaiting_review:
        return ConnectionState.AWAITING_REVIEW
    if consecutive_failures >= QUARANTINE_AFTER:
        return ConnectionState.QUARANTINED
    if consecutive_failures > 0 or status == "failing":
        return ConnectionState.FAILING
    if status == "waiting":
        return ConnectionState.WAITING
    if status == "new":
        return ConnectionState.NEW
    return ConnectionState.OK
