"""SQL for employees and their source links, converting rows to and from the pure core's snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from staffsync.domain.directory import DirectoryEmployee, SourceLink
from staffsync.domain.fields import FIELD_NAMES, fields_of_kind, value_from_json
from staffsync.domain.records import normalise_email
from staffsync.domain.values import FieldValue, JSONValue, value_to_json
from staffsync.storage import models
from staffsync.storage.db import insert_rows, insert_rows_as_one_statement

# SQL IN lists stay well under SQLite's 32,766 bound-parameter limit.
CHUNK = 900
_DATE_FIELDS = frozenset(fields_of_kind(["date"]))
# Fields stored other than as their JSON form in a single column (see stored_column_values).
_CONVERTED_FIELDS = _DATE_FIELDS | {"work_email", "team", "legal_entity"}
_SNAPSHOT_COLUMNS = [
    models.Employee.id,
    models.Employee.version,
    *(getattr(models.Employee, name) for name in FIELD_NAMES),
    models.Employee.manually_edited,
    models.Employee.primary_connection_id,
    models.Employee.detached_at,
    models.Employee.hidden,
    models.Employee.onboarding_ignored,
]


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def column_values(field: str, value: FieldValue) -> dict[str, Any]:
    """The columns one field occupies; names and keys kept beside JSON values so lists can search them."""
    return stored_column_values(field, value_to_json(value))


def stored_column_values(field: str, data: JSONValue) -> dict[str, Any]:
    """`column_values` of a value in its JSON form (values.value_to_json), as staged changes hold it: the
    JSON columns take it as it is."""
    columns: dict[str, Any] = {field: dt.date.fromisoformat(data) if field in _DATE_FIELDS and data else data}
    if field == "work_email":
        columns["work_email_key"] = normalise_email(data)
    elif field == "team":
        columns["team_name"] = (data.get("name") or data["id"]) if data else None
    elif field == "legal_entity":
        columns["legal_entity_name"] = (data.get("name") or data["id"]) if data else None
    return columns


def _snapshot(row: Any) -> DirectoryEmployee:
    mapping = row._mapping
    return DirectoryEmployee(
        id=mapping["id"],
        version=mapping["version"],
        values={name: value_from_json(name, mapping[name]) for name in FIELD_NAMES},
        manually_edited=frozenset(mapping["manually_edited"] or ()),
        primary_connection_id=mapping["primary_connection_id"],
        detached=mapping["detached_at"] is not None,
        hidden=mapping["hidden"],
        onboarding_ignored=mapping["onboarding_ignored"],
    )


def employees_by_id(session: Session, account_id: str, ids: Iterable[str]) -> dict[str, DirectoryEmployee]:
    return _snapshots_by(session, account_id, models.Employee.id, ids)


def employees_by_email(session: Session, account_id: str, keys: Iterable[str]) -> dict[str, DirectoryEmployee]:
    """Keyed by the normalised work email (records.normalise_email)."""
    return _snapshots_by(session, account_id, models.Employee.work_email_key, keys)


def _snapshots_by(
    session: Session, account_id: str, column: InstrumentedAttribute[Any], keys: Iterable[str]
) -> dict[str, DirectoryEmployee]:
    found: dict[str, DirectoryEmployee] = {}
    for part in chunks(sorted(set(keys))):
        rows = session.execute(
            select(*_SNAPSHOT_COLUMNS, column.label("lookup_key")).where(
                models.Employee.account_id == account_id, column.in_(part)
            )
        )
        found.update((row.lookup_key, _snapshot(row)) for row in rows)
    return found


def _link(row: Any) -> SourceLink:
    return SourceLink(row.connection_id, row.remote_id, row.employee_id, row.active)


_LINK_COLUMNS = [
    models.SourceLink.connection_id,
    models.SourceLink.remote_id,
    models.SourceLink.employee_id,
    models.SourceLink.active,
]


def links_by_remote_id(
    session: Session, account_id: str, connection_id: str, remote_ids: Iterable[str]
) -> dict[str, SourceLink]:
    found: dict[str, SourceLink] = {}
    for part in chunks(sorted(set(remote_ids))):
        rows = session.execute(
            select(*_LINK_COLUMNS).where(
                models.SourceLink.account_id == account_id,
                models.SourceLink.connection_id == connection_id,
                models.SourceLink.remote_id.in_(part),
            )
        )
        found.update((row.remote_id, _link(row)) for row in rows)
    return found


def active_links_by_employee(
    session: Session, account_id: str, connection_id: str, employee_ids: Iterable[str]
) -> dict[str, SourceLink]:
    found: dict[str, SourceLink] = {}
    for part in chunks(sorted(set(employee_ids))):
        rows = session.execute(
            select(*_LINK_COLUMNS).where(
                models.SourceLink.account_id == account_id,
                models.SourceLink.connection_id == connection_id,
                models.SourceLink.active.is_(True),
                models.SourceLink.employee_id.in_(part),
            )
        )
        found.update((row.employee_id, _link(row)) for row in rows)
    return found


def iter_active_links(session: Session, account_id: str, connection_id: str) -> Iterator[SourceLink]:
    rows = session.execute(
        select(*_LINK_COLUMNS)
        .where(
            models.SourceLink.account_id == account_id,
            models.SourceLink.connection_id == connection_id,
            models.SourceLink.active.is_(True),
        )
        .order_by(models.SourceLink.remote_id)
        .execution_options(yield_per=2000)
    )
    for row in rows:
        yield _link(row)


def count_active_links(session: Session, account_id: str, connection_id: str) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                models.SourceLink.account_id == account_id,
                models.SourceLink.connection_id == connection_id,
                models.SourceLink.active.is_(True),
            )
        )
        or 0
    )


def manager_graph(session: Session, account_id: str, connection_id: str) -> dict[str, str | None]:
    """employee → manager for everyone this connection actively links: the base cycles are found on."""
    rows = session.execute(
        select(models.Employee.id, models.Employee.manager)
        .join(models.SourceLink, models.SourceLink.employee_id == models.Employee.id)
        .where(
            models.SourceLink.account_id == account_id,
            models.SourceLink.connection_id == connection_id,
            models.SourceLink.active.is_(True),
        )
    )
    return {row.id: row.manager for row in rows}


def remote_ids_to_employees(
    session: Session, account_id: str, connection_id: str, remote_ids: Iterable[str]
) -> dict[str, str]:
    return {
        remote_id: link.employee_id
        for remote_id, link in links_by_remote_id(session, account_id, connection_id, remote_ids).items()
        if link.active
    }


def insert_employees(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    # The search index's trigger makes a statement per row costly on SQLite (storage/search.py).
    insert_rows_as_one_statement(session, models.table_of(models.Employee), rows)


def insert_links(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    insert_rows(session, models.table_of(models.SourceLink), rows)


def versions(session: Session, account_id: str, ids: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(sorted(set(ids))):
        rows = session.execute(
            select(models.Employee.id, models.Employee.version)
            .where(models.Employee.account_id == account_id, models.Employee.id.in_(part))
            .with_for_update()
        )
        found.update((row.id, row.version) for row in rows)
    return found


def update_employees(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk updates, one executemany per distinct set of columns. Each row has `b_id` plus columns."""
    table = models.table_of(models.Employee)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(k for k in row if k != "b_id")), []).append(row)
    for columns, batch in shapes.items():
        # Bound names must differ from column names in an UPDATE's SET clause.
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({**{name: bindparam(f"v_{name}") for name in columns}, "version": table.c.version + 1})
        )
        session.execute(
            statement, [{"b_id": row["b_id"], **{f"v_{name}": row[name] for name in columns}} for row in batch]
        )


