"""Lifecycle events of syncs and manual actions on a real directory (PRODUCT.md §5): hidden people and ignored
onboardings start no workflow, a rehire cancels the departure and schedules the new start whichever record
HR rehires under, and an event is written in the same transaction as the change it reports."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from fakes import NOW, TODAY, Directory, ListSource, make_directory, person
from staffsync.domain.fields import FieldSettings
from staffsync.services.employees import InvalidEdit, edit_employee, set_flag
from staffsync.storage import connections, models
from staffsync.storage.db import Database

DAY = dt.timedelta(days=1)


@pytest.fixture
def directory(db: Database) -> Directory:
    directory = make_directory(db, ListSource([person(n) for n in range(1, 4)]))
    assert directory.sync().status == "succeeded"
    return directory


class Events:
    """The events a directory gained since the last look, as (type, employee id) in the order written."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.seen = {event.id for event in directory.events()}

    def new(self) -> list[tuple[str, str | None]]:
        fresh = sorted((e for e in self.directory.events() if e.id not in self.seen), key=lambda e: e.id)
        self.seen.update(event.id for event in fresh)
        return [(event.type, event.data.get("employee_id")) for event in fresh if event.type != "sync.succeeded"]


def flag(directory: Directory, email: str, name: str, value: bool = True) -> str:
    employee_id = directory.employee(email).id
    with directory.db.transaction() as session:
        set_flag(session, directory.account_id, employee_id, flag=name, value=value, actor="admin:ada", now=NOW)
    return employee_id


def test_a_hidden_person_keeps_syncing_but_starts_no_onboarding_or_offboarding(directory: Directory) -> None:
    events = Events(directory)
    hidden = flag(directory, "person1@acme.test", "hidden")
    assert events.new() == [("employee.hidden", hidden)]

    directory.source.replace("r1", start_date=TODAY + 5 * DAY, end_date=TODAY + 60 * DAY, last_name="Married")
    assert directory.sync().status == "succeeded"
    assert directory.employee("person1@acme.test").last_name == "Married"
    assert events.new() == [("employee.updated", hidden)]

    directory.source.replace("r1", end_date=None)
    assert directory.sync().status == "succeeded"
    assert events.new() == [("employee.updated", hidden)]


def test_an_ignored_onboarding_is_announced_once_and_a_later_start_date_move_schedules_nothing(
    directory: Directory,
) -> None:
    events = Events(directory)
    directory.source.replace("r2", start_date=TODAY + 5 * DAY)
    assert directory.sync().status == "succeeded"
    joiner = directory.employee("person2@acme.test").id
    assert events.new() == [("employee.updated", joiner), ("onboarding.scheduled", joiner)]

    flag(directory, "person2@acme.test", "onboarding_ignored")
    assert events.new() == [("onboarding.ignored", joiner)]

    directory.source.replace("r2", start_date=TODAY + 9 * DAY, end_date=TODAY + 90 * DAY)
    assert directory.sync().status == "succeeded"
    assert events.new() == [("employee.updated", joiner)]


def test_a_rehire_under_the_same_record_cancels_the_departure_and_schedules_the_new_start(
    directory: Directory,
) -> None:
    events = Events(directory)
    directory.source.replace("r3", end_date=TODAY - 40 * DAY)
    assert directory.sync().status == "succeeded"
    leaver = directory.employee("person3@acme.test").id
    assert events.new() == [("employee.updated", leaver), ("offboarding.scheduled", leaver)]

    directory.source.replace("r3", end_date=None, start_date=TODAY + 14 * DAY)
    assert directory.sync().status == "succeeded"
    assert events.new() == [
        ("employee.updated", leaver),
        ("onboarding.scheduled", leaver),
        ("offboarding.cancelled", leaver),
    ]
    assert directory.sync().status == "succeeded"
    assert events.new() == []


def test_a_rehire_under_a_new_record_relinks_the_detached_person_and_schedules_the_new_start(
    directory: Directory,
) -> None:
    events = Events(directory)
    directory.source.replace("r3", end_date=TODAY - 40 * DAY)
    assert directory.sync().status == "succeeded"
    directory.source.remove("r3")
    assert directory.sync().status == "succeeded"
    leaver = directory.employee("person3@acme.test").id
    assert [t for t, _ in events.new()] == ["employee.updated", "offboarding.scheduled", "employee.detached"]

    # The HR system files the returning employee as a new record with the same work email.
    directory.source.records.append(person(3, remote_id="r3-rehired", start_date=TODAY + 20 * DAY))
    assert directory.sync().status == "succeeded"

    assert directory.employee("person3@acme.test").id == leaver
    assert directory.employee("person3@acme.test").detached_at is None
    assert events.new() == [
        ("employee.updated", leaver),
        ("onboarding.scheduled", leaver),
        ("offboarding.cancelled", leaver),
    ]


def test_a_hand_edit_and_its_event_are_written_in_one_transaction(directory: Directory) -> None:
    events = Events(directory)
    employee_id = directory.employee("person1@acme.test").id
    with pytest.raises(RuntimeError), directory.db.transaction() as session:
        edit_employee(session, directory.account_id, employee_id, {"job_title": "CTO"}, actor="admin:ada", now=NOW)
        raise RuntimeError("the request failed after the edit")
    assert directory.employee("person1@acme.test").job_title == "Engineer"
    assert events.new() == []

    with directory.db.transaction() as session:
        edit_employee(session, directory.account_id, employee_id, {"job_title": "CTO"}, actor="admin:ada", now=NOW)
    assert events.new() == [("employee.updated", employee_id)]


