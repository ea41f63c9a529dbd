"""How long and how often a failing delivery is retried, and when an endpoint is given up on."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

_s = dt.timedelta(seconds=1)
_m = dt.timedelta(minutes=1)
_h = dt.timedelta(hours=1)

# Standard Webhooks' recommended schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) stretched
# with further 10-hour gaps so a receiver may be down for about three days without losing anything; the
# last gap is shortened so that the window closes at three days rather than past them.
DEFAULT_DELAYS: tuple[dt.timedelta, ...] = (
    5 * _s,
    5 * _m,
    30 * _m,
    2 * _h,
    5 * _h,
    10 * _h,
    10 * _h,
    10 * _h,
    10 * _h,
    10 * _h,
    10 * _h,
    4 * _h + 25 * _m,
)


# The gaps both schedules start with: Standard Webhooks' recommendation after the immediate first attempt.
_STANDARD_START = DEFAULT_DELAYS[:7]
_LATER_GAP = 10 * _h


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`delays[n]` is the wait after the (n+1)-th failed attempt; once they are used up the delivery fails.

    `disable_after` counts dead letters, not attempts: each dead letter already means a whole retry window
    of failures (three days by default), and counting attempts would switch off an endpoint that is merely
    down for an afternoon — after which fan-out would skip it and its events would be lost for good."""

    delays: tuple[dt.timedelta, ...] = DEFAULT_DELAYS
    # Up to +10 % on each wait, so that receivers coming back from an outage are not hit by every
    # backlogged delivery in the same second.
    jitter: float = 0.1
    disable_after: int = 10

    @classmethod
    def spanning(cls, window: dt.timedelta, *, jitter: float = 0.1, disable_after: int = 10) -> RetryPolicy:
        """The default schedule's shape over another window (an installation's setting): Standard Webhooks'
        gaps, then 10-hour ones, the last cut so that the waits add up to `window` exactly."""
        if window <= dt.timedelta(0):
            raise ValueError("a retry window must be longer than zero")
        delays: list[dt.timedelta] = []
        for gap in itertools.chain(_STANDARD_START, itertools.repeat(_LATER_GAP)):
            waited = sum(delays, dt.timedelta())
            if waited + gap >= window:
                delays.append(window - waited)
                break
            delays.append(gap)
        return cls(delays=tuple(delays), jitter=jitter, disable_after=disable_after)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    @property
    def window(self) -> dt.timedelta:
        return sum(self.delays, dt.timedelta())

    def next_attempt(self, attempts: int, now: dt.datetime, rng: random.Random | None = None) -> dt.datetime | None:
        """When to try again after `attempts` failed attempts, or None when the schedule is exhausted."""
        if attempts >= self.max_attempts:
            return None
        delay = self.delays[attempts - 1]
        if self.jitter:
            delay += delay * (rng or random).uniform(0, self.jitter)
        return now + delay
