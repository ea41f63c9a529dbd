"""Applying a run's staged changes: one transaction for employees, links, history and outbox events."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from staffsync.domain.events import events_for_diff
from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.plan import ChangeAction
from staffsync.services.policies import recompute_assignments
from staffsync.storage import connections as connection_store
from staffsync.storage import employees as employee_store
from staffsync.storage import models, outbox
from staffsync.storage import runs as run_store
from staffsync.storage.runs import ChangeStatus, StagedChange

CHUNK = 1000
# Every row of one executemany must carry the same keys: new employees start from all-empty columns.
_BLANK_COLUMNS = employee_store.values_as_columns(dict.fromkeys(FIELD_NAMES))


class ApprovalConflict(RuntimeError):
    """A held plan may not be applied over people who changed after it was made."""

    def __init__(self, employee_ids: list[str]) -> None:
        self.employee_ids = employee_ids
        super().__init__(
            f"{len(employee_ids)} of the people in this held run changed after it was planned; "
            "discard it and run the sync again to get a fresh plan"
        )


@dataclass
class ApplyResult:
    applied: int = 0
    conflicted: list[str] = field(default_factory=list)
    events: int = 0
    # Remote ids whose links this apply created, seen just now: nothing to touch afterwards.
    linked: set[str] = field(default_factory=set)


def apply_run(
    session: Session,
    run: models.SyncRun,
    *,
    now: dt.datetime,
    today: dt.date,
    refuse_conflicts: bool,
) -> ApplyResult:
    """Applies exactly the run's staged rows. With `refuse_conflicts` (an approval), any person changed
    since planning aborts the whole apply; otherwise those people are skipped and left for the next run."""
    result = ApplyResult()
    conflicted = _conflicts(session, run)
    if conflicted and refuse_conflicts:
        raise ApprovalConflict(sorted(conflicted))
    if conflicted:
        run_store.mark_conflicted(session, run.account_id, run.id, conflicted)
        run_store.insert_issues(
            session,
            [
                {
                    "account_id": run.account_id,
                    "run_id": run.id,
                    "employee_id": employee_id,
                    "code": "changed_during_run",
                    "field": None,
                    "remote_id": None,
                    "message": "Edited while the sync ran: left unchanged, the next sync picks it up",
                }
                for employee_id in sorted(conflicted)
            ],
        )
        result.conflicted = sorted(conflicted)
    connection = session.get(models.Connection, run.connection_id)
    assert connection is not None
    end_date_continuous = connection_store.field_settings_of(connection).is_continuous("end_date")
    hidden = employee_store.hidden_ids(session, run.account_id)
    staged = run_store.iter_staged_changes(session, run.account_id, run.id, ChangeStatus.STAGED)
    while chunk := list(itertools.islice(staged, CHUNK)):
        result.events += _apply_chunk(
            session, run, chunk, now=now, today=today, end_date_continuous=end_date_continuous, hidden=hidden
        )
        result.applied += len(chunk)
        result.linked.update(change.remote_id for change in chunk if change.action is ChangeAction.CREATE)
    run_store.set_change_status(
        session,
        run.account_id,
        run.id,
        from_status=ChangeStatus.STAGED,
        to_status=ChangeStatus.APPLIED,
        now=now,
    )
    # In the same transaction as the changes: an assignment never lags behind the directory it is based on.
    assignments = recompute_assignments(session, run.account_id, now=now, run_id=run.id)
    result.events += len(assignments.added) + len(assignments.removed)
    return result


def _conflicts(session: Session, run: models.SyncRun) -> set[str]:
    planned = session.execute(
        select(models.Change.employee_id, models.Change.base_version).where(
            models.Change.account_id == run.account_id,
            models.Change.run_id == run.id,
            models.Change.status == ChangeStatus.STAGED,
            models.Change.base_version.is_not(None),
        )
    ).all()
    base = {row.employee_id: row.base_version for row in planned}
    current = employee_store.versions(session, run.account_id, base)
    return {employee_id for employee_id, version in base.items() if current.get(employee_id) != version}


def _apply_chunk(
    session: Session,
    run: models.SyncRun,
    chunk: list[StagedChange],
    *,
    now: dt.datetime,
    today: dt.date,
    end_date_continuous: bool,
    hidden: set[str],
) -> int:
    account_id, connection_id = run.account_id, run.connection_id
    creates = [c for c in chunk if c.action is ChangeAction.CREATE]
    employee_store.insert_employees(session, [_employee_row(c, account_id, connection_id, now) for c in creates])
    employee_store.insert_links(
        session,
        [
            {
                "id": str(uuid.uuid4()),
                "account_id": account_id,
                "connection_id": connection_id,
                "employee_id": c.employee_id,
                "remote_id": c.remote_id,
                "active": True,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for c in creates
        ],
    )
    updates: list[dict[str, Any]] = []
    for change in chunk:
        if change.action in (ChangeAction.UPDATE, ChangeAction.LINK):
            updates.append(_update_row(change, connection_id, now))
            if change.action is ChangeAction.LINK:
                _relink(session, change, account_id=account_id, connection_id=connection_id, now=now)
            overridden = [item["field"] for item in change.fields if item.get("overrides_manual")]
            if overridden:
                employee_store.forget_manual_edits(session, account_id, change.employee_id, overridden)
    employee_store.update_employees(session, updates)
    detaching = [
        (change.remote_id, change.employee_id, change.reason or "Detached")
        for change in chunk
        if change.action is ChangeAction.DETACH
    ]
    detached = employee_store.detach_links(
        session, account_id=account_id, connection_id=connection_id, detachments=detaching, now=now
    )
    still_attached = {employee_id for _, employee_id, _ in detaching} - detached
    events = [
        event
        for change in chunk
        # Another source still has this person: only a link went, the employee did not.
        if not (change.action is ChangeAction.DETACH and change.employee_id in still_attached)
        # Hidden people keep syncing but start no onboarding or offboarding.
        for event in events_for_diff(
            change.action,
            change.employee_id,
            change.remote_id,
            change.diff(),
            reason=change.reason,
            workflows_enabled=change.employee_id not in hidden,
            today=today,
            end_date_continuous=end_date_continuous,
        )
    ]
    for event in events:
        event.data["run_id"] = run.id
    outbox.insert_events(session, outbox.event_rows(events, account_id=account_id, now=now))
    return len(events)


def _employee_row(change: StagedChange, account_id: str, connection_id: str, now: dt.datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": change.employee_id,
        "account_id": account_id,
        "version": 1,
        "manually_edited": [],
        "primary_connection_id": connection_id,
        "hidden": False,
        "onboarding_ignored": False,
        "created_at": now,
        "updated_at": now,
    }
    row.update(_BLANK_COLUMNS)
    row.update(employee_store.stored_values_as_columns(change.fields))
    return row


def _update_row(change: StagedChange, connection_id: str, now: dt.datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"b_id": change.employee_id, "updated_at": now}
    row.update(employee_store.stored_values_as_columns(change.fields))
    if change.takes_primary:
        row["primary_connection_id"] = connection_id
    if change.action is ChangeAction.LINK:
        row["detached_at"] = None
        row["detach_reason"] = None
    return row


def _relink(session: Session, change: StagedChange, *, account_id: str, connection_id: str, now: dt.datetime) -> None:
    if change.superseded_remote_id is not None:
        employee_store.deactivate_link(
            session,
            account_id=account_id,
            connection_id=connection_id,
            remote_id=change.superseded_remote_id,
            now=now,
            reason=f"Superseded by remote id {change.remote_id}",
        )
    employee_store.activate_link(
        session,
        account_id=account_id,
        connection_id=connection_id,
        remote_id=change.remote_id,
        employee_id=change.employee_id,
        now=now,
        new_id=str(uuid.uuid4()),
    )


def touch_seen(session: Session, run: models.SyncRun, remote_ids: Iterable[str], *, now: dt.datetime) -> None:
    employee_store.touch_links(session, run.account_id, run.connection_id, sorted(remote_ids), now)
