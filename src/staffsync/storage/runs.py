"""SQL for sync runs, their staged and applied changes, and their per-person issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from staffsync.domain.events import Event
from staffsync.domain.fields import value_from_json
from staffsync.domain.plan import ChangeAction, EmployeeChange, FieldChange
from staffsync.domain.values import JSONValue
from staffsync.storage import models, outbox
from staffsync.storage.db import insert_rows


class ChangeStatus:
    STAGED = "staged"  # planned by a run that has not been applied (held, or about to apply)
    SIMULATED = "simulated"  # planned by a dry run: never applied
    APPLIED = "applied"
    DISCARDED = "discarded"
    CONFLICTED = "conflicted"  # the employee changed after planning: left for the next run


def change_row(
    change: EmployeeChange,
    *,
    account_id: str,
    run_id: str | None,
    connection_id: str | None,
    status: str,
    actor: str,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "run_id": run_id,
        "connection_id": connection_id,
        "employee_id": change.employee_id,
        "remote_id": change.remote_id,
        "action": change.action.value,
        # Field values go to the JSON column as they are: orjson (db.py's serializer) writes a value
        # dataclass, a date or a StrEnum exactly as values.value_to_json spells it, in C, while a first
        # sync stages every field of every person.
        "fields": [
            {"field": c.field, "old": c.old, "new": c.new, "overrides_manual": c.overrides_manual}
            for c in change.fields
        ],
        "reason": change.reason,
        "base_version": change.base_version,
        "takes_primary": change.takes_primary,
        "superseded_remote_id": change.superseded_remote_id,
        "status": status,
        "actor": actor,
        "created_at": now,
        "applied_at": now if status == ChangeStatus.APPLIED else None,
    }


@dataclass(frozen=True, slots=True)
class StagedChange:
    """A staged change as applying it needs it: the field values stay in the JSON form they are stored in,
    which is also the form of the employee's JSON columns and of the events' payloads (see `fields`)."""

    action: ChangeAction
    employee_id: str
    remote_id: str
    # As stored: {"field", "old", "new", "overrides_manual"}, values in values.value_to_json's form.
    fields: list[dict[str, Any]]
    reason: str | None
    takes_primary: bool
    superseded_remote_id: str | None

    def diff(self) -> dict[str, dict[str, JSONValue]]:
        """`{field: {"old", "new"}}`, a new dict on every call: events carry it."""
        return {item["field"]: {"old": item["old"], "new": item["new"]} for item in self.fields}


_CHANGE_COLUMNS = (
    models.Change.action,
    models.Change.employee_id,
    models.Change.remote_id,
    models.Change.fields,
    models.Change.reason,
    models.Change.takes_primary,
    models.Change.superseded_remote_id,
    models.Change.base_version,
)


def change_from_row(row: Sequence[Any]) -> EmployeeChange:
    """A row of `_CHANGE_COLUMNS`."""
    action, employee_id, remote_id, fields, reason, takes_primary, superseded_remote_id, base_version = row
    return EmployeeChange(
        action=ChangeAction(action),
        employee_id=employee_id,
        remote_id=remote_id,
        base_version=base_version,
        fields=tuple(
            FieldChange(
                item["field"],
                value_from_json(item["field"], item["old"]),
                value_from_json(item["field"], item["new"]),
                bool(item.get("overrides_manual")),
            )
            for item in fields
        ),
        reason=reason,
        takes_primary=takes_primary,
        superseded_remote_id=superseded_remote_id,
    )


def insert_changes(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    insert_rows(session, models.table_of(models.Change), rows)


def iter_run_changes(session: Session, account_id: str, run_id: str, status: str) -> Iterator[EmployeeChange]:
    """In staging order, so creations come before the manager links that point at them."""
    for row in _iter_change_rows(session, account_id, run_id, status):
        yield change_from_row(row)


def iter_staged_changes(session: Session, account_id: str, run_id: str, status: str) -> Iterator[StagedChange]:
    """`iter_run_changes` for applying: values left in their stored JSON form."""
    for action, employee_id, remote_id, fields, reason, takes_primary, superseded, _ in _iter_change_rows(
        session, account_id, run_id, status
    ):
        yield StagedChange(
            ChangeAction(action),
            employee_id,
            remote_id,
            fields,
            reason,
            bool(takes_primary),
            superseded,
        )


def _iter_change_rows(session: Session, account_id: str, run_id: str, status: str) -> Iterator[Sequence[Any]]:
    change = models.Change
    # Core rows through the session's connection, streamed: a run reads every one of its rows once, and
    # neither ORM result processing nor a whole run's rows in memory would buy anything.
    result = session.connection().execute(
        select(*_CHANGE_COLUMNS)
        .where(change.account_id == account_id, change.run_id == run_id, change.status == status)
        .order_by(change.id)
        .execution_options(yield_per=1000)
    )
    for rows in result.partitions():
        yield from rows


def set_change_status(
    session: Session, account_id: str, run_id: str, *, from_status: str, to_status: str, now: dt.datetime
) -> None:
    values: dict[str, Any] = {"status": to_status}
    if to_status == ChangeStatus.APPLIED:
        values["applied_at"] = now
    session.execute(
        update(models.Change)
        .where(
            models.Change.account_id == account_id,
            models.Change.run_id == run_id,
            models.Change.status == from_status,
        )
        .values(values)
    )


def mark_conflicted(session: Session, account_id: str, run_id: str, employee_ids: Iterable[str]) -> None:
    ids = sorted(set(employee_ids))
    for start in range(0, len(ids), 900):
        session.execute(
            update(models.Change)
            .where(
                models.Change.account_id == account_id,
                models.Change.run_id == run_id,
                models.Change.employee_id.in_(ids[start : start + 900]),
            )
            .values(status=ChangeStatus.CONFLICTED)
        )


def retract_change(session: Session, account_id: str, run_id: str, employee_id: str, remote_id: str) -> None:
    session.execute(
        delete(models.Change).where(
            models.Change.account_id == account_id,
            models.Change.run_id == run_id,
            models.Change.employee_id == employee_id,
            models.Change.remote_id == remote_id,
        )
    )


def change_counts(session: Session, account_id: str, run_id: str) -> dict[str, int]:
    """Distinct employees per action: a person whose manager is set separately still counts once."""
    rows = session.execute(
        select(models.Change.action, models.Change.employee_id)
        .where(models.Change.account_id == account_id, models.Change.run_id == run_id)
        .distinct()
    )
    by_action: dict[str, set[str]] = {}
    for row in rows:
        by_action.setdefault(row.action, set()).add(row.employee_id)
    created = by_action.get("create", set())
    detached = by_action.get("detach", set())
    touched = (by_action.get("update", set()) | by_action.get("link", set())) - created - detached
    return {"created": len(created), "updated": len(touched), "detached": len(detached)}


def insert_issues(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    insert_rows(session, models.table_of(models.RunIssue), rows)


def run_issues(session: Session, account_id: str, run_id: str, *, limit: int | None = None) -> list[models.RunIssue]:
    return list(
        session.execute(
            select(models.RunIssue)
            .where(models.RunIssue.account_id == account_id, models.RunIssue.run_id == run_id)
            .order_by(models.RunIssue.id)
            .limit(limit)
        ).scalars()
    )


def get_run(session: Session, account_id: str, run_id: str) -> models.SyncRun | None:
    return session.execute(
        select(models.SyncRun).where(models.SyncRun.account_id == account_id, models.SyncRun.id == run_id)
    ).scalar_one_or_none()


def list_runs(session: Session, account_id: str, connection_id: str, *, limit: int = 50) -> list[models.SyncRun]:
    return list(
        session.execute(
            select(models.SyncRun)
            .where(models.SyncRun.account_id == account_id, models.SyncRun.connection_id == connection_id)
            .order_by(models.SyncRun.started_at.desc())
            .limit(limit)
        ).scalars()
    )


def run_changes(session: Session, account_id: str, run_id: str) -> list[models.Change]:
    return list(
        session.execute(
            select(models.Change)
            .where(models.Change.account_id == account_id, models.Change.run_id == run_id)
            .order_by(models.Change.id)
        ).scalars()
    )


def employee_history(
    session: Session, account_id: str, employee_id: str, *, offset: int = 0, limit: int | None = None
) -> list[models.Change]:
    """Applied changes only, newest first: what an admin reading a profile wants to see first."""
    return list(
        session.execute(
            select(models.Change)
            .where(
                models.Change.account_id == account_id,
                models.Change.employee_id == employee_id,
                models.Change.status == ChangeStatus.APPLIED,
            )
            .order_by(models.Change.id.desc())
            .offset(offset)
            .limit(limit)
        ).scalars()
    )


def supersede_held_runs(
    session: Session, account_id: str, connection_id: str, *, by_run: str, now: dt.datetime
) -> None:
    """A newer run makes older held plans stale: they are discarded, never left to pile up hourly."""
    stale = list(
        session.execute(
            select(models.SyncRun.id).where(
                models.SyncRun.account_id == account_id,
                models.SyncRun.connection_id == connection_id,
                models.SyncRun.status == "held",
                models.SyncRun.id != by_run,
            )
        ).scalars()
    )
    for run_id in stale:
        set_change_status(
            session, account_id, run_id, from_status=ChangeStatus.STAGED, to_status=ChangeStatus.DISCARDED, now=now
        )
    if stale:
        session.execute(
            update(models.SyncRun)
            .where(models.SyncRun.id.in_(stale))
            .values(status="discarded", resolved_by=f"superseded by run {by_run}", resolved_at=now)
        )


def run_counts(run: models.SyncRun) -> dict[str, int]:
    return {
        "fetched": run.fetched,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "excluded": run.excluded,
        "detached": run.detached,
        "rejected": run.rejected,
    }


ABANDONED = "The run stopped before it finished (its process ended); nothing of it was applied"


def abandon_running_runs(session: Session, account_id: str, connection_id: str, *, now: dt.datetime) -> int:
    """Call only while holding the connection's lock. Returns how many runs were marked abandoned."""
    stale = list(
        session.execute(
            select(models.SyncRun.id).where(
                models.SyncRun.account_id == account_id,
                models.SyncRun.connection_id == connection_id,
                models.SyncRun.status == "running",
            )
        ).scalars()
    )
    for run_id in stale:
        session.execute(
            delete(models.Change).where(models.Change.account_id == account_id, models.Change.run_id == run_id)
        )
    if stale:
        session.execute(
            update(models.SyncRun)
            .where(models.SyncRun.id.in_(stale))
            .values(status="failed", error_kind="abandoned", error_message=ABANDONED, finished_at=now)
        )
        # Subscribers heard "sync started" from nothing, but they wait for an end: the run failed, say so.
        events = [
            Event("sync.failed", {"run_id": run_id, "connection_id": connection_id, "error": ABANDONED})
            for run_id in stale
        ]
        outbox.insert_events(session, outbox.event_rows(events, account_id=account_id, now=now))
    return len(stale)


def held_runs(session: Session, account_id: str, connection_id: str) -> list[models.SyncRun]:
    """Newest first; a newer run supersedes older held plans, so there is rarely more than one."""
    return list(
        session.execute(
            select(models.SyncRun)
            .where(
                models.SyncRun.account_id == account_id,
                models.SyncRun.connection_id == connection_id,
                models.SyncRun.status == "held",
            )
            .order_by(models.SyncRun.started_at.desc(), models.SyncRun.id)
        ).scalars()
    )
