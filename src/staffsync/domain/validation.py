"""The rules a source record must meet before it may touch the directory, whatever its provider."""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable
from typing import Final

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


def is_storable_remote_id(remote_id: str) -> bool:
    """Whether an id fits the columns that keep it (links, run issues): longer ones and NULs are refused there."""
    return len(remote_id) <= TEXT_LIMITS["remote_id"] and "\x00" not in remote_id


def rejection(record: SourceEmployee) -> RejectedRecord | None:
    """Why this record cannot be synced, or None. Tombstones only need their remote id."""
    if not record.remote_id or not record.remote_id.strip():
        return RejectedRecord(None, "The record has no id in the source", "remote_id")
    if not is_storable_remote_id(record.remote_id):
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
    # Part by part rather than `dataclasses.astuple`, which deep-copies every value on the way.
    parts = value if isinstance(value, tuple | list) else _parts_of(type(value))(value)
    return [text for part in parts if part is not None for text in _texts(part)]


_PARTS: dict[type, Callable[[object], tuple[object, ...]]] = {}


def _parts_of(kind: type) -> Callable[[object], tuple[object, ...]]:
    """A getter of a dataclass's field values (none for any other type), made once per type."""
    getter = _PARTS.get(kind)
    if getter is None:
        names = tuple(field.name for field in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else ()
        getter = _PARTS[kind] = (
            operator.attrgetter(*names) if len(names) > 1 else lambda value: tuple(getattr(value, n) for n in names)
        )
    return getter


_RECORD_FIELDS: Final = tuple(field.name for field in dataclasses.fields(SourceEmployee))
_record_values: Final = _parts_of(SourceEmployee)


def _unstorable_text(record: SourceEmployee) -> RejectedRecord | None:
    for name, value in zip(_RECORD_FIELDS, _record_values(record), strict=True):
        if value is None:
            continue
        # Plain text first: most values of most people are, and they need no walk through their parts.
        if type(value) is str:
            if "\x00" in value:
                # No database text column takes a NUL character (PostgreSQL refuses it outright).
                return RejectedRecord(record.remote_id, f"{name} contains a NUL character", name)
        elif any("\x00" in text for text in _texts(value)):
            return RejectedRecord(record.remote_id, f"{name} contains a NUL character", name)
        limit = TEXT_LIMITS.get(name)
        if limit is None:
            continue
        label = value.label() if isinstance(value, Ref) else value
        if isinstance(label, str) and len(label) > limit:
            return RejectedRecord(
                record.remote_id, f"{name} is {len(label)} characters long; at most {limit} are kept", name
            )
    return None
