"""The simulated company in Kombo's unified HRIS format, one record at a time.

Every key the SDK model requires is emitted (null where the company has no value) and strict enums
(group `type`) only take their listed values. Pages are rendered record by record, so serving
100,000 people never builds more than one page of JSON.

Employment types map from the vendor-neutral vocabulary of `people.py`:

| neutral      | Kombo `employment_type`                                        |
|--------------|----------------------------------------------------------------|
| permanent    | FULL_TIME; PART_TIME for a stable ~12 % of people (by id hash) |
| fixed_term   | FULL_TIME (or PART_TIME, same rule); the contract end is the `termination_date` |
| contractor   | CONTRACT                                                       |
| intern       | INTERNSHIP                                                     |
| apprentice   | APPRENTICESHIP                                                 |
| freelance    | FREELANCE                                                      |
| other        | null: Kombo has no clear mapping, and staffsync must cope with a missing type |

Kombo has no "fixed term" type: it is told apart only by its termination date. With the `raw_enums`
setting, status and type are emitted as the HR tool's own unmapped strings instead, which the SDK
lets through (`Literal[...] | UnrecognizedStr`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from functools import lru_cache
from typing import Any, Final

from staffsync.simulators.kombo.mirror import EmployeeRecord, Mirror, StaticRecord
from staffsync.simulators.kombo.wire import date_as_datetime, iso, iso_or_none
from staffsync.simulators.population import Group, LegalEntity, Person, WorkLocation

EMPLOYMENT_TYPES: Final[dict[str, str | None]] = {
    "permanent": "FULL_TIME",
    "fixed_term": "FULL_TIME",
    "contractor": "CONTRACT",
    "intern": "INTERNSHIP",
    "apprentice": "APPRENTICESHIP",
    "freelance": "FREELANCE",
    "other": None,
}
EMPLOYMENT_STATUSES: Final[dict[str, str]] = {
    "active": "ACTIVE",
    "pending": "PENDING",
    "leave": "LEAVE",
    "inactive": "INACTIVE",
}
# What an HR tool calls these before Kombo maps them: passed through as-is in `raw_enums` mode.
RAW_EMPLOYMENT_TYPES: Final[dict[str, str]] = {
    "permanent": "Permanent employee",
    "fixed_term": "Fixed-term contract",
    "contractor": "External contractor",
    "intern": "Intern",
    "apprentice": "Apprentice",
    "freelance": "Freelancer",
    "other": "Other",
}
RAW_EMPLOYMENT_STATUSES: Final[dict[str, str]] = {
    "active": "Active",
    "pending": "Onboarding",
    "leave": "On leave",
    "inactive": "Terminated",
}
PART_TIME_PERCENT: Final = 12
_FULL_TIME_HOURS: Final = {"FR": 35.0, "GB": 37.5}
_CURRENCIES: Final = {"GB": "GBP", "US": "USD"}
_SALARIED: Final = ("FULL_TIME", "PART_TIME")


@lru_cache(maxsize=262_144)
def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode())


def employment_type(person: Person) -> str | None:
    mapped = EMPLOYMENT_TYPES.get(person.employment_type)
    if mapped == "FULL_TIME" and _stable_hash(person.id) % 100 < PART_TIME_PERCENT:
        return "PART_TIME"
    return mapped


class Renderer:
    """Renders one integration's mirror as seen at `now` (which decides what is anonymised yet)."""

    def __init__(self, mirror: Mirror, *, now: dt.datetime, anonymise_after: dt.timedelta, raw_enums: bool) -> None:
        self._mirror = mirror
        self._anonymise_before = now - anonymise_after
        self._raw = raw_enums

    def anonymised(self, record: EmployeeRecord) -> bool:
        """Kombo nulls a deleted record's content a fixed delay after it disappeared (notes §9)."""
        deleted = record.remote_deleted_at
        return deleted is not None and deleted <= self._anonymise_before

    def _status(self, person: Person) -> str | None:
        table = RAW_EMPLOYMENT_STATUSES if self._raw else EMPLOYMENT_STATUSES
        return table.get(person.employment_status)

    def _type(self, person: Person) -> str | None:
        return RAW_EMPLOYMENT_TYPES.get(person.employment_type) if self._raw else employment_type(person)

    def _country(self, person: Person) -> str | None:
        entity = self._mirror.entity_by_local.get(person.legal_entity_id or "")
        return entity.item.country if entity else None

    def employee(self, record: EmployeeRecord) -> dict[str, Any]:
        if self.anonymised(record):
            return _anonymous_employee(record)
        person = record.person
        mirror = self._mirror
        manager = mirror.by_local.get(person.manager_id or "")
        entity = mirror.entity_by_local.get(person.legal_entity_id or "")
        location = mirror.location_by_local.get(person.work_location_id or "")
        kind = self._type(person)
        groups = [mirror.group_by_local.get(person.department_id or "")]
        groups += [mirror.group_by_local.get(team_id) for team_id in person.team_ids]
        return {
            "id": record.id,
            "remote_id": person.remote_id,
            "employee_number": person.employee_number,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "nationality": None,
            "display_full_name": _full_name(person),
            "job_title": person.job_title,
            "work_email": person.work_email,
            "personal_email": person.personal_email,
            "mobile_phone_number": person.personal_phone,
            "ssn": None,
            "tax_id": None,
            "employment_status": self._status(person),
            "employment_type": kind,
            # Kombo sends the keys it has no value for as null; omitting them would also parse.
            "gender": None,
            "ethnicity": None,
            "marital_status": None,
            "bank_accounts": None,
            "weekly_hours": _weekly_hours(employment_type(person), self._country(person), person.id),
            "avatar": None,
            "work_location_id": location.id if location else None,
            "legal_entity_id": entity.id if entity else None,
            "manager_id": manager.id if manager else None,
            "home_address": _address(person),
            "date_of_birth": None,
            "start_date": date_as_datetime(person.start_date),
            "termination_date": date_as_datetime(person.end_date),
            "remote_created_at": date_as_datetime(
                person.start_date - dt.timedelta(days=21) if person.start_date else None
            ),
            "changed_at": iso(record.changed_at),
            "remote_deleted_at": iso_or_none(record.remote_deleted_at),
            "custom_fields": custom_fields(person),
            "employments": [self.employment(record)],
            "time_off_balances": [],
            "manager": self._manager(manager) if manager else None,
            "groups": [_membership(group) for group in groups if group is not None],
            "legal_entity": _entity_summary(entity) if entity else None,
            "work_location": self.location(location) if location else None,
        }

    def _manager(self, record: EmployeeRecord) -> dict[str, Any]:
        person = None if self.anonymised(record) else record.person
        return {
            "id": record.id,
            "remote_id": record.person.remote_id,
            "first_name": person.first_name if person else None,
            "last_name": person.last_name if person else None,
            "display_full_name": _full_name(person) if person else None,
            "employee_number": person.employee_number if person else None,
            "termination_date": date_as_datetime(person.end_date) if person else None,
            "work_email": person.work_email if person else None,
            "employment_status": self._status(person) if person else None,
        }

    def employment(self, record: EmployeeRecord) -> dict[str, Any]:
        if self.anonymised(record):
            return _anonymous_employment(record)
        person = record.person
        mapped = employment_type(person)
        country = self._country(person)
        rate, period, frequency = _pay(mapped, person.id)
        return {
            "id": record.employment_id,
            "remote_id": f"{person.remote_id}-1",
            "employee_id": record.id,
            "job_title": person.job_title,
            "pay_rate": rate,
            "pay_period": period,
            "pay_frequency": frequency,
            "employment_type": self._type(person),
            "pay_currency": _CURRENCIES.get(country or "", "EUR") if rate is not None else None,
            "effective_date": date_as_datetime(person.start_date),
            "changed_at": iso(record.employment_changed_at),
            "remote_deleted_at": iso_or_none(record.remote_deleted_at),
            "custom_fields": {},
        }

    def group(self, record: StaticRecord[Group]) -> dict[str, Any]:
        group = record.item
        parent = self._mirror.group_by_local.get(group.parent_id or "")
        return {
            "id": record.id,
            "remote_id": group.id,
            "name": group.name,
            "type": "TEAM" if group.kind == "team" else "DEPARTMENT",
            "parent_id": parent.id if parent else None,
            "changed_at": iso(record.changed_at),
            "remote_deleted_at": None,
        }

    def legal_entity(self, record: StaticRecord[LegalEntity]) -> dict[str, Any]:
        return {**_entity_summary(record), "changed_at": iso(record.changed_at), "remote_deleted_at": None}

    def location(self, record: StaticRecord[WorkLocation]) -> dict[str, Any]:
        location = record.item
        return {
            "id": record.id,
            "remote_id": location.id,
            "name": location.name,
            "type": "OFFICE",
            "changed_at": iso(record.changed_at),
            "remote_deleted_at": None,
            "address": _place_address(city=location.city, country=location.country),
        }


