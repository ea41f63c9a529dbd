"""Lifecycle events: what happened to whom, emitted once per real change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from staffsync.domain.plan import ChangeAction, EmployeeChange
from staffsync.domain.values import value_to_json


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any] = field(default_factory=dict)


def events_for_change(
    change: EmployeeChange, *, workflows_enabled: bool, today: dt.date, end_date_continuous: bool = True
) -> list[Event]:
    """`workflows_enabled` is False for hidden people: they keep syncing but start no on/offboarding.
    `end_date_continuous` is False when the source's end date is imported once: such a date goes stale the
    moment HR moves it, so it never drives an offboarding (PRODUCT.md §5)."""
    subject: dict[str, Any] = {"employee_id": change.employee_id, "remote_id": change.remote_id}
    if change.action is ChangeAction.DETACH:
        return [Event("employee.detached", {**subject, "reason": change.reason})]
    found: list[Event] = []
    diff = {c.field: {"old": value_to_json(c.old), "new": value_to_json(c.new)} for c in change.fields}
    if change.action is ChangeAction.CREATE:
        found.append(Event("employee.created", {**subject, "fields": {k: v["new"] for k, v in diff.items()}}))
    elif diff:
        found.append(Event("employee.updated", {**subject, "changes": diff}))
    if not workflows_enabled:
        return found
    start = change.field_change("start_date")
    if start is not None and isinstance(start.new, dt.date) and start.new >= today:
        found.append(Event("onboarding.scheduled", {**subject, "start_date": start.new.isoformat()}))
    end = change.field_change("end_date") if end_date_continuous else None
    if end is not None:
        if end.new is None:
            found.append(Event("offboarding.cancelled", {**subject, "previous_end_date": value_to_json(end.old)}))
        elif isinstance(end.new, dt.date) and (end.new >= today or change.action is not ChangeAction.CREATE):
            # A departure entered after the last day is the most urgent offboarding of all; only people
            # who left before the directory ever knew them start none.
            found.append(Event("offboarding.scheduled", {**subject, "end_date": end.new.isoformat()}))
    return found


# Every event type staffsync emits (INTERFACES.md); webhook subscriptions are checked against this list so that
# a typo ("employee.create") is refused instead of silently never matching.
EVENT_TYPES = (
    "employee.created",
    "employee.updated",
    "employee.detached",
    "employee.hidden",
    "employee.unhidden",
    "onboarding.scheduled",
    "onboarding.ignored",
    "offboarding.scheduled",
    "offboarding.cancelled",
    "sync.succeeded",
    "sync.failed",
    "sync.held",
    "sync.discarded",
    "policy.assignment.added",
    "policy.assignment.removed",
)
