"""SQL for connections: their settings, and the purge that follows a field being switched off."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Set
from typing import Any

from sqlalchemy import String, bindparam, cast, func, or_, select, update
from sqlalchemy.orm import Session

from staffsync.crypto import CredentialCipher
from staffsync.domain.directory import ConnectionRank, Ranks
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.domain.safeguards import Thresholds
from staffsync.storage import models
from staffsync.storage.employees import chunks, column_values


def create_connection(
    session: Session,
    account_id: str,
    *,
    name: str,
    provider: str,
    now: dt.datetime,
    config: dict[str, Any] | None = None,
    credentials_encrypted: str | None = None,
    priority: int = 1,
    schedule_minutes: int = 60,
    field_settings: FieldSettings | None = None,
    filters: FilterRules | None = None,
) -> models.Connection:
    connection = models.Connection(
        id=str(uuid.uuid4()),
        account_id=account_id,
        name=name,
        provider=provider,
        config=config or {},
        credentials_encrypted=credentials_encrypted,
        field_settings=(field_settings or FieldSettings.defaults()).to_mapping(),
        filters=(filters or FilterRules()).to_mapping(),
        thresholds=Thresholds().to_mapping(),
        priority=priority,
        schedule_minutes=schedule_minutes,
        status="new",
        created_at=now,
        settings_changed_at=now,
        # Never synced: due at once (domain/schedule.py takes over after the first run).
        next_sync_at=now,
    )
    session.add(connection)
    session.flush()
    return connection


def get_connection(session: Session, account_id: str, connection_id: str) -> models.Connection | None:
    return session.execute(
        select(models.Connection).where(
            models.Connection.account_id == account_id, models.Connection.id == connection_id
        )
    ).scalar_one_or_none()


def find_connection(session: Session, connection_id: str) -> models.Connection | None:
    """Unscoped lookup for operator tools (CLI, scheduler) that start from a connection id alone."""
    return session.get(models.Connection, connection_id)


def list_connections(session: Session, account_id: str) -> list[models.Connection]:
    return list(
        session.execute(
            select(models.Connection)
            .where(models.Connection.account_id == account_id)
            .order_by(models.Connection.priority, models.Connection.created_at)
        ).scalars()
    )


def ranks(session: Session, account_id: str) -> Ranks:
    connections = list_connections(session, account_id)
    return Ranks(
        {
            c.id: ConnectionRank(c.id, c.priority, order)
            for order, c in enumerate(sorted(connections, key=lambda c: c.created_at))
            if c.disconnected_at is None
        }
    )


def field_settings_of(connection: models.Connection) -> FieldSettings:
    return FieldSettings.from_mapping(connection.field_settings)


def filters_of(connection: models.Connection) -> FilterRules:
    return FilterRules.from_mapping(connection.filters)


def thresholds_of(connection: models.Connection) -> Thresholds:
    return Thresholds.from_mapping(connection.thresholds)


def save_field_settings(
    session: Session, connection: models.Connection, settings: FieldSettings, *, now: dt.datetime
) -> frozenset[str]:
    """Saves and purges at once what was switched off: personal data leaves as soon as the admin says so.

    Returns the purged fields."""
    switched_off = settings.switched_off(field_settings_of(connection))
    connection.field_settings = settings.to_mapping()
    connection.settings_changed_at = now
    if switched_off:
        purge_fields(session, connection.account_id, connection.id, switched_off)
    return switched_off


def save_filters(session: Session, connection: models.Connection, rules: FilterRules, *, now: dt.datetime) -> None:
    connection.filters = rules.to_mapping()
    connection.settings_changed_at = now


def purge_fields(session: Session, account_id: str, connection_id: str, fields: Iterable[str]) -> None:
    """Blank the fields' values for every employee this connection feeds, and wherever else they were copied: the
    history, the staged changes of this source's runs (held or simulated), and the outbox events' payloads."""
    purged = set(fields)
    employee = models.Employee
    fed = (
        select(models.SourceLink.employee_id)
        .where(models.SourceLink.account_id == account_id, models.SourceLink.connection_id == connection_id)
        .scalar_subquery()
    )
    blank: dict[str, Any] = {}
    for name in purged:
        blank.update({column: None for column in column_values(name, None)})
    session.execute(
        update(employee)
        .where(
            employee.account_id == account_id,
            employee.id.in_(fed),
            or_(employee.primary_connection_id == connection_id, employee.primary_connection_id.is_(None)),
        )
        .values(blank)
    )
    employee_ids = list(
        session.execute(
            select(models.SourceLink.employee_id).where(
                models.SourceLink.account_id == account_id, models.SourceLink.connection_id == connection_id
            )
        ).scalars()
    )
    # Staged changes of this source's runs (a held run's creates name people no link knows yet) hold values too.
    staged = set(
        session.execute(
            select(models.Change.employee_id).where(
                models.Change.account_id == account_id, models.Change.connection_id == connection_id
            )
        ).scalars()
    )
    everyone = sorted(set(employee_ids) | staged)
    for part in chunks(everyone):
        rows = session.execute(
            select(models.Change.id, models.Change.fields).where(
                models.Change.account_id == account_id,
                or_(models.Change.employee_id.in_(part), models.Change.connection_id == connection_id),
            )
        ).all()
        rewritten = [
            {"b_id": row.id, "fields": [item for item in row.fields if item["field"] not in purged]}
            for row in rows
            if any(item["field"] in purged for item in row.fields)
        ]
        if rewritten:
            table = models.table_of(models.Change)
            session.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(fields=bindparam("fields")),
                rewritten,
            )
    purge_event_fields(session, account_id, set(everyone), purged)


def purge_event_fields(session: Session, account_id: str, employee_ids: Set[str], fields: Set[str]) -> None:
    """Removes the fields' values from the outbox events about these people, delivered or not: the events stay
    (webhook deliveries refer to them, and a pending one then sends the event without the value)."""
    if not employee_ids or not fields:
        return
    # Event data is JSON whose shape depends on the type: filtered in Python, alike on SQLite and PostgreSQL.
    rows = session.execute(
        select(models.OutboxEvent.id, models.OutboxEvent.data).where(
            models.OutboxEvent.account_id == account_id,
            models.OutboxEvent.type.in_(("employee.created", "employee.updated")),
        )
    ).all()
    rewritten = []
    for row in rows:
        data = row.data
        if not isinstance(data, dict) or data.get("employee_id") not in employee_ids:
            continue
        key = "fields" if "fields" in data else "changes"
        values = data.get(key)
        if isinstance(values, dict) and fields & values.keys():
            kept = {name: value for name, value in values.items() if name not in fields}
            rewritten.append({"b_id": row.id, "data": {**data, key: kept}})
    if rewritten:
        table = models.table_of(models.OutboxEvent)
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(data=bindparam("data")), rewritten)


def store_credentials(connection: models.Connection, credentials: str, cipher: CredentialCipher) -> None:
    """Only ciphertext bound to the account reaches the database: a dump leaks no provider secret."""
    connection.credentials_encrypted = cipher.encrypt(connection.account_id, credentials)


def read_credentials(connection: models.Connection, cipher: CredentialCipher) -> str | None:
    if connection.credentials_encrypted is None:
        return None
    return cipher.decrypt(connection.account_id, connection.credentials_encrypted)


def count_purgeable(session: Session, account_id: str, connection_id: str, fields: Iterable[str]) -> dict[str, int]:
    """Per field, how many people hold a value that `purge_fields` would erase: the same people, counted before."""
    employee = models.Employee
    fed = (
        select(models.SourceLink.employee_id)
        .where(models.SourceLink.account_id == account_id, models.SourceLink.connection_id == connection_id)
        .scalar_subquery()
    )
    counts: dict[str, int] = {}
    for name in sorted(set(fields)):
        column = getattr(employee, name)
        # JSON columns keep an emptied value as the JSON text null, not as SQL NULL.
        holding = (
            select(func.count())
            .select_from(employee)
            .where(
                employee.account_id == account_id,
                employee.id.in_(fed),
                or_(employee.primary_connection_id == connection_id, employee.primary_connection_id.is_(None)),
                column.is_not(None),
                cast(column, String) != "null",
                cast(column, String) != "",
            )
        )
        counts[name] = session.scalar(holding) or 0
    return counts
