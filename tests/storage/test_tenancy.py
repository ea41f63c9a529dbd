"""Tenancy is absolute: nothing of one account is visible or changeable from another (repository level)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fakes import NOW, ListSource, make_directory, person
from staffsync.domain.fields import FieldSettings
from staffsync.services.employees import EmployeeNotFound, edit_employee, set_flag
from staffsync.storage import connections, employees, models, runs
from staffsync.storage.db import Database
from staffsync.sync.engine import approve_run, discard_run


@pytest.fixture
def two_accounts(db: Database) -> tuple[object, object]:
    ours = make_directory(db, ListSource([person(n) for n in range(1, 4)]))
    theirs = make_directory(db, ListSource([person(n) for n in range(1, 4)]))
    ours.sync()
    theirs.sync()
    return ours, theirs


def test_the_same_work_email_in_two_accounts_is_two_employees(db: Database, two_accounts: tuple) -> None:
    with db.session() as session:
        rows = session.execute(select(models.Employee.account_id, models.Employee.work_email)).all()
    assert len(rows) == 6 and len({account for account, _ in rows}) == 2


def test_repositories_never_return_another_accounts_rows(db: Database, two_accounts: tuple) -> None:
    ours, theirs = two_accounts
    with db.session() as session:
        their_ids = [e.id for e in theirs.employees().values()]
        assert employees.employees_by_id(session, ours.account_id, their_ids) == {}
        assert employees.employees_by_email(session, ours.account_id, ["person1@acme.test"]).keys() == {
            "person1@acme.test"
        }
        assert all(
            e.id not in their_ids
            for e in employees.employees_by_email(session, ours.account_id, ["person1@acme.test"]).values()
        )
        assert employees.links_by_remote_id(session, ours.account_id, theirs.connection_id, ["r1"]) == {}
        assert employees.count_active_links(session, ours.account_id, theirs.connection_id) == 0
        assert connections.get_connection(session, ours.account_id, theirs.connection_id) is None
        assert [c.id for c in connections.list_connections(session, ours.account_id)] == [ours.connection_id]
        their_run = runs.list_runs(session, theirs.account_id, theirs.connection_id)[0]
        assert runs.get_run(session, ours.account_id, their_run.id) is None
        assert runs.run_changes(session, ours.account_id, their_run.id) == []
        assert runs.employee_history(session, ours.account_id, their_ids[0]) == []


def test_another_accounts_employee_cannot_be_edited_or_hidden(db: Database, two_accounts: tuple) -> None:
    ours, theirs = two_accounts
    theirs_id = theirs.employee("person1@acme.test").id
    with db.transaction() as session, pytest.raises(EmployeeNotFound):
        edit_employee(session, ours.account_id, theirs_id, {"job_title": "x"}, actor="admin", now=NOW)
    with db.transaction() as session, pytest.raises(EmployeeNotFound):
        set_flag(session, ours.account_id, theirs_id, flag="hidden", value=True, actor="admin", now=NOW)
    assert theirs.employee("person1@acme.test").hidden is False


def test_another_accounts_connection_cannot_be_synced_nor_its_runs_resolved(db: Database, two_accounts: tuple) -> None:
    ours, theirs = two_accounts
    with pytest.raises(LookupError):
        ours.sync(connection_id=theirs.connection_id)
    theirs.source.records = []
    held = theirs.sync()
    assert held.status == "held"
    with pytest.raises(LookupError):
        approve_run(db, held.run_id, account_id=ours.account_id, actor="admin")
    with pytest.raises(LookupError):
        discard_run(db, held.run_id, account_id=ours.account_id, actor="admin")


def test_a_purge_in_one_account_leaves_the_other_untouched(db: Database, two_accounts: tuple) -> None:
    ours, theirs = two_accounts
    with db.transaction() as session:
        connection = connections.get_connection(session, ours.account_id, ours.connection_id)
        assert connection is not None
        settings = FieldSettings.from_mapping({"personal_email": {"enabled": False}})
        connections.save_field_settings(session, connection, settings, now=NOW)
    assert all(e.personal_email is None for e in ours.employees().values())
    assert all(e.personal_email is not None for e in theirs.employees().values())
