"""A hand-fed source and a one-account directory for engine and storage tests: every record is spelled out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select

from staffsync.connectors.base import FetchRequest, FilterOptions
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import EmploymentStatus, EmploymentType, EmploymentTypeValue, Ref
from staffsync.storage import accounts, connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import SyncOutcome, run_sync

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 2)


def person(n: int, **overrides: Any) -> SourceEmployee:
    base = SourceEmployee(
        remote_id=f"r{n}",
        first_name=f"First{n}",
        last_name=f"Last{n}",
        work_email=f"person{n}@acme.test",
        start_date=dt.date(2024, 1, 1),
        team=Ref("team-eng", "Engineering"),
        legal_entity=Ref("le-de", "Acme GmbH"),
        employment_type=EmploymentTypeValue(EmploymentType.PERMANENT, "FULL_TIME"),
        employment_status=EmploymentStatus.ACTIVE,
        job_title="Engineer",
        personal_email=f"private{n}@mail.test",
    )
    return dataclasses.replace(base, **overrides)


@dataclass
class ListSource:
    """An HRConnector whose records are a list the test edits; it can fail mid-stream on demand."""

    records: list[SourceEmployee | RejectedRecord] = field(default_factory=list)
    fail_after: int | None = None
    provider: str = "test"
    supports_incremental: bool = False
    requests: list[FetchRequest] = field(default_factory=list)

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        self.requests.append(request)
        for index, record in enumerate(self.records):
            if self.fail_after is not None and index >= self.fail_after:
                raise ConnectionResetError("connection reset by peer")
            if isinstance(record, SourceEmployee):
                record = record.without(set(_all_fields()) - request.fields)
            yield record

    def filter_options(self) -> FilterOptions:
        return FilterOptions()

    def replace(self, remote_id: str, **changes: Any) -> None:
        self.records = [
            dataclasses.replace(r, **changes) if isinstance(r, SourceEmployee) and r.remote_id == remote_id else r
            for r in self.records
        ]

    def remove(self, remote_id: str) -> None:
        self.records = [r for r in self.records if r.remote_id != remote_id]


def _all_fields() -> tuple[str, ...]:
    from staffsync.domain.fields import FIELD_NAMES

    return FIELD_NAMES


@dataclass
class Directory:
    """One account with one connection, and the verbs tests need."""

    db: Database
    account_id: str
    connection_id: str
    source: ListSource

    def sync(
        self, *, source: ListSource | None = None, connection_id: str | None = None, **options: Any
    ) -> SyncOutcome:
        options.setdefault("today", TODAY)
        options.setdefault("now", lambda: NOW)
        return run_sync(
            self.db,
            connection_id or self.connection_id,
            account_id=self.account_id,
            connector=source or self.source,
            **options,
        )

    def add_connection(self, name: str, *, priority: int) -> str:
        with self.db.transaction() as session:
            return connections.create_connection(
                session, self.account_id, name=name, provider="test", now=NOW, priority=priority
            ).id

    def employees(self) -> dict[str, models.Employee]:
        with self.db.session() as session:
            rows = session.execute(select(models.Employee).where(models.Employee.account_id == self.account_id))
            return {row.work_email: row for row in rows.scalars()}

    def employee(self, email: str) -> models.Employee:
        return self.employees()[email]

    def links(self) -> list[models.SourceLink]:
        with self.db.session() as session:
            return list(
                session.execute(
                    select(models.SourceLink).where(models.SourceLink.account_id == self.account_id)
                ).scalars()
            )

    def events(self) -> list[models.OutboxEvent]:
        with self.db.session() as session:
            return list(
                session.execute(
                    select(models.OutboxEvent).where(models.OutboxEvent.account_id == self.account_id)
                ).scalars()
            )

    def issues(self, run_id: str) -> list[models.RunIssue]:
        with self.db.session() as session:
            return list(session.execute(select(models.RunIssue).where(models.RunIssue.run_id == run_id)).scalars())

    def connection(self) -> models.Connection:
        with self.db.session() as session:
            found = session.get(models.Connection, self.connection_id)
            assert found is not None
            return found

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        """Everything a sync may touch, as comparable rows: 'byte-for-byte unchanged' checks."""
        tables = {
            "employees": models.Employee,
            "source_links": models.SourceLink,
            "outbox_events": models.OutboxEvent,
        }
        found: dict[str, list[tuple[Any, ...]]] = {}
        with self.db.session() as session:
            for name, model in tables.items():
                table = models.table_of(model)
                rows = session.execute(select(table)).all()
                found[name] = sorted(tuple(str(v) for v in row) for row in rows)
            applied = session.execute(
                select(models.Change.employee_id, models.Change.fields).where(models.Change.status == "applied")
            ).all()
            found["history"] = sorted((row.employee_id, str(row.fields)) for row in applied)
        return found


def make_directory(db: Database, source: ListSource | None = None) -> Directory:
    with db.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="Europe/Berlin", now=NOW)
        connection = connections.create_connection(session, account.id, name="Personio DE", provider="test", now=NOW)
        return Directory(db, account.id, connection.id, source or ListSource())


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    password: str


@functools.cache
def _password_hash(password: str) -> str:
    # argon2 takes a good part of a second per hash on a busy machine: one per distinct password per test session.
    return PasswordHasher().hash(password)


def make_signed_up_account(db: Database, name: str, *, api_token: bool = False) -> tuple[str, Login, Login]:
    """An account (Europe/Berlin) with an admin and a viewer who sign in with known passwords."""
    slug = name.lower()
    logins = {role: Login(f"{role}@{slug}.test", f"{role}-password-of-{slug}") for role in ("admin", "viewer")}
    with db.transaction() as session:
        account = accounts.create_account(session, name, timezone="Europe/Berlin", now=NOW)
        for role, login in logins.items():
            session.add(
                models.AdminUser(
                    id=str(uuid.uuid4()),
                    account_id=account.id,
                    email=login.email,
                    password_hash=_password_hash(login.password),
                    role=role,
                    created_at=NOW,
                )
            )
        if api_token:
            accounts.create_token(session, account.id, "ci", role="admin", now=NOW)
        return account.id, logins["admin"], logins["viewer"]
