"""Runs and their changes in words an admin reads: durations, triggers, counts, and every changed value shown
as it is meant (a manager by name, a date as a date), never as stored JSON or ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from staffsync.domain.fields import FIELDS
from staffsync.storage import employees as employee_store
from staffsync.storage import models

# A people list in a flash message stays readable: the rest is "and N more".
NAMES_IN_A_MESSAGE = 5

TRIGGERS = {
    "schedule": "Schedule",
    "ui": "Sync now",
    "api": "API",
    "manual": "Command line",
    "demo": "Demo",
    "settings": "Settings review",
}

ACTIONS = {
    "create": ("Create", "success"),
    "update": ("Update", "info"),
    "link": ("Link", "brand"),
    "detach": ("Detach", "danger"),
}
ISSUE_CODES = {
    "rejected": "Rejected",
    "duplicate_record": "Duplicate record",
    "duplicate_work_email": "Duplicate work email",
    "superseded_record": "Older record",
    "work_email_taken": "Work email taken",
    "manager_cycle": "Manager cycle",
}


def span(seconds: float) -> str:
    """ "12 s", "3 min 5 s", "1 h 4 min": a duration an admin reads at a glance."""
    whole = max(round(seconds), 0)
    if whole == 0:  # "took 0 s" reads as if nothing ran
        return "under 1 s"
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest and minutes < 10 else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"


def run_duration(run: models.SyncRun) -> str | None:
    if run.finished_at is None:
        return None
    return span((run.finished_at - run.started_at).total_seconds())


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def counts_words(counts: Mapping[str, int]) -> str:
    """ "2 people created, 9 detached": only what happened."""
    done = [f"{counts[name]} {name}" for name in ("created", "updated", "detached") if counts.get(name)]
    if not done:
        return "nobody changed"
    done[0] = done[0].replace(" ", " people " if int(done[0].split()[0]) != 1 else " person ", 1)
    return ", ".join(done)


@dataclass(frozen=True, slots=True)
class FieldRow:
    label: str
    old: str
    new: str
    overrides_manual: bool


@dataclass(frozen=True, slots=True)
class ChangeRow:
    employee_id: str
    person: str
    email: str | None
    # False for people a held or dry run would create: there is no profile to link to yet.
    in_directory: bool
    action: str
    fields: tuple[FieldRow, ...]
    reason: str | None
    status: str

    @property
    def action_label(self) -> tuple[str, str]:
        return ACTIONS.get(self.action, (self.action.capitalize(), ""))


def change_rows(session: Session, account_id: str, changes: Iterable[models.Change]) -> list[ChangeRow]:
    """Each change with the person's name and every value in words: managers by name, never by id."""
    changes = list(changes)
    referenced = (
        {c.employee_id for c in changes}
        | {item["new"] or "" for c in changes for item in c.fields if item["field"] == "manager"}
        | {item["old"] or "" for c in changes for item in c.fields if item["field"] == "manager"}
    )
    known = employee_store.employees_by_id(session, account_id, referenced - {""})
    names: dict[str, str] = {
        employee_id: _full_name(employee.value("first_name"), employee.value("last_name"))
        for employee_id, employee in known.items()
    }
    emails: dict[str, str | None] = {
        employee_id: _text(employee.value("work_email")) for employee_id, employee in known.items()
    }
    for change in changes:
        if change.employee_id not in names:
            values = {item["field"]: item["new"] for item in change.fields}
            names[change.employee_id] = _full_name(values.get("first_name"), values.get("last_name"))
            emails[change.employee_id] = values.get("work_email")
    return [
        ChangeRow(
            employee_id=change.employee_id,
            person=names.get(change.employee_id) or change.remote_id or "Unknown person",
            email=emails.get(change.employee_id),
            in_directory=change.employee_id in known,
            action=change.action,
            fields=tuple(
                FieldRow(
                    FIELDS[item["field"]].label if item["field"] in FIELDS else item["field"],
                    show_value(item["field"], item["old"], names),
                    show_value(item["field"], item["new"], names),
                    bool(item.get("overrides_manual")),
                )
                for item in change.fields
            ),
            reason=change.reason,
            status=change.status,
        )
        for change in changes
    ]


def _full_name(first: object, last: object) -> str:
    return " ".join(str(part) for part in (first, last) if part)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def show_value(field: str, value: Any, names: Mapping[str, str]) -> str:
    """A stored JSON value in words, as an admin reads it."""
    if value is None or value == "":
        return "—"
    kind = FIELDS[field].kind if field in FIELDS else "text"
    if kind == "date":
        return dt.date.fromisoformat(str(value)).strftime("%d %b %Y")
    if kind == "ref":
        return str(value.get("name") or value.get("id"))
    if kind == "location":
        place = str(value.get("name") or value.get("id"))
        return f"{place} ({value['country']})" if value.get("country") else place
    if kind == "address":
        return ", ".join(
            str(value[part]) for part in ("street", "postal_code", "city", "region", "country") if value.get(part)
        )
    if kind == "employment_type":
        words = str(value.get("type", "")).replace("_", " ").capitalize()
        raw = value.get("raw")
        return f"{words} ({raw})" if raw and str(raw).lower() != str(value.get("type")) else words
    if kind == "employment_status":
        return str(value).capitalize()
    if kind == "employee":
        return names.get(str(value)) or "a person new to the directory"
    return str(value)


def names_of(session: Session, account_id: str, employee_ids: list[str]) -> str:
    """ "Leo Leaver, Nina Newcomer and 3 more": who is meant, short enough for a flash message."""
    shown = employee_store.employees_by_id(session, account_id, employee_ids[:NAMES_IN_A_MESSAGE])
    names = [
        _full_name(shown[e].value("first_name"), shown[e].value("last_name")) or e
        for e in employee_ids[:NAMES_IN_A_MESSAGE]
        if e in shown
    ]
    rest = len(employee_ids) - len(names)
    return ", ".join(names) + (f" and {rest} more" if rest else "")