def test_a_flag_and_its_event_are_written_in_one_transaction(directory: Directory) -> None:
    events = Events(directory)
    employee_id = directory.employee("person1@acme.test").id
    with pytest.raises(RuntimeError), directory.db.transaction() as session:
        set_flag(session, directory.account_id, employee_id, flag="hidden", value=True, actor="admin:ada", now=NOW)
        raise RuntimeError("the request failed after hiding")
    assert directory.employee("person1@acme.test").hidden is False
    assert events.new() == []

    flag(directory, "person1@acme.test", "hidden")
    assert directory.employee("person1@acme.test").hidden is True
    assert events.new() == [("employee.hidden", employee_id)]


def import_once(db: Database, *fields: str) -> Directory:
    """One person synced from a source that only imports these fields, which leaves them to hand edits."""
    directory = make_directory(db, ListSource([person(1)]))
    with db.transaction() as session:
        connection = session.get(models.Connection, directory.connection_id)
        assert connection is not None
        settings = FieldSettings.from_mapping({name: {"enabled": True, "mode": "import_once"} for name in fields})
        connections.save_field_settings(session, connection, settings, now=NOW)
    assert directory.sync().status == "succeeded"
    return directory


def edit(directory: Directory, employee_id: str, field: str, value: dt.date, *, now: dt.datetime = NOW) -> None:
    with directory.db.transaction() as session:
        edit_employee(session, directory.account_id, employee_id, {field: value}, actor="admin:ada", now=now)


def test_a_start_date_moved_by_hand_into_the_future_schedules_the_onboarding(db: Database) -> None:
    directory = import_once(db, "start_date")
    events = Events(directory)
    employee_id = directory.employee("person1@acme.test").id

    edit(directory, employee_id, "start_date", TODAY + 30 * DAY)

    assert events.new() == [("employee.updated", employee_id), ("onboarding.scheduled", employee_id)]
    [scheduled] = [e for e in directory.events() if e.type == "onboarding.scheduled"]
    assert scheduled.data == {
        "employee_id": employee_id,
        "start_date": (TODAY + 30 * DAY).isoformat(),
        "by": "admin:ada",
    }


def test_a_hand_edit_schedules_no_workflow_for_a_past_start_an_end_date_or_a_hidden_person(db: Database) -> None:
    directory = import_once(db, "start_date", "end_date")
    events = Events(directory)
    employee_id = directory.employee("person1@acme.test").id

    # 23:30 in UTC is already the next day in the account's Berlin: yesterday's start date is past there.
    late_evening = dt.datetime.combine(TODAY - DAY, dt.time(23, 30), tzinfo=dt.UTC)
    edit(directory, employee_id, "start_date", TODAY - DAY, now=late_evening)
    assert events.new() == [("employee.updated", employee_id)]

    # Only a continuous end date drives offboardings (PRODUCT.md §5); one typed in by hand is not.
    edit(directory, employee_id, "end_date", TODAY + 30 * DAY)
    assert events.new() == [("employee.updated", employee_id)]

    flag(directory, "person1@acme.test", "hidden")
    assert events.new() == [("employee.hidden", employee_id)]
    edit(directory, employee_id, "start_date", TODAY + 30 * DAY)
    assert events.new() == [("employee.updated", employee_id)]


def test_a_hand_edit_of_a_detached_person_schedules_no_onboarding(db: Database) -> None:
    directory = import_once(db, "start_date")
    events = Events(directory)
    # One of thirty dropped by the source: detached, not held as a suspicious loss.
    directory.source.records.extend(person(n) for n in range(2, 31))
    assert directory.sync().status == "succeeded"
    directory.source.remove("r1")
    assert directory.sync().status == "succeeded"
    employee_id = directory.employee("person1@acme.test").id
    assert directory.employee("person1@acme.test").detached_at is not None
    events.new()

    edit(directory, employee_id, "start_date", TODAY + 30 * DAY)

    assert events.new() == [("employee.updated", employee_id)], "detached people are out of every workflow"


def test_an_edit_of_another_field_is_not_refused_for_dates_that_already_disagree(db: Database) -> None:
    """A hand-set start and a synced end may disagree; only an edit of a date is held to the rule."""
    directory = import_once(db, "start_date", "end_date")
    employee_id = directory.employee("person1@acme.test").id
    edit(directory, employee_id, "end_date", TODAY + 10 * DAY)
    with directory.db.transaction() as session:
        session.execute(
            update(models.Employee).where(models.Employee.id == employee_id).values(start_date=TODAY + 20 * DAY)
        )

    with directory.db.transaction() as session:
        changed = edit_employee(
            session, directory.account_id, employee_id, {"job_title": "Lead"}, actor="admin:ada", now=NOW
        )
    assert changed is not None
    with pytest.raises(InvalidEdit, match="is before start date"):
        edit(directory, employee_id, "end_date", TODAY + 15 * DAY)
