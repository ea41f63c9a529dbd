"""The rules a source record must meet before it may touch the directory, whatever its provider."""

from __future__ import annotations

import dataclasses
import re

from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import Ref

# Deliberately loose: one @, a dot in the domain, no spaces. HR systems hold odd but valid addresses.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# The longest text the directory keeps per field (the storage columns are sized to match; a storage test checks
# it). Longer values are refused per record with a reason: silently cut, they would change the data; let through,
# PostgreSQL would refuse them and fail the whole run.
TEXT_LIMITS: dict[str, int] = {
    "remote_id": 200,
    "first_name": 200,
    "last_name": 200,
    "work_email": 320,
    "job_title": 300,
    "employee_number": 100,
    "work_phone": 64,
    "personal_email": 320,
    "personal_phone": 64,
    "team": 200,
    "legal_entity": 200,
}


def rejection(record: SourceEmployee) -> RejectedRecord | None:
    """Why this record cannot be synced, or None. Tombstones only need their remote id."""
    if not record.remote_id or not record.remote_id.strip():
        return RejectedRecord(None, "The record has no id in the source", "remote_id")
    if len(record.remote_id) > TEXT_LIMITS["remote_id"] or "\x00" in record.remote_id:
        return RejectedRecord(None, "The record's id in the source is not usable (too long or a NUL)", "remote_id")
    if record.deleted:
        return None
    if (problem := _unstorable_text(record)) is not None:
        return problem
    if record.work_email is None or not record.work_email.strip():
        return RejectedRecord(
            record.remote_id,
            "No professional email in the HR system: it is the key staffsync matches people by",
            "work_email",
        )
    if not _EMAIL.match(record.work_email.strip()):
        return RejectedRecord(
            record.remote_id, f"Professional email {record.work_email!r} is not a valid address", "work_email"
        )
    if not ((record.first_name or "").strip() or (record.last_name or "").strip()):
        return RejectedRecord(record.remote_id, "Neither first nor last name is set in the HR system", "last_name")
    if record.start_date and record.end_date and record.end_date < record.start_date:
        return RejectedRecord(
            record.remote_id,
            f"End date {record.end_date.isoformat()} is before start date {record.start_date.isoformat()}",
            "end_date",
        )
    return None


def _texts(value: object) -> list[str]:
    """Every piece of text inside a field value (a team's id and name, an address's parts, …)."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [text for part in dataclasses.astuple(value) for text in _texts(part)]
    if isinstance(value, tuple):
        return [text for part in value for text in _texts(part)]
    return []


def _unstorable_text(record: SourceEmployee) -> RejectedRecord | None:
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if any("\x00" in text for text in _texts(value)):
            # No database text column takes a NUL character (PostgreSQL refuses it outright).
            return RejectedRecord(record.remote_id, f"{field.name} contains a NUL character", field.name)
        limit = TEXT_LIMITS.get(field.name)
        if limit is None:
            continue
        label = value.label() if isinstance(value, Ref) else value
        if isinstance(label, str) and len(label) > limit:
            return RejectedRecord(
                record.remote_id, f"{field.name} is {len(label)} characters long; at most {limit} are kept", field.name
            )
    return None
