"""The sync engine end to end on a real database (SQLite and PostgreSQL): PRODUCT.md §2 and §4."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from fakes import NOW, TODAY, Directory, ListSource, make_directory, person
from staffsync.connectors.base import FetchRequest
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import EmploymentType, EmploymentTypeValue, Ref
from staffsync.services.employees import FieldLocked, edit_employee
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy, connection_lock
from staffsync.sync.apply import ApprovalConflict
from staffsync.sync.engine import OVERLAP, approve_run, discard_run


def set_fields(directory: Directory, **fields: dict[str, object]) -> None:
    with directory.db.transaction() as session:
        connection = connections.get_connection(session, directory.account_id, directory.connection_id)
        assert connection is not None
        current = FieldSettings.from_mapping(connection.field_settings).to_mapping()
        current.update(fields)
        connections.save_field_settings(session, connection, FieldSettings.from_mapping(current), now=NOW)


def set_filters(directory: Directory, **rules: list[str]) -> None:
    with directory.db.transaction() as session:
        connection = connections.get_connection(session, directory.account_id, directory.connection_id)
        assert connection is not None
        connections.save_filters(session, connection, FilterRules.from_mapping(rules), now=NOW)


def hand_edit(directory: Directory, email: str, **values: object) -> None:
    with directory.db.transaction() as session:
        edit_employee(session, directory.account_id, directory.employee(email).id, values, actor="admin:alice", now=NOW)


# --- first sync, idempotence


def test_first_sync_creates_everyone_and_an_identical_second_sync_changes_nothing(directory: Directory) -> None:
    first = directory.sync()
    assert first.status == "succeeded"
    assert first.counts["created"] == 5
    assert set(directory.employees()) == {f"person{n}@acme.test" for n in range(1, 6)}
    # By id, not position: rows come back in no guaranteed order (PostgreSQL reuses freed heap space).
    events_after_first = {event.id for event in directory.events()}
    state = directory.state()

    second = directory.sync()

    assert second.counts["created"] == second.counts["updated"] == 0
    assert second.counts["unchanged"] == 5
    # Only the run's own sync.succeeded event: nothing about any employee.
    new_events = [event for event in directory.events() if event.id not in events_after_first]
    assert [e.type for e in new_events] == ["sync.succeeded"]
    after = directory.state()
    assert after["employees"] == state["employees"] and after["history"] == state["history"]


def test_sync_is_streamed_in_batches_with_the_same_result(db: Database) -> None:
    directory = make_directory(db, ListSource([person(n) for n in range(1, 12)]))
    outcome = directory.sync(batch_size=3)
    assert outcome.counts["created"] == 11


# --- field modes


def test_continuous_field_follows_the_source(directory: Directory) -> None:
    directory.sync()
    directory.source.replace("r1", last_name="Renamed", team=Ref("team-ops", "Operations"))
    outcome = directory.sync()
    employee = directory.employee("person1@acme.test")
    assert outcome.counts["updated"] == 1
    assert employee.last_name == "Renamed" and employee.team_name == "Operations"


def test_hand_edit_of_a_continuous_field_is_refused_naming_the_connection(directory: Directory) -> None:
    directory.sync()
    with pytest.raises(FieldLocked) as refused:
        hand_edit(directory, "person1@acme.test", last_name="Hacked")
    assert "managed by HR sync of Personio DE" in str(refused.value)
    assert directory.employee("person1@acme.test").last_name == "Last1"


def test_import_once_field_is_set_at_creation_and_never_overwritten_after_a_hand_edit(directory: Directory) -> None:
    directory.sync()
    assert directory.employee("person1@acme.test").job_title == "Engineer"
    hand_edit(directory, "person1@acme.test", job_title="Staff Engineer")
    directory.source.replace("r1", job_title="Senior Engineer")
    directory.sync()
    assert directory.employee("person1@acme.test").job_title == "Staff Engineer"


def test_import_once_field_is_filled_later_only_while_empty_and_never_edited(directory: Directory) -> None:
    directory.source.replace("r1", job_title=None)
    directory.source.replace("r2", job_title=None)
    directory.sync()
    hand_edit(directory, "person2@acme.test", job_title=None)  # an explicit edit, even to empty, is the admin's
    with directory.db.transaction() as session:
        session.execute(
            update(models.Employee).where(models.Employee.work_email == "person2@acme.test").values(job_title=None)
        )
    directory.source.replace("r1", job_title="Designer")
    directory.source.replace("r2", job_title="Designer")
    directory.source.replace("r3", job_title="Designer")
    directory.sync()
    assert directory.employee("person1@acme.test").job_title == "Designer"  # was empty, never edited: filled
    assert directory.employee("person3@acme.test").job_title == "Engineer"  # already set: kept


def test_switching_an_optional_field_off_purges_values_and_history_and_stops_storing_it(
    directory: Directory,
) -> None:
    directory.sync()
    directory.source.replace("r1", personal_email="new-private@mail.test")
    assert directory.employee("person1@acme.test").personal_email == "private1@mail.test"

    set_fields(directory, personal_email={"enabled": False})
    directory.sync()

    employees = directory.employees()
    assert all(e.personal_email is None for e in employees.values())
    state = directory.state()
    assert "private" not in str(state["history"]) and "private" not in str(state["employees"])
    assert "personal_email" not in directory.source.requests[-1].fields


def test_switching_a_field_to_continuous_overwrites_hand_values_and_the_dry_run_shows_which(
    directory: Directory,
) -> None:
    directory.sync()
    hand_edit(directory, "person1@acme.test", job_title="Chief Tinkerer")
    set_fields(directory, job_title={"enabled": True, "mode": "continuous"})

    dry = directory.sync(dry_run=True)
    with directory.db.session() as session:
        planned = session.execute(select(models.Change).where(models.Change.run_id == dry.run_id)).scalars().all()
    overrides = [
        (row.employee_id, item["old"], item["new"])
        for row in planned
        for item in row.fields
        if item["overrides_manual"]
    ]
    person1 = directory.employee("person1@acme.test")
    assert overrides == [(person1.id, "Chief Tinkerer", "Engineer")]
    assert person1.job_title == "Chief Tinkerer"

    directory.sync()
    person1 = directory.employee("person1@acme.test")
    assert person1.job_title == "Engineer"
    assert "job_title" not in person1.manually_edited


# --- filters


def test_excluded_people_are_counted_and_leaving_the_filters_detaches_with_the_reason(directory: Directory) -> None:
    directory.source.replace("r1", legal_entity=Ref("le-fr", "Acme SAS"))
    directory.sync()
    set_filters(directory, legal_entities=["le-de"])
    directory.source.replace("r2", legal_entity=Ref("le-fr", "Acme SAS"))

    outcome = directory.sync()

    assert outcome.counts["excluded"] == 2
    assert outcome.counts["detached"] == 2
    for email in ("person1@acme.test", "person2@acme.test"):
        detached = directory.employee(email)
        assert detached.detached_at is not None
        assert "legal entity filter" in (detached.detach_reason or "")
        assert "Acme SAS" in (detached.detach_reason or "")


# --- matching


def test_same_remote_id_stays_the_same_employee_even_when_the_email_changes(directory: Directory) -> None:
    directory.sync()
    before = directory.employee("person1@acme.test").id
    directory.source.replace("r1", work_email="p1.new@acme.test")
    directory.sync()
    assert directory.employee("p1.new@acme.test").id == before
    assert len(directory.employees()) == 5


def test_new_remote_id_with_the_same_work_email_relinks_without_a_duplicate(directory: Directory) -> None:
    directory.sync()
    original = directory.employee("person1@acme.test").id
    # Contractor converted to an employee: the HR system made a new record; the old one ended.
    directory.source.replace("r1", end_date=TODAY - dt.timedelta(days=1))
    directory.source.records.append(person(1, remote_id="r1-new", start_date=TODAY))

    outcome = directory.sync()

    assert len(directory.employees()) == 5
    assert directory.employee("person1@acme.test").id == original
    active = {link.remote_id for link in directory.links() if link.active and link.employee_id == original}
    assert active == {"r1-new"}
    assert outcome.counts["created"] == 0


def test_two_connections_with_the_same_email_give_one_employee_fed_by_the_higher_priority(
    directory: Directory,
) -> None:
    directory.sync()
    second = directory.add_connection("BambooHR US", priority=0)  # 0 outranks the first connection's 1
    other = ListSource([person(1, remote_id="b-1", last_name="FromBamboo")])
    directory.sync(source=other, connection_id=second)

    employees = directory.employees()
    assert len(employees) == 5
    person1 = employees["person1@acme.test"]
    assert person1.last_name == "FromBamboo"
    assert person1.primary_connection_id == second
    assert {(link.connection_id, link.remote_id) for link in directory.links() if link.employee_id == person1.id} == {
        (directory.connection_id, "r1"),
        (second, "b-1"),
    }
    # The lower-priority source no longer writes continuous fields, but keeps its link.
    directory.source.replace("r1", last_name="FromPersonio")
    directory.sync()
    assert directory.employee("person1@acme.test").last_name == "FromBamboo"


# --- detaching and failures


def test_disappearing_from_a_complete_fetch_detaches_with_the_reason(directory: Directory) -> None:
    directory.sync()
    directory.source.remove("r5")
    outcome = directory.sync()
    gone = directory.employee("person5@acme.test")
    assert outcome.counts["detached"] == 1
    assert gone.detach_reason == "No longer returned by the HR system"
    assert [e.type for e in directory.events() if e.type == "employee.detached"] == ["employee.detached"]


def test_an_error_mid_stream_applies_nothing_and_records_a_failed_run(directory: Directory) -> None:
    directory.sync()
    for n in range(1, 6):
        directory.source.replace(f"r{n}", last_name="Changed")
    directory.source.fail_after = 3
    before = directory.state()

    outcome = directory.sync()

    assert outcome.status == "failed"
    assert "ConnectionResetError" in (outcome.error or "")
    after = directory.state()
    assert after["employees"] == before["employees"] and after["source_links"] == before["source_links"]
    assert directory.connection().status == "failing"


# --- safeguards


@pytest.fixture
def big_directory(db: Database) -> Directory:
    directory = make_directory(db, ListSource([person(n) for n in range(1, 21)]))
    directory.sync()
    return directory


def test_mass_detachment_is_held_and_applies_nothing(big_directory: Directory) -> None:
    before = big_directory.state()
    for n in range(1, 6):  # 5 of 20 = 25 %
        big_directory.source.remove(f"r{n}")
    outcome = big_directory.sync()
    assert outcome.status == "held"
    assert any("25%" in reason for reason in outcome.hold_reasons)
    after = big_directory.state()
    assert after["employees"] == before["employees"]
    assert "sync.held" in [e.type for e in big_directory.events()]


def test_new_end_dates_and_detachments_count_together(big_directory: Directory) -> None:
    big_directory.source.remove("r1")
    big_directory.source.remove("r2")
    big_directory.source.replace("r3", end_date=TODAY + dt.timedelta(days=10))
    big_directory.source.replace("r4", end_date=TODAY + dt.timedelta(days=10))
    big_directory.source.replace("r5", end_date=TODAY + dt.timedelta(days=10))
    assert big_directory.sync().status == "held"  # 2 + 3 = 5 of 20


def test_an_empty_feed_while_people_are_linked_is_held(big_directory: Directory) -> None:
    big_directory.source.records = []
    outcome = big_directory.sync()
    assert outcome.status == "held"
    assert any("returned nobody" in reason for reason in outcome.hold_reasons)


def test_approving_a_held_run_applies_exactly_its_plan(big_directory: Directory) -> None:
    for n in range(1, 6):
        big_directory.source.remove(f"r{n}")
    held = big_directory.sync()
    big_directory.source.records = []  # the source changes again after the hold: the plan is what counts

    approved = approve_run(big_directory.db, held.run_id, account_id=big_directory.account_id, actor="admin:alice")

    assert approved.status == "succeeded"
    detached = {e for e, row in big_directory.employees().items() if row.detached_at is not None}
    assert detached == {f"person{n}@acme.test" for n in range(1, 6)}


def test_approval_is_refused_when_people_changed_since_the_hold(big_directory: Directory) -> None:
    for n in range(1, 6):
        big_directory.source.remove(f"r{n}")
    held = big_directory.sync()
    with big_directory.db.transaction() as session:
        session.execute(
            update(models.Employee)
            .where(models.Employee.work_email == "person1@acme.test")
            .values(version=models.Employee.version + 1)
        )
    with pytest.raises(ApprovalConflict, match="changed after it was planned"):
        approve_run(big_directory.db, held.run_id, account_id=big_directory.account_id, actor="admin:alice")
    assert all(row.detached_at is None for row in big_directory.employees().values())


def test_discarding_a_held_run_drops_it(big_directory: Directory) -> None:
    big_directory.source.records = []
    held = big_directory.sync()
    discarded = discard_run(big_directory.db, held.run_id, account_id=big_directory.account_id, actor="admin:alice")
    assert discarded.status == "discarded"
    assert all(row.detached_at is None for row in big_directory.employees().values())
    with pytest.raises(RuntimeError, match="not held"):
        approve_run(big_directory.db, held.run_id, account_id=big_directory.account_id, actor="admin:alice")


def test_thresholds_are_configurable_per_connection(big_directory: Directory) -> None:
    with big_directory.db.transaction() as session:
        session.execute(
            update(models.Connection)
            .where(models.Connection.id == big_directory.connection_id)
            .values(thresholds={"max_share": 0.5, "max_count": 500})
        )
    for n in range(1, 6):
        big_directory.source.remove(f"r{n}")
    assert big_directory.sync().status == "succeeded"


# --- dry run


def test_dry_run_returns_the_plan_and_writes_nothing_but_the_run_record(directory: Directory) -> None:
    before = directory.state()
    outcome = directory.sync(dry_run=True)
    assert outcome.dry_run and outcome.counts["created"] == 5
    assert directory.state() == before
    with directory.db.session() as session:
        run = session.get(models.SyncRun, outcome.run_id)
        assert run is not None and run.dry_run
        planned = session.execute(select(models.Change).where(models.Change.run_id == run.id)).scalars().all()
        assert {row.status for row in planned} == {"simulated"}
        assert len({row.employee_id for row in planned}) == 5


# --- managers


def test_managers_are_resolved_after_the_batch_even_when_they_come_later(db: Database) -> None:
    records = [person(n, manager="r9") for n in range(1, 9)] + [person(9)]
    directory = make_directory(db, ListSource(records))
    directory.sync(batch_size=2)
    boss = directory.employee("person9@acme.test")
    assert {e.manager for email, e in directory.employees().items() if email != "person9@acme.test"} == {boss.id}


def test_missing_manager_and_manager_cycles_are_reported_per_person(db: Database) -> None:
    records = [person(1, manager="r2"), person(2, manager="r1"), person(3, manager="r404"), person(4)]
    directory = make_directory(db, ListSource(records))
    outcome = directory.sync()
    assert outcome.status == "succeeded"
    issues = directory.issues(outcome.run_id)
    assert sorted(i.remote_id for i in issues if i.code == "manager_cycle") == ["r1", "r2"]
    assert [i.remote_id for i in issues if i.code == "manager_not_found"] == ["r3"]
    assert directory.employee("person3@acme.test").manager is None


# --- bad records


def test_bad_records_are_rejected_one_by_one_and_the_rest_syncs(db: Database) -> None:
    records = [
        person(1),
        person(2, work_email=None),
        RejectedRecord("r3", "start_date: '2024-13-45' is not a date", "start_date"),
        person(4, work_email="not-an-email"),
        person(5),
    ]
    directory = make_directory(db, ListSource(records))
    outcome = directory.sync()
    assert outcome.counts["created"] == 2 and outcome.counts["rejected"] == 3
    reasons = {i.remote_id: i.message for i in directory.issues(outcome.run_id) if i.code == "rejected"}
    assert "No professional email" in reasons["r2"]
    assert "2024-13-45" in reasons["r3"]
    assert "not a valid address" in reasons["r4"]


def test_a_rejected_person_already_linked_is_not_detached(directory: Directory) -> None:
    directory.sync()
    directory.source.replace("r1", work_email=None)
    outcome = directory.sync()
    assert outcome.counts["rejected"] == 1 and outcome.counts["detached"] == 0


# --- concurrency


def test_a_second_concurrent_run_of_one_connection_is_refused(directory: Directory) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with connection_lock(directory.db, directory.connection_id):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(ConnectionBusy, match="already running"):
            directory.sync()
    finally:
        release.set()
        holder.join()
    assert directory.sync().status == "succeeded"


# --- lifecycle events


def test_lifecycle_events_are_emitted_once_per_real_change(directory: Directory) -> None:
    directory.source.replace("r1", start_date=TODAY + dt.timedelta(days=7))
    directory.sync()
    directory.source.replace("r2", end_date=TODAY + dt.timedelta(days=14))
    directory.sync()
    directory.sync()
    types = [e.type for e in directory.events()]
    assert types.count("onboarding.scheduled") == 1
    assert types.count("offboarding.scheduled") == 1


def test_a_person_created_by_another_source_during_a_run_fails_it_cleanly_and_the_next_run_links(
    directory: Directory,
) -> None:
    bamboo_id = directory.add_connection("BambooHR US", priority=2)
    bamboo = ListSource([person(7, remote_id="b7")])

    class SlowPersonio(ListSource):
        """Returns person 7 too; the other source's sync completes while this run is still planning."""

        def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
            yield from super().employees(request)
            assert directory.sync(source=bamboo, connection_id=bamboo_id).status == "succeeded"

    personio = SlowPersonio([person(7)])
    # Batches of one: the first batch is planned before the generator resumes and the other sync runs.
    raced = directory.sync(source=personio, batch_size=1)
    assert raced.status == "failed"
    assert raced.error is not None and "Another source of this account changed the same people" in raced.error
    assert len(directory.employees()) == 1
    again = directory.sync(source=ListSource([person(7)]))
    assert again.status == "succeeded"
    assert len(directory.employees()) == 1
    assert {link.connection_id for link in directory.links()} == {directory.connection_id, bamboo_id}


