"""Directory values as the web UI shows them, and hand-typed form input read back into values.

Each value kind of the catalogue has one way to be shown and one form to be edited with; what the form
cannot express (a manager, a team) is chosen among the people and refs the account already has.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence

from staffsync.domain.fields import FieldSpec
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    FieldValue,
    Location,
    Ref,
)

EMPLOYMENT_TYPE_LABELS = {
    EmploymentType.PERMANENT: "Permanent",
    EmploymentType.FIXED_TERM: "Fixed term",
    EmploymentType.CONTRACTOR: "Contractor",
    EmploymentType.INTERN: "Intern",
    EmploymentType.APPRENTICE: "Apprentice",
    EmploymentType.FREELANCE: "Freelance",
    EmploymentType.OTHER: "Other",
}
EMPLOYMENT_STATUS_LABELS = {
    EmploymentStatus.ACTIVE: "Active",
    EmploymentStatus.PENDING: "Pending (future hire)",
    EmploymentStatus.LEAVE: "On leave",
    EmploymentStatus.INACTIVE: "Inactive",
}
ADDRESS_PARTS = (
    ("street", "Street"),
    ("postal_code", "Postal code"),
    ("city", "City"),
    ("region", "Region"),
    ("country", "Country"),
)
# The same loose rule as source records get: one @, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 300


class InvalidInput(ValueError):
    """What is wrong with the typed value, in words shown next to the field."""


def employment_type_label(value: str) -> str:
    try:
        return EMPLOYMENT_TYPE_LABELS[EmploymentType(value)]
    except ValueError:
        return value


def show(value: FieldValue, *, people: Mapping[str, str] | None = None, kind: str | None = None) -> str:
    """One line of text for any field value; "" when there is none (templates show a dash)."""
    if value is None:
        return ""
    if kind == "employee" and isinstance(value, str):
        return (people or {}).get(value, value)
    if isinstance(value, EmploymentStatus):
        return EMPLOYMENT_STATUS_LABELS.get(value, str(value))
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y")
    if isinstance(value, Ref):
        return value.label()
    if isinstance(value, Location):
        return ", ".join(part for part in (value.name or value.id, value.country) if part)
    if isinstance(value, Address):
        city = " ".join(part for part in (value.postal_code, value.city) if part)
        return ", ".join(part for part in (value.street, city, value.region, value.country) if part)
    label = EMPLOYMENT_TYPE_LABELS.get(value.type, value.type.value)
    return f"{label} ({value.raw})" if value.raw and value.raw.lower() != value.type.value else label


def form_of(spec: FieldSpec, value: FieldValue, *, emails: Mapping[str, str | None]) -> dict[str, str]:
    """The edit form's inputs, filled with the current value."""
    if value is None:
        return {}
    if isinstance(value, Address):
        return {name: getattr(value, name) or "" for name, _ in ADDRESS_PARTS}
    if isinstance(value, Location):
        return {"name": value.name or value.id, "country": value.country or ""}
    if isinstance(value, EmploymentTypeValue):
        return {"value": value.type.value}
    if isinstance(value, Ref):
        return {"value": value.id}
    if isinstance(value, dt.date):
        return {"value": value.isoformat()}
    if spec.kind == "employee" and isinstance(value, str):
        return {"value": emails.get(value) or ""}
    return {"value": str(value)}


def read_form(
    spec: FieldSpec,
    form: Mapping[str, str],
    *,
    current: FieldValue,
    refs: Sequence[tuple[str, str | None]] = (),
    person_by_email: Callable[[str], str | None] = lambda _: None,
) -> FieldValue:
    """The value an edit form asks for; an empty form clears the field. Raises InvalidInput."""
    text = form.get("value", "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"At most {MAX_TEXT} characters")
    kind = spec.kind
    if kind == "address":
        parts = {name: form.get(name, "").strip()[:MAX_TEXT] or None for name, _ in ADDRESS_PARTS}
        return Address(**parts) if any(parts.values()) else None
    if kind == "location":
        name, country = form.get("name", "").strip()[:MAX_TEXT], form.get("country", "").strip()[:MAX_TEXT]
        if not name:
            if country:
                raise InvalidInput("Give the location a name")
            return None
        # A hand-entered location has no id in any source: it keeps the one it had while its name stays.
        same = isinstance(current, Location) and (current.name or current.id) == name
        return Location(current.id if same and isinstance(current, Location) else name, name, country or None)
    if not text:
        return None
    if kind == "email":
        if not _EMAIL.match(text):
            raise InvalidInput(f"“{text}” is not an email address")
        return text
    if kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidInput("Enter a date as YYYY-MM-DD") from None
    if kind == "employment_type":
        try:
            chosen = EmploymentType(text)
        except ValueError:
            raise InvalidInput("Pick one of the listed employment types") from None
        # The provider's own word only describes the type it came with.
        raw = current.raw if isinstance(current, EmploymentTypeValue) and current.type is chosen else None
        return EmploymentTypeValue(chosen, raw)
    if kind == "employment_status":
        try:
            return EmploymentStatus(text)
        except ValueError:
            raise InvalidInput("Pick one of the listed statuses") from None
    if kind == "ref":
        names = dict(refs)
        if text not in names:
            raise InvalidInput(f"Pick one of the {spec.label.lower()} values the directory has")
        return Ref(text, names[text])
    if kind == "employee":
        found = person_by_email(text)
        if found is None:
            raise InvalidInput(f"No one in the directory has the professional email “{text}”")
        return found
    return text
