"""Source records: one person as a provider returns them, normalised to the field catalogue."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentTypeValue,
    FieldValue,
    Location,
    Ref,
)


@dataclass(frozen=True, slots=True)
class SourceEmployee:
    """Attribute names equal catalogue field names, so `value(field)` needs no mapping table.

    `manager` holds the manager's remote id *in the same source*; the engine resolves it to a
    directory employee once every person of the run is known.
    """

    remote_id: str
    first_name: str | None = None
    last_name: str | None = None
    work_email: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    team: Ref | None = None
    manager: str | None = None
    legal_entity: Ref | None = None
    employment_type: EmploymentTypeValue | None = None
    employment_status: EmploymentStatus | None = None
    job_title: str | None = None
    employee_number: str | None = None
    work_location: Location | None = None
    work_phone: str | None = None
    personal_email: str | None = None
    personal_phone: str | None = None
    home_address: Address | None = None
    # Every group of type team the person belongs to; `team` is the primary one.
    teams: tuple[Ref, ...] = ()
    # The source says this person was deleted (Kombo's remote_deleted_at): detach, never delete.
    deleted: bool = False

    def value(self, field: str) -> FieldValue:
        value: FieldValue = getattr(self, field)
        return value

    def without(self, fields: Iterable[str]) -> SourceEmployee:
        """A copy with the given fields blanked: switched-off fields never travel further than this."""
        blank = {name: None for name in fields if name in FIELD_NAMES}
        if not blank:
            return self
        return dataclasses.replace(self, **blank)  # type: ignore[arg-type]

    @property
    def work_email_key(self) -> str | None:
        return normalise_email(self.work_email)

    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.remote_id


def normalise_email(email: str | None) -> str | None:
    """Work emails are unique per account case-insensitively; this is the key they are compared by."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A source row that could not be normalised: reported with its reason, the rest of the run goes on."""

    remote_id: str | None
    reason: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class FilterOption:
    """A value an admin can pick in a filter, read from the source itself."""

    id: str
    name: str
    parent_id: str | None = None