def test_an_end_date_imported_once_starts_no_offboarding(directory: Directory) -> None:
    with directory.db.transaction() as session:
        connection = session.get(models.Connection, directory.connection_id)
        assert connection is not None
        settings = FieldSettings.from_mapping({"end_date": {"enabled": True, "mode": "import_once"}})
        connections.save_field_settings(session, connection, settings, now=NOW)
    directory.source.replace("r2", end_date=TODAY + dt.timedelta(days=14))
    directory.source.records.append(person(40, end_date=TODAY + dt.timedelta(days=30)))
    directory.sync()
    types = [e.type for e in directory.events()]
    assert "employee.created" in types
    assert "offboarding.scheduled" not in types


def test_employment_type_keeps_the_raw_provider_value(directory: Directory) -> None:
    directory.source.replace("r1", employment_type=EmploymentTypeValue(EmploymentType.OTHER, "WORKING_STUDENT"))
    directory.sync()
    assert directory.employee("person1@acme.test").employment_type == {"type": "other", "raw": "WORKING_STUDENT"}


def test_today_is_the_accounts_today_not_the_servers(db: Database) -> None:
    # 23:30 UTC on 1 March is already 2 March in Berlin, the account's time zone.
    late_evening = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    directory = make_directory(db, ListSource([person(1, start_date=dt.date(2026, 3, 2))]))
    directory.sync(now=lambda: late_evening, today=None)
    directory.source.replace("r1", start_date=dt.date(2026, 3, 1))
    directory.sync(now=lambda: late_evening, today=None)
    # Moved to "yesterday" in Berlin: no new onboarding is scheduled for a start date in the past.
    assert [e.type for e in directory.events()].count("onboarding.scheduled") == 1


