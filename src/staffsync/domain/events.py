"""Lifecycle events: what happened to whom, emitted once per real change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from staffsync.domain.plan import ChangeAction, EmployeeChange
from staffsync.domain.values import JSONValue, value_to_json


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
    return events_for_diff(
        change.action,
        change.employee_id,
        change.remote_id,
        {c.field: {"old": value_to_json(c.old), "new": value_to_json(c.new)} for c in change.fields},
        reason=change.reason,
        workflows_enabled=workflows_enabled,
        today=today,
        end_date_continuous=end_date_continuous,
    )


def events_for_diff(
    action: ChangeAction,
    employee_id: str,
    remote_id: str,
    diff: dict[str, dict[str, JSONValue]],
    *,
    reason: str | None,
    workflows_enabled: bool,
    today: dt.date,
    end_date_continuous: bool = True,
) -> list[Event]:
    """`events_for_change` over a change whose values are already in their JSON form, `{field: {"old", "new"}}`:
    the form a staged change is stored in and events carry, so applying one never decodes values only to
    encode them again. `diff` becomes part of the events: pass a dict of your own."""
    subject: dict[str, Any] = {"employee_id": employee_id, "remote_id": remote_id}
    if action is ChangeAction.DETACH:
        return [Event("employee.detached", {**subject, "reason": reason})]
    found: list[Event] = []
    if action is ChangeAction.CREATE:
        found.append(Event("employee.created", {**subject, "fields": {k: v["new"] for k, v in diff.items()}}))
    elif diff:
        found.append(Event("employee.updated", {**subject, "changes": diff}))
    if not workflows_enabled:
        return found
    start = diff.get("start_date")
    if start is not None and start["new"] is not None and dt.date.fromisoformat(start["new"]) >= today:
        found.append(Event("onboarding.scheduled", {**subject, "start_date": start["new"]}))
    end = diff.get("end_date") if end_date_continuous else None
    if end is not None:
        if end["new"] is None:
            found.append(Event("offboarding.cancelled", {**subject, "previous_end_date": end["old"]}))
        elif action is not ChangeAction.CREATE or dt.date.fromisoformat(end["new"]) >= today:
            # A departure entered after the last day is the most urgent offboarding of all; only people
            # who left before the directory ever knew them start none.
            found.append(Event("offboarding.scheduled", {**subject, "end_date": end["new"]}))
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
