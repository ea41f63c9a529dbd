"""Hand edits and flags on one employee: every change is checked against the field locks and recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from staffsync.domain.directory import DirectoryEmployee
from staffsync.domain.editing import FieldLock, edit_lock
from staffsync.domain.events import Event, events_for_diff
from staffsync.domain.plan import ChangeAction, EmployeeChange, FieldChange
from staffsync.domain.records import normalise_email
from staffsync.domain.values import FieldValue, value_to_json
from staffsync.services.policies import recompute_assignments
from staffsync.storage import accounts as account_store
from staffsync.storage import connections as connection_store
from staffsync.storage import employees as employee_store
from staffsync.storage import models, outbox
from staffsync.storage import runs as run_store
from staffsync.storage.runs import ChangeStatus
from staffsync.sync.engine import account_today


class EmployeeNotFound(LookupError):
    pass


class FieldLocked(PermissionError):
    def __init__(self, locks: list[FieldLock]) -> None:
        self.locks = locks
        super().__init__("; ".join(lock.reason for lock in locks))


class EmailTaken(ValueError):
    pass


class InvalidEdit(ValueError):
    """A hand edit that would leave the person in a state a sync would reject."""


def edit_employee(
    session: Session,
    account_id: str,
    employee_id: str,
    values: Mapping[str, FieldValue],
    *,
    actor: str,
    now: dt.datetime,
) -> EmployeeChange | None:
    """Applies a hand edit, or refuses it whole when any field is locked by a continuous sync."""
    employee = employee_store.employees_by_id(session, account_id, [employee_id]).get(employee_id)
    if employee is None:
        raise EmployeeNotFound(f"No employee {employee_id} in this account")
    primary = (
        connection_store.get_connection(session, account_id, employee.primary_connection_id)
        if employee.primary_connection_id
        else None
    )
    settings = connection_store.field_settings_of(primary) if primary is not None else None
    locks = [
        lock
        for name in values
        if (lock := edit_lock(name, primary_settings=settings, primary_name=primary.name if primary else None))
    ]
    if locks:
        raise FieldLocked(locks)
    changes = tuple(
        FieldChange(name, employee.value(name), new) for name, new in values.items() if new != employee.value(name)
    )
    if not changes:
        return None
    _check_dates(employee, values)
    new_email = values.get("work_email")
    key = normalise_email(new_email) if isinstance(new_email, str) else None
    if key is not None:
        owner = employee_store.employees_by_email(session, account_id, [key]).get(key)
        if owner is not None and owner.id != employee_id:
            raise EmailTaken(f"Another employee already has the work email {new_email}")
    change = EmployeeChange(ChangeAction.UPDATE, employee_id, "", employee.version, changes)
    columns = employee_store.values_as_columns({c.field: c.new for c in changes})
    edited = sorted(employee.manually_edited | {c.field for c in changes})
    # No savepoint around the UPDATE: on SQLite only SELECTs ran so far, so pysqlite has opened no transaction
    # and a savepoint's RELEASE would commit the edit on its own, without its history row and events. The
    # email was checked above; the constraint only catches a concurrent edit, and then the whole request fails.
    try:
        session.execute(
            update(models.Employee)
            .where(models.Employee.account_id == account_id, models.Employee.id == employee_id)
            .values(**columns, manually_edited=edited, version=models.Employee.version + 1, updated_at=now)
        )
    except IntegrityError:
        raise EmailTaken(f"Another employee already has the work email {values.get('work_email')}") from None
    row = run_store.change_row(
        change,
        account_id=account_id,
        run_id=None,
        connection_id=None,
        status=ChangeStatus.APPLIED,
        actor=actor,
        now=now,
    )
    row.update(action="edit", remote_id=None)
    run_store.insert_changes(session, [row])
    outbox.insert_events(
        session,
        outbox.event_rows(
            _edit_events(session, account_id, employee, changes, actor, now), account_id=account_id, now=now
        ),
    )
    # A new team or job title can move the person into or out of a policy at once, not at the next sync.
    recompute_assignments(session, account_id, now=now, employee_ids=[employee_id])
    return change


def _edit_events(
    session: Session,
    account_id: str,
    employee: DirectoryEmployee,
    changes: tuple[FieldChange, ...],
    actor: str,
    now: dt.datetime,
) -> list[Event]:
    """The lifecycle rules a sync applies (a start date moved to today or later schedules an onboarding; hidden
    and detached people start none), over a change with no source behind it. A hand-set end date is never
    continuous, so it schedules no offboarding (PRODUCT.md §5)."""
    account = account_store.get_account(session, account_id)
    diff = {c.field: {"old": value_to_json(c.old), "new": value_to_json(c.new)} for c in changes}
    events = events_for_diff(
        ChangeAction.UPDATE,
        employee.id,
        "",
        diff,
        reason=None,
        # Detached people are out of every workflow, as hidden ones are.
        workflows_enabled=not (employee.hidden or employee.detached),
        today=account_today(account.timezone if account else "UTC", now),
        end_date_continuous=False,
    )
    for event in events:
        # Like hiding and ignoring, a hand edit names who made it instead of a source record.
        del event.data["remote_id"]
        event.data["by"] = actor
    return events


def set_flag(
    session: Session,
    account_id: str,
    employee_id: str,
    *,
    flag: str,
    value: bool,
    actor: str,
    now: dt.datetime,
) -> None:
    """`hidden` or `onboarding_ignored`; ignoring an onboarding also hides the person (help page)."""
    values: dict[str, bool] = {flag: value}
    if flag == "onboarding_ignored" and value:
        values["hidden"] = True
    result = session.execute(
        update(models.Employee)
        .where(models.Employee.account_id == account_id, models.Employee.id == employee_id)
        .values(**values, updated_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise EmployeeNotFound(f"No employee {employee_id} in this account")
    event = {
        ("hidden", True): "employee.hidden",
        ("hidden", False): "employee.unhidden",
        ("onboarding_ignored", True): "onboarding.ignored",
    }.get((flag, value))
    if event is not None:
        outbox.insert_events(
            session,
            outbox.event_rows(
                [Event(event, {"employee_id": employee_id, "by": actor})], account_id=account_id, now=now
            ),
        )
    # Hidden people hold no assignment; unhiding gives them back what their policies say.
    recompute_assignments(session, account_id, now=now, employee_ids=[employee_id])


def _check_dates(employee: DirectoryEmployee, values: Mapping[str, FieldValue]) -> None:
    """The rule the sync holds a source to (validation.py): nobody leaves before they start. Checked only when a
    date is edited: a person may already hold a hand-set start and a synced end that disagree, and editing their
    job title must not be refused for it."""
    if "start_date" not in values and "end_date" not in values:
        return
    start = values["start_date"] if "start_date" in values else employee.value("start_date")
    end = values["end_date"] if "end_date" in values else employee.value("end_date")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        raise InvalidEdit(f"End date {end.isoformat()} is before start date {start.isoformat()}")
