"""SQL for the directory's list views (PRODUCT.md §5), and the unscoped run lookup of operator tools.

Lists page by keyset, never by offset: a page starts right after the sort key of the previous page's last
row, so the 2,000th page of 100,000 people costs what the first does. Names sort on the raw columns, in
the database's collation, so that ix_employees_account_last_name serves the order and the seek.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, true, tuple_
from sqlalchemy.orm import Session

from staffsync.domain.lifecycle import DEPARTED_VISIBLE_DAYS
from staffsync.storage import models
from staffsync.storage.search import search_filter


class DirectoryView(StrEnum):
    ACTIVE = "active"
    ONBOARDINGS = "onboardings"
    OFFBOARDINGS = "offboardings"
    DETACHED = "detached"


@dataclass(frozen=True, slots=True)
class DirectoryCursor:
    """Where the next page starts: the sort key of the last row shown, and which section of the order it is in."""

    section: int
    key: tuple[str | dt.date, ...]

    def to_token(self) -> str:
        """Opaque for clients; tagged values so that dates come back as dates."""
        values = [f"d:{v.isoformat()}" if isinstance(v, dt.date) else f"s:{v}" for v in self.key]
        # Not ASCII-escaped: a name outside the Basic Multilingual Plane would take twelve characters a letter.
        raw = json.dumps([self.section, values], separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> DirectoryCursor | None:
        """None for anything this module did not produce: a bad cursor means the first page, not an error."""
        try:
            section, values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            key = tuple(dt.date.fromisoformat(v[2:]) if v.startswith("d:") else _text(v) for v in values)
        except (binascii.Error, ValueError, TypeError, AttributeError, RecursionError):
            # RecursionError: a made-up token of a thousand nested brackets.
            return None
        if not isinstance(section, int) or isinstance(section, bool) or section < 0 or not key:
            return None
        return cls(section, key)


def _text(value: str) -> str:
    if not value.startswith("s:"):
        raise ValueError("untagged cursor value")
    return value[2:]


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
    team: str | None = None
    legal_entity: str | None = None
    employment_type: str | None = None
    after: DirectoryCursor | None = None


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    employees: list[models.Employee]
    total: int
    # Set when more rows follow this page.
    next_cursor: DirectoryCursor | None = None


@dataclass(frozen=True, slots=True)
class DirectoryFacets:
    """The values the account's people actually have: what a filter can usefully offer."""

    teams: list[str] = field(default_factory=list)
    legal_entities: list[str] = field(default_factory=list)
    employment_types: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Section:
    """One stretch of a view's total order: the rows meeting `condition`, sorted by `keys` (the last is the id)."""

    condition: ColumnElement[bool]
    keys: tuple[Any, ...]


def list_directory(session: Session, account_id: str, query: DirectoryQuery) -> DirectoryPage:
    conditions = _conditions(account_id, query)
    employee = models.Employee
    total = session.scalar(select(func.count()).select_from(employee).where(*conditions)) or 0
    if query.limit == 0:
        return DirectoryPage([], total)
    sections = _sections(query.view)
    after = query.after if query.after is not None and _fits(sections, query.after) else None
    wanted = None if query.limit is None else query.limit + 1
    found: list[tuple[int, models.Employee, tuple[Any, ...]]] = []
    for index in range(after.section if after else 0, len(sections)):
        section = sections[index]
        where = [*conditions, section.condition]
        if after is not None and index == after.section:
            where.extend(_seek(section, after.key))
        statement = (
            select(employee, *(key.label(f"k{n}") for n, key in enumerate(section.keys)))
            .where(*where)
            .order_by(*section.keys)
        )
        if wanted is not None:
            statement = statement.limit(wanted - len(found))
        found.extend((index, row[0], tuple(row[1:])) for row in session.execute(statement))
        if wanted is not None and len(found) >= wanted:
            break
    more = query.limit is not None and len(found) > query.limit
    shown = found[: query.limit] if query.limit is not None else found
    cursor = DirectoryCursor(shown[-1][0], shown[-1][2]) if more and shown else None
    return DirectoryPage([row for _, row, _ in shown], total, cursor)


def _conditions(account_id: str, query: DirectoryQuery) -> list[ColumnElement[bool]]:
    employee = models.Employee
    conditions: list[ColumnElement[bool]] = [employee.account_id == account_id, *_view_conditions(query)]
    if not query.include_hidden:
        conditions.append(employee.hidden.is_(False))
    if query.text and query.text.strip():
        conditions.append(search_filter(query.text))
    if query.team:
        conditions.append(employee.team_name == query.team)
    if query.legal_entity:
        conditions.append(employee.legal_entity_name == query.legal_entity)
    if query.employment_type:
        conditions.append(_employment_type() == query.employment_type)
    return conditions


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


