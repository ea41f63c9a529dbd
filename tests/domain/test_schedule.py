"""The schedule of one connection: interval, back-off, quarantine and what stops it (PRODUCT.md §6)."""

from __future__ import annotations

import datetime as dt

import pytest

from staffsync.domain.schedule import (
    QUARANTINE_AFTER,
    ConnectionState,
    InvalidInterval,
    RunResult,
    Schedule,
    backoff,
    check_interval,
    connection_state,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def hourly(**changes: object) -> Schedule:
    return Schedule(interval=HOUR, next_sync_at=T0, **changes)  # type: ignore[arg-type]


def test_a_success_schedules_the_next_run_one_interval_later() -> None:
    after = hourly().after_run(RunResult.SUCCEEDED, at=T0 + dt.timedelta(minutes=3))
    assert after.next_sync_at == T0 + dt.timedelta(hours=1, minutes=3)
    assert after.consecutive_failures == 0


def test_repeated_failures_back_off_one_two_four_hours_then_daily() -> None:
    schedule, at, waits = hourly(), T0, []
    for _ in range(6):
        schedule = schedule.after_run(RunResult.FAILED, at=at)
        assert schedule.next_sync_at is not None
        waits.append(schedule.next_sync_at - at)
        at = schedule.next_sync_at
    hours = [wait / HOUR for wait in waits]
    assert hours == [1, 2, 4, 24, 24, 24]
    assert schedule.consecutive_failures == 6
    assert schedule.quarantined


def test_the_failure_streak_remembers_when_it_began_and_a_success_resets_it() -> None:
    failing = hourly().after_run(RunResult.FAILED, at=T0).after_run(RunResult.FAILED, at=T0 + HOUR)
    assert failing.failing_since == T0
    assert failing.consecutive_failures == 2

    recovered = failing.after_run(RunResult.SUCCEEDED, at=T0 + 3 * HOUR)

    assert (recovered.consecutive_failures, recovered.failing_since) == (0, None)
    assert recovered.next_sync_at == T0 + 4 * HOUR
    assert not recovered.quarantined


def test_quarantine_starts_at_the_fourth_failed_slot_in_a_row() -> None:
    schedule = hourly()
    for n in range(QUARANTINE_AFTER):
        assert not schedule.quarantined
        schedule = schedule.after_run(RunResult.FAILED, at=T0 + n * HOUR)
    assert schedule.quarantined


def test_retries_of_one_slot_do_not_count_as_more_failed_slots() -> None:
    first = hourly().after_run(RunResult.FAILED, at=T0)
    retried = first.after_run(RunResult.FAILED, at=T0 + dt.timedelta(minutes=2), retry=True)
    assert retried.consecutive_failures == 1
    assert retried.failing_since == T0
    assert retried.next_sync_at == T0 + dt.timedelta(minutes=2) + HOUR


def test_a_retry_that_fails_first_still_counts_once() -> None:
    assert hourly().after_run(RunResult.FAILED, at=T0, retry=True).consecutive_failures == 1


def test_rejected_credentials_stop_the_schedule_until_an_admin_fixes_them() -> None:
    broken = hourly().after_run(RunResult.CREDENTIALS_REJECTED, at=T0)
    assert broken.next_sync_at is None
    assert broken.consecutive_failures == 1
    assert not broken.is_due(T0 + dt.timedelta(days=30))

    # The admin fixes the credentials and presses Sync now: the success puts it back on the schedule.
    fixed = broken.after_run(RunResult.SUCCEEDED, at=T0 + dt.timedelta(days=2))
    assert fixed.next_sync_at == T0 + dt.timedelta(days=2) + HOUR


def test_a_held_run_waits_for_its_review_and_the_review_puts_the_connection_back() -> None:
    held = hourly(consecutive_failures=2, failing_since=T0).after_run(RunResult.HELD, at=T0)
    assert held.next_sync_at is None
    # The fetch worked: the source is healthy again, whatever the admin decides about the plan.
    assert held.consecutive_failures == 0

    reviewed = held.after_review(at=T0 + 5 * HOUR)
    assert reviewed.next_sync_at == T0 + 6 * HOUR


def test_a_failure_while_a_plan_waits_for_review_keeps_the_schedule_stopped() -> None:
    after = hourly().after_run(RunResult.FAILED, at=T0, blocked=True)
    assert after.next_sync_at is None
    assert after.consecutive_failures == 1


def test_a_source_still_being_set_up_is_asked_again_within_a_quarter_of_an_hour_without_counting_a_failure() -> None:
    waiting = hourly().after_run(RunResult.WAITING_FOR_SOURCE, at=T0)
    assert waiting.next_sync_at == T0 + dt.timedelta(minutes=15)
    assert waiting.consecutive_failures == 0
    five_minutely = Schedule(interval=dt.timedelta(minutes=5), next_sync_at=T0)
    assert five_minutely.after_run(RunResult.WAITING_FOR_SOURCE, at=T0).next_sync_at == T0 + dt.timedelta(minutes=5)


def test_a_paused_connection_has_no_next_run_whatever_happens() -> None:
    paused = hourly().pause()
    assert paused.next_sync_at is None
    assert paused.after_run(RunResult.SUCCEEDED, at=T0).next_sync_at is None
    assert paused.after_run(RunResult.FAILED, at=T0).next_sync_at is None
    assert not paused.is_due(T0)


def test_resuming_makes_the_connection_due_at_once_unless_it_waits_for_an_admin() -> None:
    paused = hourly().pause()
    assert paused.resume(at=T0 + HOUR).next_sync_at == T0 + HOUR
    assert paused.resume(at=T0 + HOUR).is_due(T0 + HOUR)
    assert paused.resume(at=T0 + HOUR, blocked=True).next_sync_at is None


def test_changing_the_interval_moves_the_next_run_as_if_it_had_always_been_in_force() -> None:
    schedule = hourly().after_run(RunResult.SUCCEEDED, at=T0)  # next at T0 + 1 h
    assert schedule.with_interval(dt.timedelta(minutes=15)).next_sync_at == T0 + dt.timedelta(minutes=15)
    assert schedule.with_interval(dt.timedelta(hours=3)).next_sync_at == T0 + 3 * HOUR
    backed_off = hourly().after_run(RunResult.FAILED, at=T0).after_run(RunResult.FAILED, at=T0 + HOUR)
    # Two failures: twice the interval, from the second failure on.
    assert backed_off.with_interval(dt.timedelta(minutes=30)).next_sync_at == T0 + 2 * HOUR


def test_backoff_is_never_more_frequent_than_the_interval() -> None:
    weekly = dt.timedelta(days=7)
    assert backoff(weekly, 2) == weekly
    assert backoff(weekly, 10) == weekly
    assert backoff(dt.timedelta(minutes=5), 3) == dt.timedelta(minutes=20)


@pytest.mark.parametrize("minutes", [4, 0, -60, 7 * 24 * 60 + 1])
def test_intervals_outside_five_minutes_to_a_week_are_refused(minutes: int) -> None:
    with pytest.raises(InvalidInterval, match="every 5 to 10080 minutes"):
        check_interval(minutes)


def test_the_interval_bounds_themselves_are_accepted() -> None:
    assert check_interval(5) == 5
    assert check_interval(10080) == 10080


def state(**overrides: object) -> ConnectionState:
    values: dict[str, object] = {
        "status": "ok",
        "disconnected": False,
        "paused": False,
        "awaiting_review": False,
        "consecutive_failures": 0,
    }
    values.update(overrides)
    return connection_state(**values)  # type: ignore[arg-type]


def test_the_connection_state_names_the_most_pressing_fact() -> None:
    assert state() is ConnectionState.OK
    assert state(status="new") is ConnectionState.NEW
    assert state(status="waiting") is ConnectionState.WAITING
    assert state(status="failing", consecutive_failures=1) is ConnectionState.FAILING
    assert state(status="failing", consecutive_failures=QUARANTINE_AFTER) is ConnectionState.QUARANTINED
    assert state(awaiting_review=True, consecutive_failures=5) is ConnectionState.AWAITING_REVIEW
    assert state(status="broken", awaiting_review=True) is ConnectionState.BROKEN
    assert state(status="broken", paused=True) is ConnectionState.PAUSED
    assert state(paused=True, disconnected=True) is ConnectionState.DISCONNECTED
