"""Request and response bodies of the REST API: explicit fields, built from ORM rows at the edge.

Nothing secret has a field here: no password or token hash, no connection credentials."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from staffsync.connectors.registry import PROVIDERS
from staffsync.domain.fields import FIELD_NAMES, Diagnostic
from staffsync.domain.schedule import DEFAULT_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from staffsync.storage import models
from staffsync.storage.runs import run_counts

T = TypeVar("T")

# Priorities rank a handful of sources; the bound keeps the number inside every database's integer.
MAX_PRIORITY = 1000


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class DiagnosticOut(BaseModel):
    code: str
    field: str
    severity: Literal["warning", "error"]
    message: str

    @classmethod
    def of(cls, problem: Diagnostic) -> DiagnosticOut:
        return cls(code=problem.code, field=problem.field, severity=problem.severity, message=problem.message)


# Connections ----------------------------------------------------------------------------------------------


class ConnectionOut(BaseModel):
    id: str
    name: str
    provider: str
    config: dict[str, Any]
    priority: int
    schedule_minutes: int
    status: str
    status_message: str | None
    thresholds: dict[str, Any]
    created_at: dt.datetime
    settings_changed_at: dt.datetime
    last_full_sync_at: dt.datetime | None
    disconnected_at: dt.datetime | None
    paused: bool = Field(description="Paused by an admin: the schedule does not run it; Sync now still does")
    next_sync_at: dt.datetime | None = Field(
        description="When the schedule runs it next; null when it will not: paused, broken (the source refused "
        "its sign-in), a held run awaiting review, or disconnected"
    )
    consecutive_failures: int = Field(
        description="Failed scheduled slots in a row; each doubles the wait, from 4 on it syncs once a day"
    )
    failing_since: dt.datetime | None = Field(description="When the current run of failures began")

    @classmethod
    def of(cls, row: models.Connection) -> ConnectionOut:
        return cls(
            id=row.id,
            name=row.name,
            provider=row.provider,
            config=dict(row.config),
            priority=row.priority,
            schedule_minutes=row.schedule_minutes,
            status=row.status,
            status_message=row.status_message,
            thresholds=dict(row.thresholds),
            created_at=row.created_at,
            settings_changed_at=row.settings_changed_at,
            last_full_sync_at=row.last_full_sync_at,
            disconnected_at=row.disconnected_at,
            paused=row.paused_at is not None,
            next_sync_at=row.next_sync_at,
            consecutive_failures=row.consecutive_failures,
            failing_since=row.failing_since,
        )


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    # Listed in the document (clients and schemathesis pick a real one); the route still answers an unknown name
    # with 422 unknown_provider and the installed names.
    provider: str = Field(min_length=1, max_length=32, json_schema_extra={"enum": list[JsonValue](sorted(PROVIDERS))})
    config: dict[str, Any] = Field(default_factory=dict, description="The provider's non-secret settings")
    priority: int = Field(default=1, ge=1, le=MAX_PRIORITY, description="1 feeds continuous fields first")
    schedule_minutes: int | None = Field(
        default=None,
        ge=MIN_INTERVAL_MINUTES,
        le=MAX_INTERVAL_MINUTES,
        description=f"Minutes between scheduled syncs; STAFFSYNC_SYNC_INTERVAL_MINUTES ({DEFAULT_INTERVAL_MINUTES}) "
        "when not given",
    )


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    priority: int | None = Field(default=None, ge=1, le=MAX_PRIORITY)
    schedule_minutes: int | None = Field(default=None, ge=MIN_INTERVAL_MINUTES, le=MAX_INTERVAL_MINUTES)
    paused: bool | None = Field(default=None, description="true pauses the schedule; false resumes it (due at once)")


class FieldSettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    enabled: bool = True
    # A plain string: an unknown mode is reported by the field settings' own diagnostics, per field.
    mode: str


class FieldSettingOut(FieldSettingIn):
    label: str
    core: bool
    personal: bool


class FieldSettingsOut(BaseModel):
    fields: list[FieldSettingOut]
    diagnostics: list[DiagnosticOut]
    purged: list[str] = Field(default_factory=list, description="Fields switched off by this change: values erased")


class FieldSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[FieldSettingIn] = Field(description="Fields left out keep their default setting")


class FiltersBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    legal_entities: list[str] = Field(default_factory=list)
    employment_types: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


class FilterOptionOut(BaseModel):
    id: str
    name: str
    parent_id: str | None = None


class FilterOptionsOut(BaseModel):
    legal_entities: list[FilterOptionOut]
    employment_types: list[FilterOptionOut]
    teams: list[FilterOptionOut]


class PreviewRowOut(BaseModel):
    remote_id: str | None
    first_name: str | None
    last_name: str | None
    work_email: str | None
    included: bool
    reasons: list[str]


# Sync runs --------------------------------------------------------------------------------------------------


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = False
    full: bool = False


class RunOut(BaseModel):
    id: str
    connection_id: str
    trigger: str
    kind: str
    dry_run: bool
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    counts: dict[str, int]
    hold_reasons: list[Any]
    error_kind: str | None
    error_message: str | None
    resolved_by: str | None
    resolved_at: dt.datetime | None

    @classmethod
    def of(cls, row: models.SyncRun) -> RunOut:
        return cls(
            id=row.id,
            connection_id=row.connection_id,
            trigger=row.trigger,
            kind=row.kind,
            dry_run=row.dry_run,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            counts=run_counts(row),
            hold_reasons=list(row.hold_reasons),
            error_kind=row.error_kind,
            error_message=row.error_message,
            resolved_by=row.resolved_by,
            resolved_at=row.resolved_at,
        )


class FieldChangeOut(BaseModel):
    field: str
    old: Any
    new: Any
    overrides_manual: bool = False


class ChangeOut(BaseModel):
    id: int
    run_id: str | None
    connection_id: str | None
    employee_id: str
    remote_id: str | None
    action: str
    fields: list[FieldChangeOut]
    reason: str | None
    status: str
    actor: str
    created_at: dt.datetime
    applied_at: dt.datetime | None

    @classmethod
    def of(cls, row: models.Change) -> ChangeOut:
        return cls(
            id=row.id,
            run_id=row.run_id,
            connection_id=row.connection_id,
            employee_id=row.employee_id,
            remote_id=row.remote_id,
            action=row.action,
            fields=[FieldChangeOut.model_validate(item) for item in row.fields],
            reason=row.reason,
            status=row.status,
            actor=row.actor,
            created_at=row.created_at,
            applied_at=row.applied_at,
        )


# Employees --------------------------------------------------------------------------------------------------


class EmployeeOut(BaseModel):
    id: str
    version: int
    first_name: str | None
    last_name: str | None
    work_email: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    team: dict[str, Any] | None
    manager: str | None
    legal_entity: dict[str, Any] | None
    employment_type: dict[str, Any] | None
    employment_status: str | None
    job_title: str | None
    employee_number: str | None
    work_location: dict[str, Any] | None
    work_phone: str | None
    personal_email: str | None
    personal_phone: str | None
    home_address: dict[str, Any] | None
    manually_edited: list[str]
    primary_connection_id: str | None
    hidden: bool
    onboarding_ignored: bool
    detached_at: dt.datetime | None
    detach_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: models.Employee) -> EmployeeOut:
        values = {name: getattr(row, name) for name in FIELD_NAMES}
        return cls(
            id=row.id,
            version=row.version,
            **values,
            manually_edited=list(row.manually_edited),
            primary_connection_id=row.primary_connection_id,
            hidden=row.hidden,
            onboarding_ignored=row.onboarding_ignored,
            detached_at=row.detached_at,
            detach_reason=row.detach_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class EmployeeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: dict[str, Any] = Field(
        min_length=1,
        description="Field name → new value, in the JSON form the employee is read in; null clears a field",
        examples=[{"job_title": "Staff Engineer"}],
    )


class ConnectionDiagnosticOut(BaseModel):
    connection_id: str
    connection_name: str
    code: str
    message: str


class EmployeePage(Page[EmployeeOut]):
    view: str
    today: dt.date
    total: int
    diagnostics: list[ConnectionDiagnosticOut] = Field(default_factory=list)