def test_a_manager_excluded_by_the_filters_is_reported_out_of_scope(db: Database) -> None:
    boss = person(9, legal_entity=Ref("le-fr", "Acme SAS"))
    directory = make_directory(db, ListSource([person(1, manager="r9"), boss]))
    set_filters(directory, legal_entities=["le-de"])
    outcome = directory.sync()
    issues = [i for i in directory.issues(outcome.run_id) if i.field == "manager"]
    assert [(i.remote_id, i.code) for i in issues] == [("r1", "manager_out_of_scope")]
    assert directory.employee("person1@acme.test").manager is None


def test_incremental_runs_start_at_the_watermark_and_never_detach(db: Database) -> None:
    source = ListSource([person(n) for n in range(1, 6)], supports_incremental=True)
    directory = make_directory(db, source)
    first = directory.sync()
    assert first.kind == "full" and source.requests[-1].updated_after is None

    source.remove("r5")
    later = NOW + dt.timedelta(hours=1)
    second = directory.sync(now=lambda: later)

    assert second.kind == "incremental"
    assert source.requests[-1].updated_after == NOW - OVERLAP
    assert second.counts["detached"] == 0
    assert directory.employee("person5@acme.test").detached_at is None


def test_a_full_fetch_runs_daily_and_whenever_settings_change(db: Database) -> None:
    source = ListSource([person(n) for n in range(1, 6)], supports_incremental=True)
    directory = make_directory(db, source)
    directory.sync()
    assert directory.sync(now=lambda: NOW + dt.timedelta(hours=1)).kind == "incremental"
    assert directory.sync(now=lambda: NOW + dt.timedelta(hours=25)).kind == "full"
    set_filters(directory, teams=["team-eng"])
    with directory.db.transaction() as session:
        session.execute(
            update(models.Connection)
            .where(models.Connection.id == directory.connection_id)
            .values(settings_changed_at=NOW + dt.timedelta(hours=26))
        )
    assert directory.sync(now=lambda: NOW + dt.timedelta(hours=27)).kind == "full"


