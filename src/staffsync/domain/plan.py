"""What a sync would change, person by person, under each field's mode.

A plan is data: the engine stages it, safeguards weigh it, a dry run shows it, an approval applies
exactly it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from staffsync.domain.directory import DirectoryEmployee, SourceLink
from staffsync.domain.fields import CATALOGUE, FieldSetting, FieldSettings, SyncMode
from staffsync.domain.matching import Match, MatchKind
from staffsync.domain.records import SourceEmployee
from staffsync.domain.values import FieldValue

# Resolved after every person of a run is known (plan_manager), never inside plan_record.
DEFERRED_FIELDS = frozenset({"manager"})
# The fields plan_record decides, in catalogue order, and a getter of a record's values of them in one call:
# planning runs for every person of every sync.
_PLANNED_FIELDS = tuple(spec.name for spec in CATALOGUE if spec.name not in DEFERRED_FIELDS)
_planned_values = operator.attrgetter(*_PLANNED_FIELDS)


class ChangeAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    LINK = "link"  # a new or renewed link to an existing employee, with any field changes
    DETACH = "detach"


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: FieldValue
    new: FieldValue
    # The value being replaced was set by hand (possible after a switch from import-once to continuous).
    overrides_manual: bool = False


@dataclass(frozen=True, slots=True)
class EmployeeChange:
    action: ChangeAction
    employee_id: str
    remote_id: str
    # The employee's version the plan was made against: an approval refuses to apply over a newer one.
    base_version: int | None
    fields: tuple[FieldChange, ...] = ()
    reason: str | None = None
    # This connection becomes (or stays) the one whose values the employee follows.
    takes_primary: bool = False
    superseded_remote_id: str | None = None

    def field_change(self, name: str) -> FieldChange | None:
        return next((change for change in self.fields if change.field == name), None)


def decide_field(
    name: str,
    new: FieldValue,
    current: DirectoryEmployee,
    setting: FieldSetting,
) -> FieldChange | None:
    """decide_value for one field of one existing employee."""
    return decide_value(name, new, current.value(name), edited=name in current.manually_edited, setting=setting)


def decide_value(
    name: str,
    new: FieldValue,
    old: FieldValue,
    *,
    edited: bool,
    setting: FieldSetting,
) -> FieldChange | None:
    """The single rule for one field: `old` is the directory's value, `edited` says it was set by hand."""
    if not setting.enabled or new == old:
        return None
    if setting.mode is SyncMode.CONTINUOUS:
        return FieldChange(name, old, new, overrides_manual=edited)
    # Import once: only fill a value that is still empty and that nobody has touched by hand.
    if old is None and new is not None and not edited:
        return FieldChange(name, old, new)
    return None


def diff_fields(record: SourceEmployee, current: DirectoryEmployee, settings: FieldSettings) -> tuple[FieldChange, ...]:
    changes = []
    for name, new in zip(_PLANNED_FIELDS, _planned_values(record), strict=True):
        # An unchanged value is no change whatever the field's setting: most fields of most people.
        if new == current.values.get(name):
            continue
        change = decide_field(name, new, current, settings.settings[name])
        if change is not None:
            changes.append(change)
    return tuple(changes)


def initial_fields(record: SourceEmployee, settings: FieldSettings) -> tuple[FieldChange, ...]:
    enabled = settings.settings
    return tuple(
        FieldChange(name, None, value)
        for name, value in zip(_PLANNED_FIELDS, _planned_values(record), strict=True)
        if value is not None and enabled[name].enabled
    )


def plan_record(
    record: SourceEmployee,
    found: Match,
    settings: FieldSettings,
    *,
    connection_id: str,
    feeds: bool,
    new_employee_id: str,
) -> EmployeeChange | None:
    """`feeds` says whether this connection's values win for the matched employee (see Ranks.feeds).

    Returns None when nothing changes."""
    if found.kind is MatchKind.NEW or found.employee is None:
        return EmployeeChange(
            ChangeAction.CREATE,
            new_employee_id,
            record.remote_id,
            base_version=None,
            fields=initial_fields(record, settings),
            takes_primary=True,
        )
    employee = found.employee
    fields = diff_fields(record, employee, settings) if feeds else ()
    primary_moves = feeds and employee.primary_connection_id != connection_id
    if found.kind is MatchKind.LINKED:
        if not fields and not primary_moves:
            return None
        return EmployeeChange(
            ChangeAction.UPDATE, employee.id, record.remote_id, employee.version, fields, takes_primary=feeds
        )
    return EmployeeChange(
        ChangeAction.LINK,
        employee.id,
        record.remote_id,
        employee.version,
        fields,
        reason=found.reason(),
        takes_primary=feeds,
        superseded_remote_id=found.superseded_remote_id,
    )


def plan_detachment(link: SourceLink, employee: DirectoryEmployee, *, reason: str) -> EmployeeChange:
    return EmployeeChange(ChangeAction.DETACH, employee.id, link.remote_id, employee.version, reason=reason)


def unseen_links(active_links: Iterable[SourceLink], seen_remote_ids: set[str]) -> Iterable[SourceLink]:
    """Links a complete fetch did not return: only ever called after a fetch that finished cleanly."""
    return (link for link in active_links if link.active and link.remote_id not in seen_remote_ids)


def count_new_end_dates(changes: Iterable[EmployeeChange]) -> int:
    """End dates appearing where there were none on people already linked: offboardings a run would start.

    New people are not counted: a first sync of a source full of former employees is no mass offboarding."""
    return sum(
        1
        for change in changes
        if change.action is not ChangeAction.CREATE
        and (end := change.field_change("end_date")) is not None
        and end.old is None
        and end.new is not None
    )
