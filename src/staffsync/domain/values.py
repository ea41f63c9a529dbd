"""The value types a directory field can hold, and their JSON form.

Values are small frozen dataclasses so that "did this field change?" is plain equality and a
whole directory snapshot stays cheap to hold for a batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias


class EmploymentType(StrEnum):
    PERMANENT = "permanent"
    FIXED_TERM = "fixed_term"
    CONTRACTOR = "contractor"
    INTERN = "intern"
    APPRENTICE = "apprentice"
    FREELANCE = "freelance"
    OTHER = "other"


class EmploymentStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    LEAVE = "leave"
    INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class Ref:
    """Something the source names and identifies: a team, a legal entity."""

    id: str
    name: str | None = None

    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    name: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class EmploymentTypeValue:
    """The normalised type, with the provider's own word kept for audits and filters."""

    type: EmploymentType
    raw: str | None = None


FieldValue: TypeAlias = str | dt.date | Ref | Location | Address | EmploymentTypeValue | EmploymentStatus | None
JSONValue: TypeAlias = Any


def value_to_json(value: FieldValue) -> JSONValue:
    if value is None or isinstance(value, str):
        # EmploymentStatus is a StrEnum: its plain string form is the JSON form.
        return str(value) if value is not None else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Ref):
        return {"id": value.id, "name": value.name}
    if isinstance(value, Location):
        return {"id": value.id, "name": value.name, "country": value.country}
    if isinstance(value, Address):
        return {
            "street": value.street,
            "city": value.city,
            "postal_code": value.postal_code,
            "region": value.region,
            "country": value.country,
        }
    if isinstance(value, EmploymentTypeValue):
        return {"type": value.type.value, "raw": value.raw}
    raise TypeError(f"not a field value: {value!r}")
