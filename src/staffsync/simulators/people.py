"""The records of the simulated company: legal entities, work locations, groups and people.

Vendor-neutral on purpose: each provider simulator renders these in its own wire format.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

EMPLOYMENT_TYPES = ("permanent", "fixed_term", "contractor", "intern", "apprentice", "freelance", "other")
EMPLOYMENT_STATUSES = ("active", "pending", "leave", "inactive")


@dataclass(frozen=True, slots=True)
class LegalEntity:
    id: str
    name: str
    country: str


@dataclass(frozen=True, slots=True)
class WorkLocation:
    id: str
    name: str
    country: str
    city: str
    legal_entity_id: str


@dataclass(frozen=True, slots=True)
class Group:
    """A department (no parent) or a team (its department as parent)."""

    id: str
    name: str
    kind: Literal["department", "team"]
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str
    city: str
    postal_code: str
    region: str
    country: str


@dataclass(frozen=True, slots=True)
class Person:
    """One person as the fictional company's HR system holds them.

    `id` is the simulator's own opaque id ("emp_000123"); `remote_id` is the HR system's id, the one
    providers expose. References (`team_id`, `manager_id`, ...) hold simulator ids. Optional values
    may be None so that tests can produce the gaps real HR data has.
    """

    id: str
    remote_id: str
    first_name: str | None
    last_name: str | None
    work_email: str | None
    personal_email: str | None
    personal_phone: str | None
    work_phone: str | None
    home_address: PostalAddress | None
    employee_number: str | None
    job_title: str | None
    team_id: str | None
    extra_team_ids: tuple[str, ...]
    department_id: str | None
    legal_entity_id: str | None
    work_location_id: str | None
    manager_id: str | None
    employment_type: str
    employment_status: str
    start_date: dt.date | None
    end_date: dt.date | None
    updated_at: dt.datetime
    deleted_at: dt.datetime | None = None

    @property
    def team_ids(self) -> tuple[str, ...]:
        return (self.team_id, *self.extra_team_ids) if self.team_id else self.extra_team_ids

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


# People in Germany spell their own addresses with ae/oe/ue; other accents are simply dropped.
_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "\u0131": "i",  # Turkish dotless i has no decomposition to fall back on
        "ø": "o",
        "æ": "ae",
    }
)


@cache
def email_slug(name: str) -> str:
    """The lowercase ASCII form of a name as it appears in an email address ("Núñez" -> "nunez")."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATION)).encode("ascii", "ignore")
    return "".join(c for c in ascii_name.decode().lower() if c.isalnum() or c == "-")


def person_id(number: int) -> str:
    return f"emp_{number:06d}"
