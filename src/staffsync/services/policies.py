"""IT policies in the directory: saving them, previewing who gains and loses before saving, and keeping
assignments current after every sync and manual change (with `policy.assignment.added/removed` events
written to the outbox in the same transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from staffsync.domain.events import Event
from staffsync.domain.fields import value_from_json
from staffsync.domain.policies import (
    POLICY_FIELDS,
    AssignmentDiff,
    Policy,
    PolicyError,
    Subject,
    is_eligible,
    parse_conditions,
    reconcile,
    validate_assignment,
    wanted_assignments,
)
from staffsync.domain.values import FieldValue
from staffsync.storage import models, outbox
from staffsync.storage.employees import chunks


class PolicyNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class PersonRef:
    employee_id: str
    name: str
    work_email: str | None


@dataclass(frozen=True, slots=True)
class PolicyPreview:
    """What saving a policy would do: who gains it, who loses it, and how many keep it."""

    gains: list[PersonRef]
    loses: list[PersonRef]
    keeps: int


def to_domain(row: models.Policy) -> Policy:
    return Policy(
        id=row.id,
        name=row.name,
        conditions=parse_conditions(row.conditions),
        assignment=validate_assignment(row.application, row.role),
        enabled=row.enabled,
    )


def list_policies(session: Session, account_id: str) -> list[models.Policy]:
    return list(
        session.execute(
            select(models.Policy).where(models.Policy.account_id == account_id).order_by(models.Policy.name)
        ).scalars()
    )


def get_policy(session: Session, account_id: str, policy_id: str) -> models.Policy:
    row = session.execute(
        select(models.Policy).where(models.Policy.account_id == account_id, models.Policy.id == policy_id)
    ).scalar_one_or_none()
    if row is None:
        raise PolicyNotFound(f"No policy {policy_id}")
    return row


def draft(
    *,
    policy_id: str | None,
    name: str,
    conditions: Iterable[dict[str, object]],
    application: str,
    role: str | None,
    enabled: bool = True,
) -> Policy:
    """A validated policy from user input; raises PolicyError with every problem."""
    problems: list[str] = []
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 200:
        problems.append("give the policy a name (1 to 200 characters)")
    try:
        parsed = parse_conditions(list(conditions))
    except PolicyError as error:
        problems.extend(error.problems)
        parsed = ()
    try:
        assignment = validate_assignment(application, role)
    except PolicyError as error:
        problems.extend(error.problems)
        assignment = None
    if problems or assignment is None:
        raise PolicyError(problems)
    return Policy(policy_id or str(uuid.uuid4()), clean_name, parsed, assignment, enabled)


def save_policy(session: Session, account_id: str, policy: Policy, *, now: dt.datetime) -> models.Policy:
    """Creates or replaces the policy, then brings its assignments up to date (events included)."""
    row = session.get(models.Policy, policy.id)
    if row is not None and row.account_id != account_id:
        raise PolicyNotFound(f"No policy {policy.id}")
    if row is None:
        row = models.Policy(id=policy.id, account_id=account_id, created_at=now)
        session.add(row)
    row.name = policy.name
    row.conditions = [c.to_mapping() for c in policy.conditions]
    row.application = policy.assignment.application
    row.role = policy.assignment.role
    row.enabled = policy.enabled
    row.updated_at = now
    session.flush()
    recompute_assignments(session, account_id, now=now, policy_ids=[policy.id])
    return row


def delete_policy(session: Session, account_id: str, policy_id: str, *, now: dt.datetime) -> None:
    """Everyone loses the assignment (with events) before the policy goes."""
    row = get_policy(session, account_id, policy_id)
    current = _held(session, account_id, [policy_id])
    _apply(session, account_id, AssignmentDiff(frozenset(), frozenset(current)), {policy_id: row}, now=now)
    session.delete(row)


def preview_policy(session: Session, account_id: str, policy: Policy, *, now: dt.datetime) -> PolicyPreview:
    """Exactly what `save_policy` would change, computed by the same functions, without writing."""
    today = _today(session, account_id, now)
    subjects, people = _subjects(session, account_id, today)
    wanted = wanted_assignments(subjects, [policy])
    current = _held(session, account_id, [policy.id])
    diff = reconcile(current, wanted)

    def refs(pairs: Iterable[tuple[str, str]]) -> list[PersonRef]:
        return sorted((people[e] for _, e in pairs if e in people), key=lambda p: (p.name.casefold(), p.employee_id))

    return PolicyPreview(gains=refs(diff.added), loses=refs(diff.removed), keeps=len(current & wanted))


def recompute_assignments(
    session: Session,
    account_id: str,
    *,
    now: dt.datetime,
    policy_ids: Sequence[str] | None = None,
    employee_ids: Sequence[str] | None = None,
    run_id: str | None = None,
) -> AssignmentDiff:
    """Brings assignments in line with the policies and the directory as they are in this transaction;
    limited to some policies (one was saved) or some people (one was edited) when given."""
    rows = {row.id: row for row in list_policies(session, account_id)}
    if policy_ids is not None:
        rows = {pid: row for pid, row in rows.items() if pid in set(policy_ids)}
    current = _held(session, account_id, policy_ids, employee_ids)
    if not rows and not current:
        return AssignmentDiff(frozenset(), frozenset())
    today = _today(session, account_id, now)
    subjects, _ = _subjects(session, account_id, today, employee_ids)
    wanted = wanted_assignments(subjects, [to_domain(row) for row in rows.values()])
    diff = reconcile(current, wanted)
    _apply(session, account_id, diff, rows, now=now, run_id=run_id)
    return diff


def assignments_of(session: Session, account_id: str, employee_id: str) -> list[models.Policy]:
    """The policies an employee holds an assignment from, for the profile."""
    return list(
        session.execute(
            select(models.Policy)
            .join(models.PolicyAssignment, models.PolicyAssignment.policy_id == models.Policy.id)
            .where(
                models.PolicyAssignment.account_id == account_id,
                models.PolicyAssignment.employee_id == employee_id,
            )
            .order_by(models.Policy.name)
        ).scalars()
    )


def _today(session: Session, account_id: str, now: dt.datetime) -> dt.date:
    account = session.get(models.Account, account_id)
    timezone = account.timezone if account else "UTC"
    return now.astimezone(ZoneInfo(timezone)).date()


def _held(
    session: Session,
    account_id: str,
    policy_ids: Sequence[str] | None,
    employee_ids: Sequence[str] | None = None,
) -> set[tuple[str, str]]:
    query = select(models.PolicyAssignment.policy_id, models.PolicyAssignment.employee_id).where(
        models.PolicyAssignment.account_id == account_id
    )
    if policy_ids is not None:
        query = query.where(models.PolicyAssignment.policy_id.in_(list(policy_ids)))
    if employee_ids is not None:
        query = query.where(models.PolicyAssignment.employee_id.in_(list(employee_ids)))
    return {(row.policy_id, row.employee_id) for row in session.execute(query)}


def _subjects(
    session: Session, account_id: str, today: dt.date, employee_ids: Sequence[str] | None = None
) -> tuple[list[Subject], dict[str, PersonRef]]:
    employee = models.Employee
    columns = [getattr(employee, name) for name in POLICY_FIELDS]
    rows = session.execute(
        select(
            employee.id,
            employee.first_name,
            employee.last_name,
            employee.work_email,
            employee.hidden,
            employee.detached_at,
            employee.end_date,
            *columns,
        ).where(
            employee.account_id == account_id,
            *([employee.id.in_(list(employee_ids))] if employee_ids is not None else []),
        )
    )
    subjects: list[Subject] = []
    people: dict[str, PersonRef] = {}
    for row in rows:
        values: dict[str, FieldValue] = {name: value_from_json(name, getattr(row, name)) for name in POLICY_FIELDS}
        eligible = is_eligible(
            hidden=row.hidden, detached=row.detached_at is not None, end_date=row.end_date, today=today
        )
        subjects.append(Subject(row.id, values, eligible))
        name = " ".join(part for part in (row.first_name, row.last_name) if part) or (row.work_email or row.id)
        people[row.id] = PersonRef(row.id, name, row.work_email)
    return subjects, people


def _apply(
    session: Session,
    account_id: str,
    diff: AssignmentDiff,
    policies: dict[str, models.Policy],
    *,
    now: dt.datetime,
    run_id: str | None = None,
) -> None:
    if not diff:
        return
    assignment = models.PolicyAssignment
    for part in chunks(sorted(diff.removed)):
        session.execute(
            delete(assignment).where(
                assignment.account_id == account_id,
                tuple_(assignment.policy_id, assignment.employee_id).in_(list(part)),
            )
        )
    session.add_all(
        assignment(
            id=str(uuid.uuid4()), account_id=account_id, policy_id=policy_id, employee_id=employee_id, assigned_at=now
        )
        for policy_id, employee_id in sorted(diff.added)
    )
    events: list[Event] = []
    for kind, pairs in (("added", diff.added), ("removed", diff.removed)):
        for policy_id, employee_id in sorted(pairs):
            row = policies.get(policy_id)
            data: dict[str, object] = {
                "employee_id": employee_id,
                "policy_id": policy_id,
                "policy": row.name if row else None,
                "application": row.application if row else None,
                "role": row.role if row else None,
            }
            if run_id is not None:
                data["run_id"] = run_id
            events.append(Event(f"policy.assignment.{kind}", data))
    outbox.insert_events(session, outbox.event_rows(events, account_id=account_id, now=now))
    session.flush()