def custom_fields(person: Person) -> dict[str, Any]:
    """One mapped custom field, so the `custom_fields` filter has something real to match."""
    if person.department_id is None:
        return {}
    return {"cost_center": "CC" + person.department_id.removeprefix("dept_")}


def _full_name(person: Person) -> str | None:
    parts = [part for part in (person.first_name, person.last_name) if part]
    return " ".join(parts) or None


def _address(person: Person) -> dict[str, Any] | None:
    address = person.home_address
    if address is None:
        return None
    return {
        "street_1": address.street,
        "street_2": None,
        "city": address.city,
        "zip_code": address.postal_code,
        "state": address.region,
        "country": address.country,
        "raw": f"{address.street}, {address.postal_code} {address.city}, {address.country}",
    }


def _weekly_hours(mapped: str | None, country: str | None, local_id: str) -> float | None:
    if mapped == "PART_TIME":
        return 20.0 + 5 * (_stable_hash(local_id) % 3)
    if mapped in ("FULL_TIME", "INTERNSHIP", "APPRENTICESHIP"):
        return _FULL_TIME_HOURS.get(country or "", 40.0)
    return None


def _pay(mapped: str | None, local_id: str) -> tuple[float | None, str | None, str | None]:
    """A plausible, stable pay line: yearly salaries, monthly trainee pay, hourly contractor rates."""
    spread = _stable_hash(local_id + "/pay") % 80
    if mapped in _SALARIED:
        return 38_000.0 + 1_000 * spread, "YEAR", "MONTHLY"
    if mapped in ("INTERNSHIP", "APPRENTICESHIP"):
        return 900.0 + 10 * spread, "MONTH", "MONTHLY"
    if mapped in ("CONTRACT", "FREELANCE"):
        return 60.0 + spread, "HOUR", None
    return None, None, None


