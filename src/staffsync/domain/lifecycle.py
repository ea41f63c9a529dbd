"""Where a person stands in their employment, from their dates and the account's `today`."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

# Offboardings stay listed for a while after the last day, so IT can finish recovering equipment.
DEPARTED_VISIBLE_DAYS = 30


class LifecycleStatus(StrEnum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    OFFBOARDING = "offboarding"
    DEPARTED = "departed"


def lifecycle_status(start_date: dt.date | None, end_date: dt.date | None, *, today: dt.date) -> LifecycleStatus:
    """The last day of work is `end_date` itself: a person leaving today is still offboarding."""
    if end_date is not None and end_date < today:
        return LifecycleStatus.DEPARTED
    if start_date is not None and start_date > today:
        return LifecycleStatus.UPCOMING
    if end_date is not None:
        return LifecycleStatus.OFFBOARDING
    return LifecycleStatus.ACTIVE


def is_onboarding(start_date: dt.date | None, *, today: dt.date) -> bool:
    return start_date is not None and start_date >= today


def is_listed_offboarding(end_date: dt.date | None, *, today: dt.date) -> bool:
    """Upcoming departures, and departures of the last DEPARTED_VISIBLE_DAYS days."""
    return end_date is not None and end_date >= today - dt.timedelta(days=DEPARTED_VISIBLE_DAYS)
