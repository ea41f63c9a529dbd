"""Whether an admin may edit a field by hand: continuous fields belong to the HR source."""

from __future__ import annotations

from dataclasses import dataclass

from staffsync.domain.fields import FIELDS, FieldSettings


@dataclass(frozen=True, slots=True)
class FieldLock:
    field: str
    reason: str


def edit_lock(field: str, *, primary_settings: FieldSettings | None, primary_name: str | None) -> FieldLock | None:
    """The lock on `field`, or None when a hand edit is allowed.

    `primary_settings`/`primary_name` describe the connection that feeds the employee; None when no
    source feeds them any more, and everything is then the admins' to manage."""
    if field not in FIELDS:
        return FieldLock(field, f"'{field}' is not a directory field")
    if primary_settings is None or not primary_settings.is_continuous(field):
        return None
    return FieldLock(
        field,
        f"{FIELDS[field].label} is managed by HR sync of {primary_name} (continuous synchronisation): "
        "change it in the HR system, or switch the field to Import once",
    )
