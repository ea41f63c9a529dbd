"""Request and response bodies of `/policies` and `/audit` (separate from the ORM models)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from staffsync.services.policies import PersonRef, PolicyPreview
from staffsync.storage import models


class ConditionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: Literal["team", "legal_entity", "job_title", "employment_type", "work_location"]
    operator: Literal["equals", "in", "contains", "starts_with"]
    values: list[str] = Field(min_length=1, max_length=200, description="One value, or several for `in`")


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["GitHub for engineers"])
    conditions: list[ConditionBody] = Field(default_factory=list, max_length=20, description="All must hold (AND)")
    application: str = Field(min_length=1, max_length=200, description="The application or group assigned")
    role: str | None = Field(default=None, max_length=200)
    enabled: bool = True


class PolicyPreviewRequest(PolicyBody):
    id: str | None = Field(default=None, max_length=36, description="The policy being changed; absent for a new one")


class PolicyOut(BaseModel):
    id: str
    name: str
    conditions: list[ConditionBody]
    application: str
    role: str | None
    enabled: bool
    holders: int = Field(description="People holding the assignment now")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: models.Policy, holders: int) -> PolicyOut:
        return cls(
            id=row.id,
            name=row.name,
            conditions=[ConditionBody.model_validate(c) for c in row.conditions],
            application=row.application,
            role=row.role,
            enabled=row.enabled,
            holders=holders,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class PersonOut(BaseModel):
    employee_id: str
    name: str
    work_email: str | None

    @classmethod
    def of(cls, person: PersonRef) -> PersonOut:
        return cls(employee_id=person.employee_id, name=person.name, work_email=person.work_email)


class PolicyPreviewOut(BaseModel):
    gains: list[PersonOut]
    loses: list[PersonOut]
    keeps: int

    @classmethod
    def of(cls, preview: PolicyPreview) -> PolicyPreviewOut:
        return cls(
            gains=[PersonOut.of(p) for p in preview.gains],
            loses=[PersonOut.of(p) for p in preview.loses],
            keeps=preview.keeps,
        )


class AssignmentHolder(BaseModel):
    employee_id: str
    name: str
    work_email: str | None


class AssignmentOut(BaseModel):
    policy_id: str
    policy: str
    application: str
    role: str | None


class AuditEntryOut(BaseModel):
    id: str
    occurred_at: dt.datetime
    actor: str = Field(description="admin:<email>, api-token:<name>, cli:<user>, or system")
    action: str = Field(examples=["connection.updated"])
    object_type: str
    object_id: str
    object_label: str
    changes: dict[str, Any] = Field(description='{field: {"old": …, "new": …}}; secrets only as "changed"')

    @classmethod
    def of(cls, row: models.AuditEntry) -> AuditEntryOut:
        return cls.model_validate(row, from_attributes=True)
