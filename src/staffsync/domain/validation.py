"""The rules a source record must meet before it may touch the directory, whatever its provider."""

from __future__ import annotations

import re

from staffsync.domain.records import RejectedRecord, SourceEmployee

# Deliberately loose: one @, a dot in the domain, no spaces. HR systems hold odd but valid addresses.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def rejection(record: SourceEmployee) -> RejectedRecord | None:
    """Why this record cannot be synced, or None. Tombstones only need their remote id."""
    if not record.remote_id or not record.remote_id.strip():
        return RejectedRecord(None, "The record has no id in the source", "remote_id")
    if record.deleted:
        return None
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
