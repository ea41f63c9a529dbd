"""SQL for the directory's list views (PRODUCT.md §5), and the unscoped run lookup of operator tools."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from staffsync.domain.lifecycle import DEPARTED_VISIBLE_DAYS
from staffsync.storage import models
from staffsync.storage.employees import search_filter


class DirectoryView(StrEnum):
    ACTIVE = "active"
    ONBOARDINGS = "onboardings"
    OFFBOARDINGS = "offboardings"
    DETACHED = "detached"


@dataclass(frozen=True, slots=True)
class DirectoryQuery:
    view: DirectoryView
    # The account's today, in its own time zone: start and last days are calendar days there.
    today: dt.date
    text: str | None = None
    include_hidden: bool = False
    # Offboardings list only people whose end date a continuous field keeps current (PRODUCT.md §5):
    # the connections whose end_date is continuous, decided by the caller from their field settings.
    offboarding_connection_ids: Collection[str] = ()
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    employees: list[models.Employee]
    total: int


def list_directory(session: Session, account_id: str, query: DirectoryQuery) -> DirectoryPage:
    employee = models.Employee
    conditions: list[ColumnElement[bool]] = [employee.account_id == account_id, *_view_conditions(query)]
    if not query.include_hidden:
        conditions.append(employee.hidden.is_(False))
    if query.text and query.text.strip():
        conditions.append(search_filter(query.text))
    total = session.scalar(select(func.count()).select_from(employee).where(*conditions)) or 0
    statement = select(employee).where(*conditions).order_by(*_view_order(query.view), employee.id)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return DirectoryPage(list(session.execute(statement).scalars()), total)


def _view_conditions(query: DirectoryQuery) -> list[ColumnElement[bool]]:
    employee = models.Employee
    if query.view is DirectoryView.DETACHED:
        return [employee.detached_at.is_not(None)]
    # Detached people are out of every workflow, so they are in no list but their own.
    attached = employee.detached_at.is_(None)
    if query.view is DirectoryView.ONBOARDINGS:
        # lifecycle.is_onboarding, in SQL: the start day itself still counts.
        return [attached, employee.start_date >= query.today, employee.onboarding_ignored.is_(False)]
    if query.view is DirectoryView.OFFBOARDINGS:
        # lifecycle.is_listed_offboarding, in SQL: upcoming departures and the recently departed.
        cutoff = query.today - dt.timedelta(days=DEPARTED_VISIBLE_DAYS)
        return [
            attached,
            employee.end_date >= cutoff,
            employee.primary_connection_id.in_(sorted(query.offboarding_connection_ids)),
        ]
    return [attached]


def _view_order(view: DirectoryView) -> list[Any]:
    employee = models.Employee
    by_name = [func.lower(employee.last_name), func.lower(employee.first_name)]
    if view is DirectoryView.ONBOARDINGS:
        return [employee.start_date, *by_name]
    if view is DirectoryView.OFFBOARDINGS:
        return [employee.end_date, *by_name]
    return by_name


def find_run(session: Session, run_id: str) -> models.SyncRun | None:
    """Unscoped lookup for operator tools that start from a run id alone; scope every later call."""
    return session.get(models.SyncRun, run_id)


def count_run_issues(session: Session, account_id: str, run_id: str) -> int:
    return (
        session.scalar(
            select(func.count()).where(models.RunIssue.account_id == account_id, models.RunIssue.run_id == run_id)
        )
        or 0
    )