def test_a_newer_run_supersedes_an_older_held_plan(big_directory: Directory) -> None:
    big_directory.source.records = []
    first = big_directory.sync()
    second = big_directory.sync()
    assert first.status == second.status == "held"
    with big_directory.db.session() as session:
        older = session.get(models.SyncRun, first.run_id)
        assert older is not None and older.status == "discarded"
        assert older.resolved_by == f"superseded by run {second.run_id}"
    with pytest.raises(RuntimeError, match="not held"):
        approve_run(big_directory.db, first.run_id, account_id=big_directory.account_id, actor="admin:alice")


def test_losing_one_of_two_sources_detaches_the_link_not_the_employee(directory: Directory) -> None:
    directory.sync()
    second = directory.add_connection("BambooHR US", priority=5)
    other = ListSource([person(1, remote_id="b-1")])
    directory.sync(source=other, connection_id=second)
    other.records = []
    other.records.append(person(2, remote_id="b-2"))
    directory.sync(source=other, connection_id=second)

    person1 = directory.employee("person1@acme.test")
    assert person1.detached_at is None
    assert [link.active for link in directory.links() if link.remote_id == "b-1"] == [False]
    assert "employee.detached" not in [e.type for e in directory.events()]


def test_a_disconnected_connection_does_not_sync(directory: Directory) -> None:
    from staffsync.sync.engine import ConnectionDisconnected

    with directory.db.transaction() as session:
        session.execute(
            update(models.Connection).where(models.Connection.id == directory.connection_id).values(disconnected_at=NOW)
        )
    with pytest.raises(ConnectionDisconnected):
        directory.sync()


