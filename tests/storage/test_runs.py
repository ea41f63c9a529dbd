"""Staged changes: stored in the JSON form of their values, read back as domain changes or, for applying, as is."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fakes import NOW, make_directory
from staffsync.domain.plan import ChangeAction, EmployeeChange, FieldChange
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    Location,
    Ref,
    value_to_json,
)
from staffsync.storage import models
from staffsync.storage import runs as run_store
from staffsync.storage.db import Database

# One field of every kind the catalogue has, each from an empty value to a real one.
EVERY_KIND = (
    FieldChange("first_name", None, "Ada"),
    FieldChange("work_email", "old@acme.test", "ada@acme.test"),
    FieldChange("start_date", dt.date(2024, 1, 1), dt.date(2026, 4, 1)),
    FieldChange("team", Ref("t0", None), Ref("t1", "Engineering")),
    FieldChange("manager", None, "e-boss"),
    FieldChange("work_location", None, Location("l1", "Berlin", "DE")),
    FieldChange("home_address", None, Address("Main St 1", "Berlin", "10115", None, "DE")),
    FieldChange(
        "employment_type",
        EmploymentTypeValue(EmploymentType.FIXED_TERM, None),
        EmploymentTypeValue(EmploymentType.PERMANENT, "FULL_TIME"),
    ),
    FieldChange("employment_status", EmploymentStatus.PENDING, EmploymentStatus.ACTIVE, overrides_manual=True),
)


def _stage(db: Database, change: EmployeeChange) -> tuple[str, str]:
    directory = make_directory(db)
    run_id = directory.sync().run_id
    with db.transaction() as session:
        row = run_store.change_row(
            change,
            account_id=directory.account_id,
            run_id=run_id,
            connection_id=directory.connection_id,
            status=run_store.ChangeStatus.STAGED,
            actor="test",
            now=NOW,
        )
        run_store.insert_changes(session, [row])
    return directory.account_id, run_id


def test_staged_fields_hold_every_kind_of_value_in_its_json_form(db: Database) -> None:
    change = EmployeeChange(ChangeAction.UPDATE, "e1", "r1", 3, EVERY_KIND, takes_primary=True)
    _, run_id = _stage(db, change)
    with db.session() as session:
        stored = session.execute(select(models.Change.fields).where(models.Change.run_id == run_id)).scalar_one()
    assert stored == [
        {
            "field": c.field,
            "old": value_to_json(c.old),
            "new": value_to_json(c.new),
            "overrides_manual": c.overrides_manual,
        }
        for c in EVERY_KIND
    ]


def test_a_staged_change_reads_back_as_the_change_that_was_staged(db: Database) -> None:
    change = EmployeeChange(
        ChangeAction.LINK, "e1", "r2", 3, EVERY_KIND, reason="Same work email", superseded_remote_id="r1"
    )
    account_id, run_id = _stage(db, change)
    with db.session() as session:
        assert list(run_store.iter_run_changes(session, account_id, run_id, run_store.ChangeStatus.STAGED)) == [change]


def test_changes_read_for_applying_keep_their_values_in_json_form(db: Database) -> None:
    change = EmployeeChange(ChangeAction.UPDATE, "e1", "r1", 3, EVERY_KIND, takes_primary=True)
    account_id, run_id = _stage(db, change)
    with db.session() as session:
        (staged,) = run_store.iter_staged_changes(session, account_id, run_id, run_store.ChangeStatus.STAGED)
    assert (staged.action, staged.employee_id, staged.remote_id, staged.takes_primary) == (
        ChangeAction.UPDATE,
        "e1",
        "r1",
        True,
    )
    assert staged.diff() == {c.field: {"old": value_to_json(c.old), "new": value_to_json(c.new)} for c in EVERY_KIND}
    assert staged.diff() is not staged.diff()
