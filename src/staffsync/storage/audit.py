"""The audit trail: every configuration change, with who made it, when, and what it was before and after.

Entries are written by a flush hook of the ORM session, not by each handler: a connection's settings, a
webhook, an API token, an admin user or a policy cannot change through any code path without leaving an
entry in the same transaction. The actor is what the edge put in `session.info["actor"]`
(`Database.transaction(actor=...)`); changes made without one are the system's own (e.g. a webhook endpoint
disabled after repeated failures). Secrets are never copied into the trail, only the fact that they changed.
Entries are append-only: nothing in staffsync updates or deletes them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from staffsync.storage import models

SYSTEM = "system"
REDACTED = "(changed, not shown)"
# Who the current request acts for, when the edge sets it once for the whole request (the web UI's admin
# actions) instead of passing it to every transaction; `Database.transaction(actor=...)` takes precedence.
ACTING: ContextVar[str | None] = ContextVar("staffsync_acting", default=None)


@dataclass(frozen=True, slots=True)
class Audited:
    """How one model appears in the trail: its name, the columns that are state rather than configuration
    (not audited), and the columns holding secrets (audited as 'changed', never by value)."""

    object_type: str
    ignored: frozenset[str]
    secret: frozenset[str] = frozenset()
    label: str = "name"


AUDITED: Mapping[type[models.Base], Audited] = {
    models.Connection: Audited(
        "connection",
        ignored=frozenset(
            {
                "status",
                "status_message",
                "watermark",
                "last_full_sync_at",
                "settings_changed_at",
                "next_sync_at",
                "failing_since",
                "consecutive_failures",
                "last_error",
            }
        ),
        secret=frozenset({"credentials_encrypted"}),
    ),
    models.WebhookEndpoint: Audited(
        "webhook", ignored=frozenset({"consecutive_failures"}), secret=frozenset({"secrets"}), label="url"
    ),
    models.ApiToken: Audited("api_token", ignored=frozenset({"last_used_at"}), secret=frozenset({"token_hash"})),
    models.AdminUser: Audited("admin_user", ignored=frozenset(), secret=frozenset({"password_hash"}), label="email"),
    models.Policy: Audited("policy", ignored=frozenset()),
}
ALWAYS_IGNORED = frozenset({"id", "account_id", "created_at", "updated_at"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _entry(session: Session, target: models.Base, spec: Audited, action: str, changes: dict[str, Any]) -> None:
    account_id = getattr(target, "account_id", None)
    if account_id is None:
        return
    now = session.info.get("now") or dt.datetime.now(dt.UTC)
    session.add(
        models.AuditEntry(
            id=str(uuid.uuid4()),
            account_id=account_id,
            occurred_at=now,
            actor=str(session.info.get("actor") or SYSTEM),
            action=f"{spec.object_type}.{action}",
            object_type=spec.object_type,
            object_id=str(getattr(target, "id", "")),
            object_label=str(getattr(target, spec.label, "") or "")[:300],
            changes=changes,
        )
    )


def _column_values(target: models.Base, spec: Audited) -> dict[str, Any]:
    """The configuration an object was created or deleted with; empty columns say nothing and are left out."""
    mapper = inspect(type(target))
    values = {}
    for column in mapper.column_attrs:
        if column.key in spec.ignored or column.key in ALWAYS_IGNORED:
            continue
        value = getattr(target, column.key)
        if value is None:
            continue
        values[column.key] = REDACTED if column.key in spec.secret else _jsonable(value)
    return values


def _updated_values(target: models.Base, spec: Audited) -> dict[str, Any]:
    state = inspect(target)
    changes: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if key in spec.ignored or key in ALWAYS_IGNORED:
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        if key in spec.secret:
            changes[key] = {"old": REDACTED, "new": REDACTED}
        else:
            changes[key] = {"old": _jsonable(old), "new": _jsonable(new)}
    return changes


def _record_flush(session: Session, _context: UOWTransaction, _instances: Iterable[object] | None) -> None:
    for target in list(session.new):
        spec = AUDITED.get(type(target))
        if spec is not None:
            values = _column_values(target, spec)
            _entry(session, target, spec, "created", {key: {"old": None, "new": v} for key, v in values.items()})
    for target in list(session.dirty):
        spec = AUDITED.get(type(target))
        if spec is not None and session.is_modified(target, include_collections=False):
            changes = _updated_values(target, spec)
            if changes:
                _entry(session, target, spec, "updated", changes)
    for target in list(session.deleted):
        spec = AUDITED.get(type(target))
        if spec is not None:
            values = _column_values(target, spec)
            _entry(session, target, spec, "deleted", {key: {"old": v, "new": None} for key, v in values.items()})


def install_audit_trail() -> None:
    """Hooks every ORM session of the process (idempotent)."""
    if not event.contains(Session, "before_flush", _record_flush):
        event.listen(Session, "before_flush", _record_flush)


def record(
    session: Session,
    *,
    account_id: str,
    action: str,
    object_type: str,
    object_id: str,
    object_label: str = "",
    changes: dict[str, Any] | None = None,
    now: dt.datetime,
) -> None:
    """An entry for a decision that is not a row change of an audited model (approving a held run)."""
    session.add(
        models.AuditEntry(
            id=str(uuid.uuid4()),
            account_id=account_id,
            occurred_at=now,
            actor=str(session.info.get("actor") or SYSTEM),
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_label=object_label[:300],
            changes=_jsonable(changes or {}),
        )
    )


def list_entries(
    session: Session,
    account_id: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[models.AuditEntry]:
    """Newest first."""
    query = select(models.AuditEntry).where(models.AuditEntry.account_id == account_id)
    if object_type is not None:
        query = query.where(models.AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(models.AuditEntry.object_id == object_id)
    query = query.order_by(models.AuditEntry.occurred_at.desc(), models.AuditEntry.id.desc())
    return list(session.execute(query.offset(offset).limit(limit)).scalars())
