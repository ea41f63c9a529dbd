"""The planning state of one run: batch lookups around the pure core, staged as the stream goes.

Memory grows with ids only (seen remote ids, this run's links, manager references), never with
whole payloads: records are planned and staged a batch at a time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from staffsync.domain.directory import DirectoryEmployee, Ranks, SourceLink
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules, evaluate
from staffsync.domain.managers import find_cycles, resolve_manager
from staffsync.domain.matching import MatchKind, match
from staffsync.domain.plan import (
    ChangeAction,
    EmployeeChange,
    FieldChange,
    count_new_end_dates,
    decide_value,
    plan_detachment,
    plan_record,
)
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.validation import is_storable_remote_id, rejection
from staffsync.domain.values import EmploymentStatus
from staffsync.storage import employees as employee_store
from staffsync.storage import runs as run_store
from staffsync.sync.snapshot import BatchSnapshot, load_snapshot


@dataclass(frozen=True, slots=True)
class _Claim:
    remote_id: str
    current: bool


@dataclass(frozen=True, slots=True)
class _ManagerRef:
    employee_id: str
    remote_id: str
    manager_remote_id: str | None
    current_manager: str | None
    edited_by_hand: bool
    # None when the employee is created by this run.
    version: int | None


def is_current(record: SourceEmployee, today: dt.date) -> bool:
    """Still working here, as opposed to an old record of the same person (rehire, conversion)."""
    if record.employment_status is EmploymentStatus.INACTIVE:
        return False
    return record.end_date is None or record.end_date >= today


class RunPlanner:
    def __init__(
        self,
        *,
        run_id: str,
        account_id: str,
        connection_id: str,
        settings: FieldSettings,
        rules: FilterRules,
        ranks: Ranks,
        today: dt.date,
        staged_status: str,
        now: dt.datetime,
    ) -> None:
        self.run_id = run_id
        self.account_id = account_id
        self.connection_id = connection_id
        self.settings = settings
        self.rules = rules
        self.ranks = ranks
        self.today = today
        self.staged_status = staged_status
        self.now = now
        self.seen: set[str] = set()
        self.excluded_ids: set[str] = set()
        self.run_links: dict[str, str] = {}
        self._claims: dict[str, _Claim] = {}
        self._email_claims: dict[str, str] = {}
        # Manager references not resolvable when met (the manager comes later in the stream, or not at all).
        self._managers: dict[str, _ManagerRef] = {}
        self._manager_of: dict[str, str | None] = {}
        self._changes: list[EmployeeChange] = []
        self._issues: list[dict[str, Any]] = []
        self._disabled = settings.disabled_fields()
        self.fetched = self.excluded = self.rejected = self.considered = 0
        self.detachments = self.new_end_dates = 0

    # --- the stream -------------------------------------------------------------------------------

    def plan_batch(self, session: Session, batch: Sequence[SourceEmployee | RejectedRecord]) -> None:
        records: list[SourceEmployee] = []
        for item in batch:
            self.fetched += 1
            if isinstance(item, RejectedRecord):
                self._reject(item)
                continue
            record = item.without(self._disabled)
            problem = rejection(record)
            if problem is not None:
                self._reject(problem)
                continue
            if record.remote_id in self.seen:
                self._issue(
                    "duplicate_record",
                    f"Remote id {record.remote_id} was returned twice in one fetch",
                    remote_id=record.remote_id,
                )
                continue
            self.seen.add(record.remote_id)
            records.append(record)
        known = load_snapshot(session, self.account_id, self.connection_id, records)
        for record in records:
            self._plan_record(session, record, known)
        self.flush(session)

    def _plan_record(self, session: Session, record: SourceEmployee, known: BatchSnapshot) -> None:
        link = known.links.get(record.remote_id)
        linked_employee = known.linked.get(link.employee_id) if link is not None else None
        if record.deleted:
            if link is not None and link.active and linked_employee is not None:
                self._detach(link, linked_employee, "Deleted in the HR system")
            return
        verdict = evaluate(record, self.rules)
        if not verdict.included:
            self.excluded += 1
            self.excluded_ids.add(record.remote_id)
            if link is not None and link.active and linked_employee is not None:
                self._detach(
                    link,
                    linked_employee,
                    "Left the filters: " + "; ".join(r.message for r in verdict.reasons),
                )
            return
        self.considered += 1
        key = record.work_email_key
        assert key is not None  # validation rejects records without a work email
        email_employee = known.by_email.get(key)
        email_link = known.email_links.get(email_employee.id) if email_employee is not None else None
        found = match(
            link=link,
            linked_employee=linked_employee,
            email_employee=email_employee,
            email_employee_link=email_link,
        )
        employee_id = found.employee.id if found.employee is not None else self._email_claims.get(key)
        employee_id = employee_id or str(uuid.uuid4())
        current = is_current(record, self.today)
        claim = self._claims.get(employee_id)
        if claim is not None:
            if current and not claim.current:
                self._retract(session, employee_id, claim, record.remote_id)
            else:
                self._issue(
                    "superseded_record" if not current else "duplicate_work_email",
                    f"Remote ids {claim.remote_id} and {record.remote_id} both have the work email "
                    f"{record.work_email}; the directory keeps one employee, fed by {claim.remote_id}"
                    + ("" if not current else ". Resolve the duplicate in the HR system"),
                    remote_id=record.remote_id,
                    employee_id=employee_id,
                )
                return
        feeds = found.employee is None or self.ranks.feeds(self.connection_id, found.employee)
        change = plan_record(
            record,
            found,
            self.settings,
            connection_id=self.connection_id,
            feeds=feeds,
            new_employee_id=employee_id,
        )
        change = self._guard_email(change, key, employee_id, email_employee, record)
        self._claims[employee_id] = _Claim(record.remote_id, current)
        self._email_claims[key] = employee_id
        self.run_links[record.remote_id] = employee_id
        if feeds and self.settings["manager"].enabled:
            change = self._plan_manager(record, found.employee, found.kind, change, employee_id)
        if change is not None:
            self._changes.append(change)
            self.new_end_dates += count_new_end_dates([change])

    def _plan_manager(
        self,
        record: SourceEmployee,
        employee: DirectoryEmployee | None,
        kind: MatchKind,
        change: EmployeeChange | None,
        employee_id: str,
    ) -> EmployeeChange | None:
        """A manager already met in this run is decided now, inside the person's own change; any other
        waits for plan_managers, once every person of the run is known."""
        ref = _ManagerRef(
            employee_id,
            record.remote_id,
            record.manager,
            current_manager=employee.value("manager") if employee is not None else None,  # type: ignore[arg-type]
            edited_by_hand=employee is not None and "manager" in employee.manually_edited,
            version=employee.version if employee is not None and kind is not MatchKind.NEW else None,
        )
        manager_id = self.run_links.get(record.manager) if record.manager is not None else None
        if record.manager is not None and manager_id is None:
            self._managers[employee_id] = ref
            return change
        self._manager_of[employee_id] = manager_id
        manager_change = self._manager_change(ref, manager_id)
        if manager_change is None:
            return change
        if change is None:
            return EmployeeChange(
                ChangeAction.UPDATE, employee_id, record.remote_id, ref.version, (manager_change,), takes_primary=True
            )
        return replace(change, fields=(*change.fields, manager_change))

    def _manager_change(self, ref: _ManagerRef, manager_id: str | None) -> FieldChange | None:
        return decide_value(
            "manager", manager_id, ref.current_manager, edited=ref.edited_by_hand, setting=self.settings["manager"]
        )

    def _guard_email(
        self,
        change: EmployeeChange | None,
        key: str,
        employee_id: str,
        email_employee: DirectoryEmployee | None,
        record: SourceEmployee,
    ) -> EmployeeChange | None:
        """A new work email that already belongs to someone else is not applied: it would merge two people."""
        if change is None or change.action is ChangeAction.CREATE or change.field_change("work_email") is None:
            return change
        owner = email_employee.id if email_employee is not None else self._email_claims.get(key)
        if owner is None or owner == employee_id:
            return change
        self._issue(
            "work_email_taken",
            f"The HR system gives {record.work_email} to remote id {record.remote_id}, but another employee "
            "already has this work email; the email was not changed",
            remote_id=record.remote_id,
            employee_id=employee_id,
            field="work_email",
        )
        fields = tuple(c for c in change.fields if c.field != "work_email")
        if not fields and change.action is ChangeAction.UPDATE and not change.takes_primary:
            return None
        return replace(change, fields=fields)

    def _retract(self, session: Session, employee_id: str, claim: _Claim, winner: str) -> None:
        """An old record of a person (terminated) gives way to their current one found later in the stream."""
        kept = [c for c in self._changes if not (c.employee_id == employee_id and c.remote_id == claim.remote_id)]
        if len(kept) == len(self._changes):
            run_store.retract_change(session, self.account_id, self.run_id, employee_id, claim.remote_id)
        self._changes = kept
        self.run_links.pop(claim.remote_id, None)
        self._managers.pop(employee_id, None)
        self._manager_of.pop(employee_id, None)
        self._issue(
            "superseded_record",
            f"Remote id {claim.remote_id} is an older record of the person now fed by remote id {winner}",
            remote_id=claim.remote_id,
            employee_id=employee_id,
        )

    def _detach(self, link: SourceLink, employee: DirectoryEmployee, reason: str) -> None:
        self._changes.append(plan_detachment(link, employee, reason=reason))
        self.detachments += 1

    def _reject(self, rejected: RejectedRecord) -> None:
        self.rejected += 1
        remote_id = rejected.remote_id
        if remote_id:
            # A person with bad data is still in the source: never detach them for it.
            self.seen.add(remote_id)
        # The mapping rejects records before validation sees their id: one too long for the issue's column is
        # reported without it (found by the generated feeds on PostgreSQL, which enforces the length).
        shown = remote_id if remote_id is not None and is_storable_remote_id(remote_id) else None
        self._issue("rejected", rejected.reason, remote_id=shown, field=rejected.field)

    def _issue(
        self,
        code: str,
        message: str,
        *,
        remote_id: str | None = None,
        employee_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self._issues.append(
            {
                "account_id": self.account_id,
                "run_id": self.run_id,
                "remote_id": remote_id,
                "employee_id": employee_id,
                "code": code,
                "field": field,
                "message": message,
            }
        )

    def flush(self, session: Session) -> None:
        # A generator: the rows of a run's manager changes (one per report) never all exist at once.
        run_store.insert_changes(
            session,
            (
                run_store.change_row(
                    change,
                    account_id=self.account_id,
                    run_id=self.run_id,
                    connection_id=self.connection_id,
                    status=self.staged_status,
                    actor=f"sync:{self.run_id}",
                    now=self.now,
                )
                for change in self._changes
            ),
        )
        run_store.insert_issues(session, self._issues)
        self._changes, self._issues = [], []

    # --- after a complete stream --------------------------------------------------------------------

    def plan_unseen(self, session: Session) -> None:
        """Only after a complete fetch: people the source no longer returns are detached, never deleted."""
        unseen = [
            link
            for link in employee_store.iter_active_links(session, self.account_id, self.connection_id)
            if link.remote_id not in self.seen
        ]
        for part in employee_store.chunks(unseen):
            employees = employee_store.employees_by_id(session, self.account_id, [link.employee_id for link in part])
            for link in part:
                employee = employees.get(link.employee_id)
                if employee is not None and employee.id not in self._claims:
                    self._detach(link, employee, "No longer returned by the HR system")
            self.flush(session)

    def plan_managers(self, session: Session, *, complete_fetch: bool) -> None:
        """After a complete fetch everyone in scope is in this run; an incremental one also trusts the links
        of people it did not fetch, unless this very run excluded them."""
        refs = self._managers
        outside = {
            ref.manager_remote_id
            for ref in refs.values()
            if ref.manager_remote_id is not None
            and ref.manager_remote_id not in self.run_links
            and ref.manager_remote_id not in self.excluded_ids
        }
        known = (
            {}
            if complete_fetch
            else employee_store.remote_ids_to_employees(session, self.account_id, self.connection_id, outside)
        )
        resolved: dict[str, str | None] = {}
        for ref in refs.values():
            manager_id, issue = resolve_manager(
                ref.manager_remote_id,
                employee_id=ref.employee_id,
                remote_id=ref.remote_id,
                lookup=lambda remote: self.run_links.get(remote) or known.get(remote),
                excluded_remote_ids=self.excluded_ids,
            )
            if issue is not None:
                self._issue(
                    issue.problem.value,
                    issue.message,
                    remote_id=ref.remote_id,
                    employee_id=ref.employee_id,
                    field="manager",
                )
            resolved[ref.employee_id] = manager_id
        self._manager_of.update(resolved)
        graph = employee_store.manager_graph(session, self.account_id, self.connection_id)
        graph.update(self._manager_of)
        remote_of = {employee_id: remote for remote, employee_id in self.run_links.items()}
        for cycle in find_cycles(graph, starts=list(self._manager_of)):
            chain = " → ".join(remote_of.get(member, member) for member in [*cycle, cycle[0]])
            for member in cycle:
                self._issue(
                    "manager_cycle",
                    f"The manager chain loops ({chain}); fix it in the HR system",
                    employee_id=member,
                    remote_id=remote_of.get(member),
                    field="manager",
                )
        for ref in refs.values():
            change = self._manager_change(ref, resolved[ref.employee_id])
            if change is not None:
                self._changes.append(
                    EmployeeChange(ChangeAction.UPDATE, ref.employee_id, ref.remote_id, ref.version, (change,))
                )
        self.flush(session)
