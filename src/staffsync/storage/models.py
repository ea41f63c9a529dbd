"""Every table, as SQLAlchemy 2 typed models. Every customer row carries its account_id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on both databases: SQLite would otherwise hand back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
Id = String(36)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


def _account_fk() -> Mapped[str]:
    return mapped_column(Id, ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[dt.datetime]


class AdminUser(Base):
    __tablename__ = "admin_users"
    __table_args__ = (UniqueConstraint("account_id", "email"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    name: Mapped[str] = mapped_column(String(200))
    # A short visible prefix lets admins tell tokens apart; the token itself is only stored hashed.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class Connection(Base):
    __tablename__ = "connections"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))
    # Non-secret provider settings (e.g. the Kombo integration id).
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # MultiFernet token bound to the account; never logged, never returned by the API.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    field_settings: Mapped[dict[str, Any]]
    filters: Mapped[dict[str, Any]]
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    schedule_minutes: Mapped[int] = mapped_column(Integer, default=60)
    status: Mapped[str] = mapped_column(String(32), default="new")
    status_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    settings_changed_at: Mapped[dt.datetime]
    last_full_sync_at: Mapped[dt.datetime | None]
    # Where the next incremental fetch starts: the start time of the last applied fetch.
    watermark: Mapped[dt.datetime | None]
    disconnected_at: Mapped[dt.datetime | None]
    # The schedule (domain/schedule.py). NULL when the schedule will not run it: paused, credentials
    # rejected, a held run awaiting review, disconnected.
    next_sync_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    paused_at: Mapped[dt.datetime | None]
    # Failed slots in a row (retries of one slot count once) and when the streak began; a success resets both.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failing_since: Mapped[dt.datetime | None]


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("account_id", "work_email_key"),
        Index("ix_employees_account_last_name", "account_id", "last_name"),
        # The directory's counts read only this index (every list shows its total); onboardings and offboardings
        # are a range of start or end days, a few percent of a company.
        Index("ix_employees_account_listed", "account_id", "detached_at", "hidden"),
        Index("ix_employees_account_start_date", "account_id", "start_date"),
        Index("ix_employees_account_end_date", "account_id", "end_date"),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    version: Mapped[int] = mapped_column(Integer, default=1)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    work_email: Mapped[str | None] = mapped_column(String(320))
    work_email_key: Mapped[str | None] = mapped_column(String(320))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    team: Mapped[dict[str, Any] | None]
    team_name: Mapped[str | None] = mapped_column(String(200))
    manager: Mapped[str | None] = mapped_column(Id, index=True)
    legal_entity: Mapped[dict[str, Any] | None]
    legal_entity_name: Mapped[str | None] = mapped_column(String(200))
    employment_type: Mapped[dict[str, Any] | None]
    employment_status: Mapped[str | None] = mapped_column(String(16))
    job_title: Mapped[str | None] = mapped_column(String(300))
    employee_number: Mapped[str | None] = mapped_column(String(100))
    work_location: Mapped[dict[str, Any] | None]
    work_phone: Mapped[str | None] = mapped_column(String(64))
    personal_email: Mapped[str | None] = mapped_column(String(320))
    personal_phone: Mapped[str | None] = mapped_column(String(64))
    home_address: Mapped[dict[str, Any] | None]
    manually_edited: Mapped[list[Any]] = mapped_column(default=list)
    primary_connection_id: Mapped[str | None] = mapped_column(Id)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    onboarding_ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    detached_at: Mapped[dt.datetime | None]
    detach_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class SourceLink(Base):
    __tablename__ = "source_links"
    __table_args__ = (UniqueConstraint("connection_id", "remote_id"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    connection_id: Mapped[str] = mapped_column(Id, ForeignKey("connections.id", ondelete="CASCADE"))
    remote_id: Mapped[str] = mapped_column(String(200))
    employee_id: Mapped[str] = mapped_column(Id, ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    detached_at: Mapped[dt.datetime | None]
    detach_reason: Mapped[str | None] = mapped_column(Text)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_connection_started", "connection_id", "started_at"),
        # The schedule looks for the few running and held runs among every run ever made, every minute.
        Index("ix_sync_runs_status", "status"),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    connection_id: Mapped[str] = mapped_column(Id, ForeignKey("connections.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[int] = mapped_column(Integer, default=0)
    detached: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    hold_reasons: Mapped[list[Any]] = mapped_column(default=list)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The fetch's start time: becomes the connection's watermark once this run is applied.
    fetch_started_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[dt.datetime | None]


class Change(Base):
    """One employee's change: staged by a run (also the held plan and the dry-run diff), or made by hand.

    Applied rows are the employee's history; the latest applied row per field is its provenance."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_run_status", "run_id", "status"),
        Index("ix_changes_employee_created", "employee_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = _account_fk()
    run_id: Mapped[str | None] = mapped_column(Id, ForeignKey("sync_runs.id", ondelete="CASCADE"))
    connection_id: Mapped[str | None] = mapped_column(Id)
    employee_id: Mapped[str] = mapped_column(Id)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    fields: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    base_version: Mapped[int | None] = mapped_column(Integer)
    takes_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    superseded_remote_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    applied_at: Mapped[dt.datetime | None]


class RunIssue(Base):
    """A rejected record or a warning (missing manager, cycle, duplicate) of one run, per person."""

    __tablename__ = "run_issues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = _account_fk()
    run_id: Mapped[str] = mapped_column(Id, ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    employee_id: Mapped[str | None] = mapped_column(Id)
    code: Mapped[str] = mapped_column(String(48))
    field: Mapped[str | None] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_account_occurred", "account_id", "occurred_at"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any]]
    delivered_at: Mapped[dt.datetime | None]


class ConnectRequest(Base):
    """An admin's pending "connect an HR system" round trip: its id travels through the provider's hosted
    flow (Kombo's end_user_origin_id) and comes back with the integration, tying it to this account."""

    __tablename__ = "connect_requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    provider: Mapped[str] = mapped_column(String(32))
    tool: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    connection_id: Mapped[str | None] = mapped_column(Id)


class SyncLock(Base):
    """A leased lock per connection, for databases without advisory locks (SQLite)."""

    __tablename__ = "sync_locks"
    connection_id: Mapped[str] = mapped_column(Id, primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, typed as such, for bulk statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class WebhookEndpoint(Base):
    """A subscriber URL. Secrets are `whsec_…` values, each Fernet-encrypted for the account; several
    are active at once during a rotation so that receivers can switch over without dropping events."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    # Empty means every event type.
    event_types: Mapped[list[Any]] = mapped_column(default=list)
    # [{"id", "secret" (ciphertext), "created_at", "expires_at" (null = no end)}], newest last.
    secrets: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


class WebhookDelivery(Base):
    """One event for one endpoint: pending until a 2xx (succeeded) or the retry window closes (failed,
    the dead letter an admin can replay). Unique per (endpoint, event) so fan-out can run again safely."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_attempt", "status", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    endpoint_id: Mapped[str] = mapped_column(Id, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(Id, ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_response_excerpt: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]


class WebSession(Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored, so a leaked
    database cannot be replayed as a session. The CSRF token lives here too (synchroniser pattern)."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    admin_user_id: Mapped[str] = mapped_column(Id, ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # [{"kind": "success"|"error"|"info", "text": "..."}], shown once by the next page rendered.
    flashes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class SignInLink(Base):
    """A single-use, short-lived sign-in link (`staffsync demo` opens the browser already signed in)."""

    __tablename__ = "sign_in_links"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    admin_user_id: Mapped[str] = mapped_column(Id, ForeignKey("admin_users.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """One configuration change: who, when, what, before → after (storage/audit.py). Append-only."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_account_occurred", "account_id", "occurred_at"),
        Index("ix_audit_entries_object", "account_id", "object_type", "object_id"),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = mapped_column(Id, ForeignKey("accounts.id", ondelete="CASCADE"))
    occurred_at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    object_label: Mapped[str] = mapped_column(String(300), default="")
    # {column: {"old": ..., "new": ...}}; secrets appear only as "(changed, not shown)".
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Policy(Base):
    """An IT policy (domain/policies.py): conditions on HR fields → an application or group, with a role."""

    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    name: Mapped[str] = mapped_column(String(200))
    # [{"field", "operator", "values"}], ANDed.
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    application: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class PolicyAssignment(Base):
    """A person holds a policy's assignment; rows come and go with `policy.assignment.added/removed` events."""

    __tablename__ = "policy_assignments"
    __table_args__ = (UniqueConstraint("policy_id", "employee_id"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = _account_fk()
    policy_id: Mapped[str] = mapped_column(Id, ForeignKey("policies.id", ondelete="CASCADE"))
    employee_id: Mapped[str] = mapped_column(Id, ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[dt.datetime]