def test_a_failure_while_applying_rolls_everything_back_and_fails_the_run(
    directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from staffsync.sync import apply

    directory.sync()
    directory.source.replace("r1", last_name="Changed")
    before = directory.state()

    def broken_update(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply.employee_store, "update_employees", broken_update)
    outcome = directory.sync()

    assert outcome.status == "failed"
    assert "RuntimeError" in (outcome.error or "")
    assert directory.state()["employees"] == before["employees"]
    with directory.db.session() as session:
        run = session.get(models.SyncRun, outcome.run_id)
        assert run is not None and run.status == "failed" and run.finished_at is not None


def test_a_run_cut_off_by_a_dead_process_is_marked_abandoned_and_the_next_run_re_plans(directory: Directory) -> None:
    import uuid

    directory.sync()
    dead_run = str(uuid.uuid4())
    with directory.db.transaction() as session:
        session.add(
            models.SyncRun(
                id=dead_run,
                account_id=directory.account_id,
                connection_id=directory.connection_id,
                trigger="schedule",
                kind="full",
                status="running",
                started_at=NOW,
                hold_reasons=[],
                timings={},
            )
        )
    directory.source.replace("r1", last_name="AfterTheCrash")

    assert directory.sync().status == "succeeded"

    assert directory.employee("person1@acme.test").last_name == "AfterTheCrash"
    with directory.db.session() as session:
        dead = session.get(models.SyncRun, dead_run)
        assert dead is not None and dead.status == "failed" and dead.error_kind == "abandoned"
    # Subscribers hear that the run ended: one sync.failed event, with the reason.
    [failed] = [e for e in directory.events() if e.type == "sync.failed" and e.data["run_id"] == dead_run]
    assert "its process ended" in failed.data["error"]
