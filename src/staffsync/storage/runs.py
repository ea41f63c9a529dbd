"""SQL for sync runs, their staged and applied changes, and their per-person issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from staffsync.domain.events import Event
from staffsync.domain.fields import value_from_json
from staffsync.domain.plan import ChangeAction, EmployeeChange, FieldChange
from staffsync.domain.values import value_to_json
from staffsync.storage import models, outbox


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
        "fields": [
            {
                "field": c.field,
                "old": value_to_json(c.old),
                "new": value_to_json(c.new),
                "overrides_manual": c.overrides_manual,
            }
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


def change_from_row(row: Any) -> EmployeeChange:
    return EmployeeChange(
        action=ChangeAction(row.action),
        employee_id=row.employee_id,
        remote_id=row.remote_id,
        base_version=row.base_version,
        fields=tuple(
            FieldChange(
                item["field"],
                value_from_json(item["field"], item["old"]),
                value_from_json(item["field"], item["new"]),
                bool(item.get("overrides_manual")),
            )
            for item in row.fields
        ),
        reason=row.reason,
        takes_primary=row.takes_primary,
        superseded_remote_id=row.superseded_remote_id,
    )


def insert_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(models.table_of(models.Change).insert(), rows)


def iter_run_changes(session: Session, account_id: str, run_id: str, status: str) -> Iterator[EmployeeChange]:
    """In staging order, so creations come before the manager links that point at them."""
    change = models.Change
    # Columns, not ORM objects: a run applies every one of its rows once, and the identity map would only
    # add the cost of building (and, in a long session, keeping) an object per row.
    rows = session.execute(
        select(
            change.action,
            change.employee_id,
            change.remote_id,
            change.base_version,
            change.fields,
            change.reason,
            change.takes_primary,
            change.superseded_remote_id,
        )
        .where(change.account_id == account_id, change.run_id == run_id, change.status == status)
        .order_by(change.id)
        .execution_options(yield_per=2000)
    )
    for row in rows:
        yield change_from_row(row)


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


def insert_issues(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(models.table_of(models.RunIssue).insert(), rows)


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
