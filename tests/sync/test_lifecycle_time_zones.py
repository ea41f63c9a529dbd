"""The account's today decides: start and last days are calendar days where the company is.

At 2026-03-02 20:00 UTC it is already Tuesday 3 March in Sydney and still Monday 2 March in Los Angeles.
A last day of 2 March is therefore yesterday in Sydney (the person has left) and today in Los Angeles (the
person works their last day, and the offboarding must still start)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fakes import NOW, ListSource, person
from staffsync.services.directory import list_employees
from staffsync.storage import accounts, connections, models
from staffsync.storage.db import Database
from staffsync.storage.directory import DirectoryView
from staffsync.sync.engine import run_sync

EVENING_UTC = dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC)
LAST_DAY = dt.date(2026, 3, 2)
FIRST_DAY = dt.date(2026, 3, 3)


def synced_account(db: Database, timezone: str) -> str:
    with db.transaction() as session:
        account = accounts.create_account(session, f"Acme {timezone}", timezone=timezone, now=NOW)
        connection = connections.create_connection(session, account.id, name="HR", provider="test", now=NOW)
        account_id, connection_id = account.id, connection.id
    source = ListSource(
        records=[
            person(1, end_date=LAST_DAY, work_email=f"leaver@{timezone.replace('/', '-').lower()}.test"),
            person(2, start_date=FIRST_DAY, work_email=f"joiner@{timezone.replace('/', '-').lower()}.test"),
        ]
    )
    # No `today` given: the engine derives it from the account's time zone and the clock.
    outcome = run_sync(db, connection_id, account_id=account_id, connector=source, now=lambda: EVENING_UTC)
    assert outcome.status == "succeeded", outcome
    return account_id


def event_types(db: Database, account_id: str) -> list[str]:
    with db.session() as session:
        return sorted(
            session.execute(
                select(models.OutboxEvent.type).where(
                    models.OutboxEvent.account_id == account_id, models.OutboxEvent.type.like("%boarding%")
                )
            ).scalars()
        )


def test_a_last_day_that_is_today_in_los_angeles_still_schedules_the_offboarding(db: Database) -> None:
    account_id = synced_account(db, "America/Los_Angeles")
    assert event_types(db, account_id) == ["offboarding.scheduled", "onboarding.scheduled"]


def test_the_same_last_day_is_yesterday_in_sydney_so_a_person_first_seen_now_starts_no_offboarding(
    db: Database,
) -> None:
    account_id = synced_account(db, "Australia/Sydney")
    # The joiner starts today in Sydney: still an onboarding. The leaver left before staffsync knew them.
    assert event_types(db, account_id) == ["onboarding.scheduled"]


def test_the_onboardings_list_follows_the_same_calendar(db: Database) -> None:
    sydney, los_angeles = synced_account(db, "Australia/Sydney"), synced_account(db, "America/Los_Angeles")
    with db.session() as session:
        for account_id, expected_today in ((sydney, dt.date(2026, 3, 3)), (los_angeles, dt.date(2026, 3, 2))):
            account = session.get(models.Account, account_id)
            assert account is not None
            listing = list_employees(session, account, view=DirectoryView.ONBOARDINGS, now=EVENING_UTC)
            assert listing.today == expected_today
            assert [e.start_date for e in listing.page.employees] == [FIRST_DAY]