def _sections(view: DirectoryView) -> tuple[_Section, ...]:
    employee = models.Employee
    first = func.coalesce(employee.first_name, "")
    if view is DirectoryView.ONBOARDINGS or view is DirectoryView.OFFBOARDINGS:
        # The view's own condition makes the date non-null; these lists are short, so no index is needed.
        day = employee.start_date if view is DirectoryView.ONBOARDINGS else employee.end_date
        return (_Section(true(), (day, func.coalesce(employee.last_name, ""), first, employee.id)),)
    # People without a last name (a source may give only a first name) come last, in a section of their
    # own: the seek on last_name stays a plain index range, and NULL ordering never differs by database.
    return (
        _Section(employee.last_name.is_not(None), (employee.last_name, first, employee.id)),
        _Section(employee.last_name.is_(None), (first, employee.id)),
    )


def fits_view(view: DirectoryView, cursor: DirectoryCursor) -> bool:
    """Whether `cursor` could have come from a page of `view` (not of another list)."""
    return _fits(_sections(view), cursor)


def _fits(sections: Sequence[_Section], cursor: DirectoryCursor) -> bool:
    """Whether a cursor is one this view's order could have produced (an old or edited link may not be)."""
    if cursor.section >= len(sections):
        return False
    keys = sections[cursor.section].keys
    return len(keys) == len(cursor.key) and all(
        isinstance(value, dt.date) is (key.type.python_type is dt.date)
        for key, value in zip(keys, cursor.key, strict=True)
    )


def _seek(section: _Section, key: Sequence[Any]) -> list[ColumnElement[bool]]:
    """Rows strictly after `key` in the section's order."""
    typed = [literal(value, type_=column.type) for column, value in zip(section.keys, key, strict=True)]
    # The row comparison alone is exact; the plain bound on the leading key lets the index seek to the page.
    return [section.keys[0] >= typed[0], tuple_(*section.keys) > tuple_(*typed)]


def _employment_type() -> Any:
    return models.Employee.employment_type["type"].as_string()


def directory_facets(session: Session, account_id: str) -> DirectoryFacets:
    employee = models.Employee

    def values_of(column: Any) -> list[str]:
        rows = session.execute(
            select(column)
            .where(employee.account_id == account_id, column.is_not(None))
            .group_by(column)
            .order_by(column)
        ).scalars()
        return [str(value) for value in rows]

    return DirectoryFacets(
        teams=values_of(employee.team_name),
        legal_entities=values_of(employee.legal_entity_name),
        employment_types=values_of(_employment_type()),
    )


def ref_options(session: Session, account_id: str, field: str) -> list[tuple[str, str | None]]:
    """`(id, name)` of every team or legal entity the account's people have: what a hand edit may pick."""
    column = {"team": models.Employee.team, "legal_entity": models.Employee.legal_entity}[field]
    ref_id, ref_name = column["id"].as_string(), column["name"].as_string()
    rows = session.execute(
        select(ref_id, ref_name)
        .where(models.Employee.account_id == account_id, ref_id.is_not(None))
        .group_by(ref_id, ref_name)
        .order_by(ref_name, ref_id)
    )
    return [(row[0], row[1]) for row in rows]


def employee_links(
    session: Session, account_id: str, employee_id: str
) -> list[tuple[models.SourceLink, models.Connection]]:
    """Every source record ever tied to the person, active first, with the connection it comes from."""
    rows = session.execute(
        select(models.SourceLink, models.Connection)
        .join(models.Connection, models.Connection.id == models.SourceLink.connection_id)
        .where(
            models.SourceLink.account_id == account_id,
            models.Connection.account_id == account_id,
            models.SourceLink.employee_id == employee_id,
        )
        .order_by(models.SourceLink.active.desc(), models.SourceLink.last_seen_at.desc())
    )
    return [(row[0], row[1]) for row in rows]


def last_applied_run(session: Session, account_id: str, connection_id: str) -> models.SyncRun | None:
    """The newest run that changed the directory (not a dry run, not held or failed)."""
    return session.execute(
        select(models.SyncRun)
        .where(
            models.SyncRun.account_id == account_id,
            models.SyncRun.connection_id == connection_id,
            models.SyncRun.dry_run.is_(False),
            models.SyncRun.status == "succeeded",
        )
        .order_by(models.SyncRun.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def person_issues(
    session: Session, account_id: str, run_id: str, *, employee_id: str, remote_ids: Collection[str]
) -> list[models.RunIssue]:
    """What a run reported about one person, by their employee id or any of their source records."""
    person = models.RunIssue.employee_id == employee_id
    if remote_ids:
        person = person | models.RunIssue.remote_id.in_(sorted(remote_ids))
    return list(
        session.execute(
            select(models.RunIssue)
            .where(models.RunIssue.account_id == account_id, models.RunIssue.run_id == run_id, person)
            .order_by(models.RunIssue.id)
        ).scalars()
    )


def display_names(
    session: Session, account_id: str, employee_ids: Collection[str]
) -> dict[str, tuple[str, str | None]]:
    """`(name, work email)` of the given people of the account; the name falls back to the email."""
    if not employee_ids:
        return {}
    rows = session.execute(
        select(
            models.Employee.id, models.Employee.first_name, models.Employee.last_name, models.Employee.work_email
        ).where(models.Employee.account_id == account_id, models.Employee.id.in_(sorted(employee_ids)))
    )
    return {
        row.id: (" ".join(p for p in (row.first_name, row.last_name) if p) or row.work_email or row.id, row.work_email)
        for row in rows
    }


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
