"""Kombo's own copy of an HR system: what the API serves, refreshed only by syncs.

The remote HR system (a `Population`) changes whenever the control API says so; the mirror learns
about it at the next sync, like Kombo. A sync compares each remote person with the version the
mirror last saw and keeps two clocks per employee, as Kombo does:

- `changed_at` moves only when a field of the employee record itself changed;
- `updated_at` (internal, compared by `updated_after`) also moves when nested or linked data
  changed: the employment, group memberships, or the embedded manager.

So a team move alone gives a row whose `changed_at` is older than `updated_after` (notes §4).
A person who disappears from the HR system keeps its last known data plus `remote_deleted_at`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from staffsync.simulators.kombo.ids import kombo_id
from staffsync.simulators.population import Group, LegalEntity, Person, Population, WorkLocation


def _own_view(person: Person) -> tuple[Any, ...]:
    """The fields rendered on the employee record itself (memberships and employments are nested)."""
    return (
        person.first_name,
        person.last_name,
        person.work_email,
        person.personal_email,
        person.personal_phone,
        person.home_address,
        person.employee_number,
        person.job_title,
        person.legal_entity_id,
        person.work_location_id,
        person.manager_id,
        person.employment_type,
        person.employment_status,
        person.start_date,
        person.end_date,
    )


def _employment_view(person: Person) -> tuple[Any, ...]:
    return (person.job_title, person.employment_type, person.start_date)


def _membership_view(person: Person) -> tuple[Any, ...]:
    return (person.department_id, frozenset(person.team_ids))


def manager_view(person: Person) -> tuple[Any, ...]:
    """What a report's embedded `manager` object shows of this person."""
    return (
        person.first_name,
        person.last_name,
        person.employee_number,
        person.end_date,
        person.work_email,
        person.employment_status,
    )


@dataclass(slots=True)
class EmployeeRecord:
    id: str
    employment_id: str
    person: Person
    changed_at: dt.datetime
    updated_at: dt.datetime
    employment_changed_at: dt.datetime
    remote_deleted_at: dt.datetime | None = None


_Item = TypeVar("_Item", Group, LegalEntity, WorkLocation)


@dataclass(frozen=True, slots=True)
class StaticRecord(Generic[_Item]):
    """A group, legal entity or work location: the organisation chart does not change in the simulator."""

    id: str
    item: _Item
    changed_at: dt.datetime


@dataclass(slots=True)
class SyncReport:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "changed": len(self.changed),
            "touched": len(self.touched),
            "deleted": len(self.deleted),
        }


class Mirror:
    """The records Kombo holds for one integration, each list kept sorted by Kombo id for paging."""

    def __init__(self, namespace: str, population: Population, *, now: dt.datetime) -> None:
        self.namespace = namespace
        self.groups = self._static("group", population.groups, now)
        self.legal_entities = self._static("legal_entity", population.legal_entities, now)
        self.locations = self._static("location", population.locations, now)
        self.group_by_local: dict[str, StaticRecord[Group]] = {r.item.id: r for r in self.groups}
        self.entity_by_local: dict[str, StaticRecord[LegalEntity]] = {r.item.id: r for r in self.legal_entities}
        self.location_by_local: dict[str, StaticRecord[WorkLocation]] = {r.item.id: r for r in self.locations}
        # Kombo id -> record and the sorted Kombo ids of each model, as the list endpoints page them.
        self.static_by_id: dict[str, StaticRecord[Any]] = {
            r.id: r for records in (self.groups, self.legal_entities, self.locations) for r in records
        }
        self.group_order = [r.id for r in self.groups]
        self.entity_order = [r.id for r in self.legal_entities]
        self.location_order = [r.id for r in self.locations]
        self.local_of: dict[str, str] = {
            r.id: r.item.id for records in (self.groups, self.legal_entities, self.locations) for r in records
        }
        self.employees: dict[str, EmployeeRecord] = {}
        self.by_local: dict[str, EmployeeRecord] = {}
        self.by_employment: dict[str, EmployeeRecord] = {}
        self.employee_order: list[str] = []
        self.employment_order: list[str] = []
        # The first sync: HR's own last-edit times stand in for the moment each record changed,
        # so that `updated_after` selects a realistic subset from the start.
        for person in population:
            if not person.deleted:
                self._add(person, person.updated_at, keep_order=False)
        self.employee_order.sort()
        self.employment_order.sort()

    def _static(self, kind: str, items: Iterable[_Item], now: dt.datetime) -> list[StaticRecord[_Item]]:
        return sorted((StaticRecord(kombo_id(self.namespace, kind, item.id), item, now) for item in items), key=_by_id)

    def employee_id(self, local_id: str) -> str:
        return kombo_id(self.namespace, "employee", local_id)

    def _add(self, person: Person, now: dt.datetime, *, keep_order: bool) -> EmployeeRecord:
        record = EmployeeRecord(
            self.employee_id(person.id), kombo_id(self.namespace, "employment", person.id), person, now, now, now
        )
        self.employees[record.id] = record
        self.by_local[person.id] = record
        self.by_employment[record.employment_id] = record
        if keep_order:
            bisect.insort(self.employee_order, record.id)
            bisect.insort(self.employment_order, record.employment_id)
        else:
            self.employee_order.append(record.id)
            self.employment_order.append(record.employment_id)
        return record

    def sync(self, population: Population, *, now: dt.datetime, full: bool) -> SyncReport:
        """Brings the mirror up to date with the HR system. Only a full sync notices deletions:
        a delta sync asks the HR system what changed, and a deleted record is no longer there to ask about."""
        report = SyncReport()
        new_manager_views: set[str] = set()
        for person in population:
            record = self.by_local.get(person.id)
            if record is None:
                if not person.deleted:
                    report.created.append(self._add(person, now, keep_order=True).id)
                continue
            old = record.person
            # Mutations replace the frozen Person, so an unchanged person is the very same object.
            if old is person or record.remote_deleted_at is not None:
                continue
            if person.deleted:
                if full:
                    # The nested employment disappears with its employee.
                    record.remote_deleted_at = record.changed_at = record.updated_at = now
                    record.employment_changed_at = now
                    report.deleted.append(record.id)
                continue
            record.person = person
            own = _own_view(old) != _own_view(person)
            employment = _employment_view(old) != _employment_view(person)
            if own:
                record.changed_at = now
                report.changed.append(record.id)
            if employment:
                record.employment_changed_at = now
            if own or employment or _membership_view(old) != _membership_view(person):
                record.updated_at = now
                if not own:
                    report.touched.append(record.id)
            if manager_view(old) != manager_view(person):
                new_manager_views.add(person.id)
        if new_manager_views:
            # A manager's embedded data is linked data of each report: their `updated_at` moves too.
            for record in self.employees.values():
                if record.person.manager_id in new_manager_views and record.updated_at != now:
                    record.updated_at = now
                    report.touched.append(record.id)
        return report


def _by_id(record: StaticRecord[Any]) -> str:
    return record.id
