"""One employee's profile as an admin reads it: every field with its provenance and its lock, the source
records behind the person, their history, and why they are in the directory at all (PRODUCT.md §5).

Locks come from `domain.editing.edit_lock`, the very function `services.employees.edit_employee` enforces,
so the profile never offers an edit the service would refuse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from staffsync.domain.editing import FieldLock, edit_lock
from staffsync.domain.fields import CATALOGUE, FIELDS, FieldSettings, FieldSpec, SyncMode, value_from_json
from staffsync.domain.filters import FilterResult, FilterRules, evaluate
from staffsync.domain.lifecycle import LifecycleStatus, is_onboarding, lifecycle_status
from staffsync.domain.records import SourceEmployee
from staffsync.domain.values import EmploymentTypeValue, FieldValue, Ref
from staffsync.services.policies import assignments_of
from staffsync.storage import api_queries, models
from staffsync.storage import connections as connection_store
from staffsync.storage import directory as directory_store
from staffsync.storage import runs as run_store
from staffsync.storage.employees import employees_by_id
from staffsync.sync.engine import account_today

# Enough to find the last change of every field of anyone but a pathological record.
HISTORY_SCAN = 1000


@dataclass(frozen=True, slots=True)
class FieldProvenance:
    """The applied change that last set a field: a sync run, an admin, or an API token."""

    changed_at: dt.datetime
    actor: str
    action: str
    run_id: str | None
    connection_id: str | None


@dataclass(frozen=True, slots=True)
class ProfileField:
    spec: FieldSpec
    value: FieldValue
    # How the person's source syncs the field; None when no source feeds them any more.
    mode: SyncMode | None
    synced: bool
    lock: FieldLock | None
    edited_by_hand: bool
    last_change: FieldProvenance | None

    @property
    def editable(self) -> bool:
        return self.lock is None


@dataclass(frozen=True, slots=True)
class ProfileLink:
    connection_id: str
    connection_name: str
    remote_id: str
    active: bool
    primary: bool
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    detached_at: dt.datetime | None
    detach_reason: str | None


@dataclass(frozen=True, slots=True)
class HistoryField:
    field: str
    label: str
    old: FieldValue
    new: FieldValue


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    action: str
    at: dt.datetime
    actor: str
    run_id: str | None
    connection_id: str | None
    reason: str | None
    fields: tuple[HistoryField, ...]


@dataclass(frozen=True, slots=True)
class Presence:
    """Why the person is in the directory: which source returns them, whether its latest sync still did,
    whether they pass its filters today, and what that sync reported about them."""

    connection: models.Connection | None
    link: ProfileLink | None
    last_run: models.SyncRun | None
    returned_by_last_run: bool
    filters: FilterRules | None
    filter_result: FilterResult | None
    issues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EmployeeProfile:
    employee: models.Employee
    today: dt.date
    status: LifecycleStatus
    onboarding: bool
    fields: tuple[ProfileField, ...]
    links: tuple[ProfileLink, ...]
    history: tuple[HistoryEntry, ...]
    more_history: bool
    presence: Presence
    connection_names: dict[str, str]
    # Names and work emails of the people the profile mentions by id (the manager, old and new managers).
    people: dict[str, str]
    people_emails: dict[str, str | None]
    # The IT policies whose assignment this person holds (services/policies.py).
    assignments: tuple[models.Policy, ...] = ()

    @property
    def name(self) -> str:
        employee = self.employee
        return " ".join(p for p in (employee.first_name, employee.last_name) if p) or employee.work_email or "—"

    def field(self, name: str) -> ProfileField:
        return next(f for f in self.fields if f.spec.name == name)


def load_profile(
    session: Session, account: models.Account, employee_id: str, *, now: dt.datetime, history_limit: int = 50
) -> EmployeeProfile | None:
    """None when the account has no such employee (another account's id included)."""
    employee = api_queries.get_employee(session, account.id, employee_id)
    if employee is None:
        return None
    today = account_today(account.timezone, now)
    connections = {c.id: c for c in connection_store.list_connections(session, account.id)}
    primary = connections.get(employee.primary_connection_id) if employee.primary_connection_id else None
    settings = connection_store.field_settings_of(primary) if primary is not None else None
    snapshot = employees_by_id(session, account.id, [employee.id])[employee.id]
    rows = run_store.employee_history(session, account.id, employee.id, limit=HISTORY_SCAN)
    history = tuple(_entry(row) for row in rows)
    links = tuple(
        _link(link, connection, primary=connection.id == employee.primary_connection_id and link.active)
        for link, connection in directory_store.employee_links(session, account.id, employee.id)
    )
    fields = tuple(
        _field(spec, snapshot.value(spec.name), employee, primary, settings, _last_change(history, spec.name))
        for spec in CATALOGUE
    )
    mentioned = {f.value for f in fields if f.spec.kind == "employee" and isinstance(f.value, str)}
    mentioned |= {
        value
        for entry in history[:history_limit]
        for change in entry.fields
        if change.field == "manager"
        for value in (change.old, change.new)
        if isinstance(value, str)
    }
    named = directory_store.display_names(session, account.id, mentioned)
    return EmployeeProfile(
        employee=employee,
        today=today,
        status=lifecycle_status(employee.start_date, employee.end_date, today=today),
        onboarding=is_onboarding(employee.start_date, today=today) and employee.detached_at is None,
        fields=fields,
        links=links,
        history=history[:history_limit],
        more_history=len(history) > history_limit,
        presence=_presence(session, account.id, employee, primary, links),
        connection_names={c.id: c.name for c in connections.values()},
        people={person: name for person, (name, _) in named.items()},
        people_emails={person: email for person, (_, email) in named.items()},
        assignments=tuple(assignments_of(session, account.id, employee.id)),
    )


def _field(
    spec: FieldSpec,
    value: FieldValue,
    employee: models.Employee,
    primary: models.Connection | None,
    settings: FieldSettings | None,
    last_change: FieldProvenance | None,
) -> ProfileField:
    return ProfileField(
        spec=spec,
        value=value,
        mode=settings.mode(spec.name) if settings is not None else None,
        synced=settings is not None and settings[spec.name].enabled,
        lock=edit_lock(spec.name, primary_settings=settings, primary_name=primary.name if primary else None),
        edited_by_hand=spec.name in (employee.manually_edited or ()),
        last_change=last_change,
    )


def _entry(row: models.Change) -> HistoryEntry:
    return HistoryEntry(
        action=row.action,
        at=row.applied_at or row.created_at,
        actor=row.actor,
        run_id=row.run_id,
        connection_id=row.connection_id,
        reason=row.reason,
        fields=tuple(
            HistoryField(
                item["field"],
                FIELDS[item["field"]].label if item["field"] in FIELDS else item["field"],
                _decoded(item["field"], item.get("old")),
                _decoded(item["field"], item.get("new")),
            )
            for item in row.fields
        ),
    )


def _decoded(field: str, data: object) -> FieldValue:
    try:
        return value_from_json(field, data)
    except (KeyError, TypeError, ValueError, AttributeError):
        # History written under an older shape of a value: show it as it was stored rather than fail the page.
        return str(data)


def _last_change(history: tuple[HistoryEntry, ...], field: str) -> FieldProvenance | None:
    for entry in history:
        if any(change.field == field for change in entry.fields):
            return FieldProvenance(entry.at, entry.actor, entry.action, entry.run_id, entry.connection_id)
    return None


def _link(link: models.SourceLink, connection: models.Connection, *, primary: bool) -> ProfileLink:
    return ProfileLink(
        connection_id=connection.id,
        connection_name=connection.name,
        remote_id=link.remote_id,
        active=link.active,
        primary=primary,
        first_seen_at=link.first_seen_at,
        last_seen_at=link.last_seen_at,
        detached_at=link.detached_at,
        detach_reason=link.detach_reason,
    )


def _presence(
    session: Session,
    account_id: str,
    employee: models.Employee,
    primary: models.Connection | None,
    links: tuple[ProfileLink, ...],
) -> Presence:
    if primary is None:
        return Presence(None, None, None, False, None, None, ())
    link = next((lk for lk in links if lk.primary), None)
    last_run = directory_store.last_applied_run(session, account_id, primary.id)
    rules = connection_store.filters_of(primary)
    issues: tuple[str, ...] = ()
    if last_run is not None:
        remote_ids = {lk.remote_id for lk in links if lk.connection_id == primary.id}
        found = directory_store.person_issues(
            session, account_id, last_run.id, employee_id=employee.id, remote_ids=remote_ids
        )
        issues = tuple(issue.message for issue in found)
    return Presence(
        connection=primary,
        link=link,
        last_run=last_run,
        # The run touches the links it returned with its own start time or later.
        returned_by_last_run=link is not None and last_run is not None and link.last_seen_at >= last_run.started_at,
        filters=rules,
        filter_result=evaluate(_as_record(employee, link), rules),
        issues=issues,
    )


def _as_record(employee: models.Employee, link: ProfileLink | None) -> SourceEmployee:
    """The directory's values in the shape filters evaluate: how the person fares against today's filters."""
    team = value_from_json("team", employee.team)
    entity = value_from_json("legal_entity", employee.legal_entity)
    employment = value_from_json("employment_type", employee.employment_type)
    return SourceEmployee(
        remote_id=link.remote_id if link is not None else employee.id,
        team=team if isinstance(team, Ref) else None,
        legal_entity=entity if isinstance(entity, Ref) else None,
        employment_type=employment if isinstance(employment, EmploymentTypeValue) else None,
    )
