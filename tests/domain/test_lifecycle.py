"""Where a person stands, from their dates and the account's `today` (PRODUCT.md §5)."""

from __future__ import annotations

import datetime as dt

from staffsync.domain.lifecycle import (
    DEPARTED_VISIBLE_DAYS,
    LifecycleStatus,
    is_listed_offboarding,
    is_onboarding,
    lifecycle_status,
)

TODAY = dt.date(2025, 3, 31)
DAY = dt.timedelta(days=1)


def test_future_start_is_upcoming_and_onboarding():
    assert lifecycle_status(TODAY + DAY, None, today=TODAY) is LifecycleStatus.UPCOMING
    assert is_onboarding(TODAY + DAY, today=TODAY)


def test_start_today_is_active_and_onboarding():
    assert lifecycle_status(TODAY, None, today=TODAY) is LifecycleStatus.ACTIVE
    assert is_onboarding(TODAY, today=TODAY)


def test_start_yesterday_is_active_and_no_longer_onboarding():
    assert lifecycle_status(TODAY - DAY, None, today=TODAY) is LifecycleStatus.ACTIVE
    assert not is_onboarding(TODAY - DAY, today=TODAY)


def test_no_dates_is_active_and_not_onboarding():
    assert lifecycle_status(None, None, today=TODAY) is LifecycleStatus.ACTIVE
    assert not is_onboarding(None, today=TODAY)


def test_future_end_date_is_offboarding():
    assert lifecycle_status(TODAY - 100 * DAY, TODAY + 10 * DAY, today=TODAY) is LifecycleStatus.OFFBOARDING
    assert lifecycle_status(None, TODAY + DAY, today=TODAY) is LifecycleStatus.OFFBOARDING


def test_end_today_is_offboarding():
    assert lifecycle_status(TODAY - 100 * DAY, TODAY, today=TODAY) is LifecycleStatus.OFFBOARDING


def test_end_yesterday_is_departed():
    assert lifecycle_status(TODAY - 100 * DAY, TODAY - DAY, today=TODAY) is LifecycleStatus.DEPARTED
    assert lifecycle_status(None, TODAY - DAY, today=TODAY) is LifecycleStatus.DEPARTED


def test_future_hire_with_a_fixed_term_is_upcoming_until_the_start():
    start, end = TODAY + 5 * DAY, TODAY + 200 * DAY
    assert lifecycle_status(start, end, today=TODAY) is LifecycleStatus.UPCOMING
    assert lifecycle_status(start, end, today=start) is LifecycleStatus.OFFBOARDING


def test_one_day_contract_today_is_offboarding_and_onboarding():
    assert lifecycle_status(TODAY, TODAY, today=TODAY) is LifecycleStatus.OFFBOARDING
    assert is_onboarding(TODAY, today=TODAY)


def test_offboardings_are_listed_for_upcoming_and_today_departures():
    assert is_listed_offboarding(TODAY + 365 * DAY, today=TODAY)
    assert is_listed_offboarding(TODAY, today=TODAY)


def test_offboardings_stay_listed_up_to_30_days_after_the_last_day():
    assert DEPARTED_VISIBLE_DAYS == 30
    assert is_listed_offboarding(TODAY - DAY, today=TODAY)
    assert is_listed_offboarding(TODAY - 30 * DAY, today=TODAY)
    assert not is_listed_offboarding(TODAY - 31 * DAY, today=TODAY)


def test_no_end_date_is_no_offboarding():
    assert not is_listed_offboarding(None, today=TODAY)


def test_status_crosses_every_boundary_over_a_contract():
    start, end = dt.date(2025, 1, 10), dt.date(2025, 1, 20)
    seen = {day: lifecycle_status(start, end, today=day) for day in (start - DAY, start, end, end + DAY)}
    assert list(seen.values()) == [
        LifecycleStatus.UPCOMING,
        LifecycleStatus.OFFBOARDING,
        LifecycleStatus.OFFBOARDING,
        LifecycleStatus.DEPARTED,
    ]
