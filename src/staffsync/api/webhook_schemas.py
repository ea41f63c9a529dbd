"""Request and response bodies of `/webhooks` and `/webhook-deliveries` (separate from the ORM models)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from staffsync.storage import models
from staffsync.webhooks.secrets import active_entries


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2048, examples=["https://hooks.example.com/staffsync"])
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(
        default_factory=list, max_length=50, description="Empty: every event type", examples=[["employee.created"]]
    )


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, max_length=50)
    enabled: Literal[True] | None = Field(
        default=None, description="true re-enables an endpoint that was disabled after failures or a 410"
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    status: str = Field(description="active, or disabled (see disabled_reason)")
    disabled_reason: str | None
    consecutive_failures: int
    active_secrets: int = Field(description="More than one during a secret rotation")
    created_at: dt.datetime

    @classmethod
    def of(cls, row: models.WebhookEndpoint, now: dt.datetime) -> WebhookOut:
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            event_types=list(row.event_types),
            status=row.status,
            disabled_reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures,
            active_secrets=len(active_entries(row.secrets, now)),
            created_at=row.created_at,
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…): shown this once, stored encrypted")


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_hours: int = Field(default=24, ge=0, le=24 * 30, description="How long the old secrets keep signing")


class RotatedSecret(BaseModel):
    secret: str = Field(description="The new signing secret: shown this once")
    webhook: WebhookOut


class DeliveryOut(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str = Field(description="pending, succeeded or failed (the dead letter, replayable)")
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_response_excerpt: str | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None

    @classmethod
    def of(cls, row: models.WebhookDelivery) -> DeliveryOut:
        return cls.model_validate(row, from_attributes=True)