def touch_links(
    session: Session, account_id: str, connection_id: str, remote_ids: Sequence[str], now: dt.datetime
) -> None:
    for part in chunks(list(remote_ids)):
        session.execute(
            update(models.SourceLink)
            .where(
                models.SourceLink.account_id == account_id,
                models.SourceLink.connection_id == connection_id,
                models.SourceLink.remote_id.in_(part),
            )
            .values(last_seen_at=now)
        )


def activate_link(
    session: Session,
    *,
    account_id: str,
    connection_id: str,
    remote_id: str,
    employee_id: str,
    now: dt.datetime,
    new_id: str,
) -> None:
    existing = session.execute(
        select(models.SourceLink.id).where(
            models.SourceLink.connection_id == connection_id, models.SourceLink.remote_id == remote_id
        )
    ).scalar()
    if existing is None:
        insert_links(
            session,
            [
                {
                    "id": new_id,
                    "account_id": account_id,
                    "connection_id": connection_id,
                    "remote_id": remote_id,
                    "employee_id": employee_id,
                    "active": True,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
            ],
        )
        return
    session.execute(
        update(models.SourceLink)
        .where(models.SourceLink.id == existing)
        .values(employee_id=employee_id, active=True, last_seen_at=now, detached_at=None, detach_reason=None)
    )


def deactivate_link(
    session: Session, *, account_id: str, connection_id: str, remote_id: str, now: dt.datetime, reason: str
) -> None:
    session.execute(
        update(models.SourceLink)
        .where(
            models.SourceLink.account_id == account_id,
            models.SourceLink.connection_id == connection_id,
            models.SourceLink.remote_id == remote_id,
        )
        .values(active=False, detached_at=now, detach_reason=reason)
    )


def detach_links(
    session: Session,
    *,
    account_id: str,
    connection_id: str,
    detachments: Sequence[tuple[str, str, str]],
    now: dt.datetime,
) -> set[str]:
    """Deactivates this connection's links `(remote_id, employee_id, reason)`, in bulk. An employee is detached
    only when no other source still has them; otherwise this connection just stops being their primary.

    Returns the ids of the employees who became detached."""
    links, table = models.table_of(models.SourceLink), models.table_of(models.Employee)
    detached: set[str] = set()
    for part in chunks(list(detachments)):
        session.execute(
            update(links)
            .where(
                links.c.account_id == account_id,
                links.c.connection_id == connection_id,
                links.c.remote_id == bindparam("b_remote_id"),
            )
            .values(active=False, detached_at=now, detach_reason=bindparam("b_reason")),
            [{"b_remote_id": remote_id, "b_reason": reason} for remote_id, _, reason in part],
        )
        ids = {employee_id for _, employee_id, _ in part}
        still_linked = set(
            session.execute(
                select(models.SourceLink.employee_id)
                .where(
                    models.SourceLink.account_id == account_id,
                    models.SourceLink.employee_id.in_(ids),
                    models.SourceLink.active.is_(True),
                )
                .distinct()
            ).scalars()
        )
        gone = {employee_id: reason for _, employee_id, reason in part if employee_id not in still_linked}
        if still_linked:
            session.execute(
                update(table)
                .where(table.c.id.in_(still_linked), table.c.primary_connection_id == connection_id)
                .values(primary_connection_id=None, version=table.c.version + 1, updated_at=now)
            )
        if gone:
            session.execute(
                update(table)
                .where(table.c.account_id == account_id, table.c.id == bindparam("b_id"))
                .values(
                    detached_at=now,
                    detach_reason=bindparam("b_reason"),
                    primary_connection_id=None,
                    version=table.c.version + 1,
                    updated_at=now,
                ),
                [{"b_id": employee_id, "b_reason": reason} for employee_id, reason in gone.items()],
            )
        detached.update(gone)
    return detached


def forget_manual_edits(session: Session, account_id: str, employee_id: str, fields: Iterable[str]) -> None:
    dropped = set(fields)
    row = session.execute(
        select(models.Employee.manually_edited).where(
            models.Employee.account_id == account_id, models.Employee.id == employee_id
        )
    ).scalar()
    remaining = [name for name in (row or []) if name not in dropped]
    session.execute(update(models.Employee).where(models.Employee.id == employee_id).values(manually_edited=remaining))


def values_as_columns(values: Mapping[str, FieldValue]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name, value in values.items():
        columns.update(column_values(name, value))
    return columns


def stored_values_as_columns(fields: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The columns of a staged change's new values: `fields` as runs.change_row stores them."""
    columns: dict[str, Any] = {}
    for item in fields:
        name = item["field"]
        if name in _CONVERTED_FIELDS:
            columns.update(stored_column_values(name, item["new"]))
        else:
            # Most fields are one column holding the JSON form: a first sync applies every field of everyone.
            columns[name] = item["new"]
    return columns


def hidden_ids(session: Session, account_id: str) -> set[str]:
    """The account's hidden people: a few, read once per apply rather than looked up per chunk of changes
    (by id, which PostgreSQL planned as a walk through the tenant while a first sync's rows had no statistics)."""
    return set(
        session.execute(
            select(models.Employee.id).where(models.Employee.account_id == account_id, models.Employee.hidden.is_(True))
        ).scalars()
    )