def _membership(record: StaticRecord[Group]) -> dict[str, Any]:
    group = record.item
    return {
        "id": record.id,
        "remote_id": group.id,
        "name": group.name,
        "type": "TEAM" if group.kind == "team" else "DEPARTMENT",
    }


def _entity_summary(record: StaticRecord[LegalEntity]) -> dict[str, Any]:
    entity = record.item
    return {
        "id": record.id,
        "remote_id": entity.id,
        "name": entity.name,
        "address": _place_address(country=entity.country),
    }


def _place_address(*, country: str, city: str | None = None) -> dict[str, Any]:
    return {
        "street_1": None,
        "street_2": None,
        "city": city,
        "zip_code": None,
        "state": None,
        "country": country,
        "raw": None,
    }


def _anonymous_employee(record: EmployeeRecord) -> dict[str, Any]:
    """Only the ids and the record's timestamps survive; `remote_id` is a non-nullable id in the SDK."""
    return {
        "id": record.id,
        "remote_id": record.person.remote_id,
        **dict.fromkeys(_NULLED_EMPLOYEE_FIELDS),
        "changed_at": iso(record.changed_at),
        "remote_deleted_at": iso_or_none(record.remote_deleted_at),
        "employments": [],
        "time_off_balances": [],
        "groups": [],
    }


def _anonymous_employment(record: EmployeeRecord) -> dict[str, Any]:
    return {
        "id": record.employment_id,
        "employee_id": record.id,
        **dict.fromkeys(_NULLED_EMPLOYMENT_FIELDS),
        "changed_at": iso(record.employment_changed_at),
        "remote_deleted_at": iso_or_none(record.remote_deleted_at),
    }


_NULLED_EMPLOYEE_FIELDS: Final = (
    "employee_number",
    "first_name",
    "last_name",
    "nationality",
    "display_full_name",
    "job_title",
    "work_email",
    "personal_email",
    "mobile_phone_number",
    "ssn",
    "tax_id",
    "employment_status",
    "employment_type",
    "gender",
    "ethnicity",
    "marital_status",
    "bank_accounts",
    "weekly_hours",
    "avatar",
    "work_location_id",
    "legal_entity_id",
    "manager_id",
    "home_address",
    "date_of_birth",
    "start_date",
    "termination_date",
    "remote_created_at",
    "custom_fields",
    "manager",
    "legal_entity",
    "work_location",
)
_NULLED_EMPLOYMENT_FIELDS: Final = (
    "remote_id",
    "job_title",
    "pay_rate",
    "pay_period",
    "pay_frequency",
    "employment_type",
    "pay_currency",
    "effective_date",
    "custom_fields",
)
