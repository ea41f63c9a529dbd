"""The retry schedule: Standard Webhooks' recommendation, stretched to about three days."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from fakes import NOW
from staffsync.webhooks.policy import RetryPolicy


def test_the_default_schedule_starts_like_standard_webhooks_and_spans_three_days() -> None:
    policy = RetryPolicy()
    assert policy.delays[:7] == (
        dt.timedelta(seconds=5),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
        dt.timedelta(hours=2),
        dt.timedelta(hours=5),
        dt.timedelta(hours=10),
        dt.timedelta(hours=10),
    )
    assert policy.window == dt.timedelta(days=3, seconds=5)
    assert policy.max_attempts == 13


def test_jitter_only_lengthens_a_wait_and_by_at_most_ten_percent() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    for _ in range(100):
        wait = policy.next_attempt(4, NOW, rng)
        assert wait is not None
        assert dt.timedelta(hours=2) <= wait - NOW <= dt.timedelta(hours=2.2)


def test_the_schedule_ends_after_the_last_attempt() -> None:
    policy = RetryPolicy(jitter=0)
    assert policy.next_attempt(1, NOW) == NOW + dt.timedelta(seconds=5)
    assert policy.next_attempt(policy.max_attempts, NOW) is None


def test_a_schedule_spanning_another_window_keeps_the_shape_and_ends_exactly_at_the_window() -> None:
    week = RetryPolicy.spanning(dt.timedelta(days=7))
    assert week.delays[:7] == RetryPolicy().delays[:7]
    assert set(week.delays[7:-1]) == {dt.timedelta(hours=10)}
    assert week.window == dt.timedelta(days=7)
    assert week.max_attempts == 23

    hour = RetryPolicy.spanning(dt.timedelta(hours=1), jitter=0)
    assert hour.delays == (
        dt.timedelta(seconds=5),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
        dt.timedelta(minutes=24, seconds=55),
    )
    assert hour.next_attempt(hour.max_attempts, NOW) is None


def test_a_window_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        RetryPolicy.spanning(dt.timedelta(0))
