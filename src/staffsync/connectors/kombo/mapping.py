"""One Kombo employee, as plain JSON, normalised to a `SourceEmployee`. Pure: no SDK, no I/O, no clock.

The input is the JSON form of Kombo's `GET /hris/employees` result (`kombo/models/gethrisemployeespositiveresponse.py`):
datetimes as ISO strings, nested objects as dicts, optional keys possibly absent. Decisions taken here:

- `remote_id` is Kombo's `id`, which Kombo recommends over the HR system's (possibly composite) `remote_id`;
  `manager` is the manager's Kombo id (`manager_id`), so it refers to the same source.
- `start_date` / `termination_date` are datetimes at Kombo. A value at exactly midnight UTC is a date-only
  value that Kombo encoded as UTC and is read as written; any other instant is read as a calendar day in the
  account's time zone (`2026-03-31T22:00:00Z` is 1 April in Europe/Berlin). Converting midnight UTC too
  would move every date-only start date one day back for accounts west of Greenwich.
- `team` is the first group of type TEAM, `teams` every group of type TEAM; departments and cost centres
  are not teams. A person in no TEAM group has no team.
- `employment_type`: FULL_TIME and PART_TIME → permanent (Kombo's type says nothing about a fixed term),
  CONTRACT → contractor, INTERNSHIP → intern, APPRENTICESHIP and TRAINING → apprentice, FREELANCE →
  freelance, WORKING_STUDENT and any raw string Kombo passes through unmapped → other. Kombo's word is
  always kept as `raw`.
- `employment_status`: ACTIVE, PENDING, LEAVE, INACTIVE map one to one. An unmapped raw string rejects the
  record (naming the field): guessing a status could start an onboarding or an offboarding, and a rejected
  person is kept as they are, never detached.
- Kombo has no work phone; `mobile_phone_number` is the personal phone.
- `home_address.street` is `street_1` and `street_2` joined; when Kombo could not parse the address, its
  `raw` string is kept as the street rather than losing the address.
- A tombstone (`remote_deleted_at` set) only needs its id: Kombo nulls every field 14 days after a deletion,
  and a tombstone whose other values cannot be read is still a tombstone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias
from zoneinfo import ZoneInfo

from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    Location,
    Ref,
)

RawEmployee: TypeAlias = Mapping[str, object]
CatalogueKind: TypeAlias = Literal["groups", "legal_entities", "locations"]

TEAM: Final = "TEAM"

EMPLOYMENT_TYPES: Final[Mapping[str, EmploymentType]] = {
    "FULL_TIME": EmploymentType.PERMANENT,
    "PART_TIME": EmploymentType.PERMANENT,
    "CONTRACT": EmploymentType.CONTRACTOR,
    "INTERNSHIP": EmploymentType.INTERN,
    "APPRENTICESHIP": EmploymentType.APPRENTICE,
    "TRAINING": EmploymentType.APPRENTICE,
    "FREELANCE": EmploymentType.FREELANCE,
    "WORKING_STUDENT": EmploymentType.OTHER,
}

EMPLOYMENT_STATUSES: Final[Mapping[str, EmploymentStatus]] = {
    "ACTIVE": EmploymentStatus.ACTIVE,
    "PENDING": EmploymentStatus.PENDING,
    "LEAVE": EmploymentStatus.LEAVE,
    "INACTIVE": EmploymentStatus.INACTIVE,
}

# What the mapping reads of one employee, nested: a key maps to None for a value read as it is, or to the
# shape of the object (or of each object of the list) under it. The connector hands the mapping only these keys
# of each employee's JSON, so the SSN, bank accounts, date of birth and custom fields Kombo sends never reach it.
# A key the mapping reads must be listed here: an unlisted one would reach the mapping as absent (a connector test
# compares the two on a full payload).
Shape: TypeAlias = Mapping[str, "Shape | None"]
_PLACE_ADDRESS: Final[Shape] = {"country": None}
EMPLOYEE_SHAPE: Final[Shape] = {
    "id": None,
    "first_name": None,
    "last_name": None,
    "work_email": None,
    "personal_email": None,
    "mobile_phone_number": None,
    "employee_number": None,
    "job_title": None,
    "start_date": None,
    "termination_date": None,
    "remote_deleted_at": None,
    "employment_status": None,
    "employment_type": None,
    "manager_id": None,
    "manager": {"id": None},
    "groups": {"id": None, "name": None, "type": None},
    "legal_entity_id": None,
    "legal_entity": {"id": None, "name": None},
    "work_location_id": None,
    "work_location": {"id": None, "name": None, "address": _PLACE_ADDRESS},
    "home_address": dict.fromkeys(("street_1", "street_2", "city", "zip_code", "state", "country", "raw")),
}


class InvalidKomboRecord(ValueError):
    """A value of one Kombo employee that cannot be read. `field` is the catalogue field it feeds; the
    reason gives the Kombo key and the value's shape, and quotes only dates and enum words, never a
    personal value."""

    def __init__(self, remote_id: str | None, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.remote_id = remote_id
        self.field = field
        self.reason = reason

    def to_rejected(self) -> RejectedRecord:
        return RejectedRecord(remote_id=self.remote_id, reason=self.reason, field=self.field)


@dataclass(frozen=True, slots=True)
class KomboGroup:
    id: str
    name: str | None
    type: str | None
    parent_id: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class KomboPlace:
    """A legal entity or a work location from Kombo's lists."""

    id: str
    name: str | None
    country: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class KomboCatalogue:
    """Kombo's lists of groups, legal entities and locations, by Kombo id. Consulted only where the
    employee's embedded object lacks a name or a country: the embedded objects come first."""

    groups: Mapping[str, KomboGroup] = field(default_factory=dict)
    legal_entities: Mapping[str, KomboPlace] = field(default_factory=dict)
    locations: Mapping[str, KomboPlace] = field(default_factory=dict)


def to_source_employee(
    raw: RawEmployee,
    *,
    timezone: str | ZoneInfo,
    fields: Collection[str] | None = None,
    catalogue: KomboCatalogue | None = None,
) -> SourceEmployee:
    """Normalises one Kombo employee; raises InvalidKomboRecord naming the first field that cannot be read.

    Only `fields` (catalogue names; None = all) are read: a switched-off field is never mapped, so its
    value can neither reach staffsync nor reject the person. Domain rules (a missing work email, a blank
    name) are the sync engine's: an absent value passes through as None.
    """
    remote_id = raw.get("id")
    if not isinstance(remote_id, str) or not remote_id.strip():
        raise InvalidKomboRecord(None, "remote_id", "the employee has no Kombo id")
    deleted = raw.get("remote_deleted_at") is not None
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    try:
        return _Employee(raw, remote_id, fields, catalogue or KomboCatalogue()).record(zone, deleted=deleted)
    except InvalidKomboRecord:
        if deleted:
            return SourceEmployee(remote_id=remote_id, deleted=True)
        raise


def catalogue_needs(raw: RawEmployee, *, fields: Collection[str] | None = None) -> frozenset[CatalogueKind]:
    """Which of Kombo's lists would complete this employee: a TEAM group without a name, a legal entity or
    work location known only by id, or a work location without a country. Unreadable shapes need nothing:
    the mapping reports them."""
    needs: set[CatalogueKind] = set()
    if fields is None or "team" in fields:
        groups = raw.get("groups")
        if isinstance(groups, Sequence) and not isinstance(groups, str):
            for group in groups:
                if isinstance(group, Mapping) and group.get("type") == TEAM and not _filled(group.get("name")):
                    needs.add("groups")
    if fields is None or "legal_entity" in fields:
        entity = raw.get("legal_entity")
        if _filled(raw.get("legal_entity_id")) and not (isinstance(entity, Mapping) and _filled(entity.get("name"))):
            needs.add("legal_entities")
    if fields is None or "work_location" in fields:
        location = raw.get("work_location")
        if isinstance(location, Mapping):
            address = location.get("address")
            country = address.get("country") if isinstance(address, Mapping) else None
            if not (_filled(location.get("name")) and _filled(country)):
                needs.add("locations")
        elif _filled(raw.get("work_location_id")):
            needs.add("locations")
    return frozenset(needs)


def employment_type_of(value: object) -> EmploymentTypeValue | None:
    """Kombo's employment type word, normalised; None for none. Raises TypeError for a non-string."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a word, got {_shape(value)}")
    word = value.strip()
    if not word:
        return None
    return EmploymentTypeValue(EMPLOYMENT_TYPES.get(word.upper(), EmploymentType.OTHER), raw=word)


def local_date(value: str, zone: ZoneInfo) -> dt.date:
    """The calendar day a Kombo datetime stands for (see the module docstring); raises ValueError."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        # No zone, no instant: the day is as written.
        return parsed.date()
    utc = parsed.astimezone(dt.UTC)
    if utc.time() == dt.time(0, 0):
        return utc.date()
    return parsed.astimezone(zone).date()


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _shape(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


class _Employee:
    """Reads the values of one Kombo employee, blaming the catalogue field each value feeds."""

    def __init__(
        self, raw: RawEmployee, remote_id: str, fields: Collection[str] | None, catalogue: KomboCatalogue
    ) -> None:
        self._raw = raw
        self._id = remote_id
        self._fields = fields
        self._catalogue = catalogue

    def record(self, zone: ZoneInfo, *, deleted: bool) -> SourceEmployee:
        w = (lambda name: True) if self._fields is None else self._fields.__contains__
        teams = self.teams() if w("team") else ()
        return SourceEmployee(
            remote_id=self._id,
            first_name=self.text(self._raw, "first_name", "first_name") if w("first_name") else None,
            last_name=self.text(self._raw, "last_name", "last_name") if w("last_name") else None,
            work_email=self.text(self._raw, "work_email", "work_email") if w("work_email") else None,
            start_date=self.date("start_date", "start_date", zone) if w("start_date") else None,
            end_date=self.date("termination_date", "end_date", zone) if w("end_date") else None,
            team=teams[0] if teams else None,
            manager=self.manager() if w("manager") else None,
            legal_entity=self.legal_entity() if w("legal_entity") else None,
            employment_type=self.employment_type() if w("employment_type") else None,
            employment_status=self.employment_status() if w("employment_status") else None,
            job_title=self.text(self._raw, "job_title", "job_title") if w("job_title") else None,
            employee_number=self.employee_number() if w("employee_number") else None,
            work_location=self.work_location() if w("work_location") else None,
            personal_email=self.text(self._raw, "personal_email", "personal_email") if w("personal_email") else None,
            personal_phone=(
                self.text(self._raw, "mobile_phone_number", "personal_phone") if w("personal_phone") else None
            ),
            home_address=self.home_address() if w("home_address") else None,
            teams=teams,
            deleted=deleted,
        )

    def fail(self, field: str, reason: str) -> InvalidKomboRecord:
        return InvalidKomboRecord(self._id, field, reason)

    def text(self, data: Mapping[str, object], key: str, field: str) -> str | None:
        value = data.get(key)
        # A plain string first: it is nearly every value of nearly every person.
        if type(value) is str:
            return value.strip() or None
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(field, f"Kombo's {key} is {_shape(value)}, not text")
        return value.strip() or None

    def nested(self, key: str, field: str) -> Mapping[str, object] | None:
        value = self._raw.get(key)
        if value is None:
            return None
        # A dict first: the check against the Mapping ABC is the slow one.
        if type(value) is not dict and not isinstance(value, Mapping):
            raise self.fail(field, f"Kombo's {key} is {_shape(value)}, not an object")
        return value

    def date(self, key: str, field: str, zone: ZoneInfo) -> dt.date | None:
        value = self.text(self._raw, key, field)
        if value is None:
            return None
        try:
            return local_date(value, zone)
        except ValueError:
            raise self.fail(field, f"Kombo's {key} {value!r} is not an ISO 8601 date-time") from None
        except OverflowError:
            # 9999-12-31T23:00Z is already year 10000 in Berlin: a date no calendar here can hold.
            raise self.fail(field, f"Kombo's {key} {value!r} falls outside the calendar (years 1 to 9999)") from None

    def employee_number(self) -> str | None:
        value = self._raw.get("employee_number")
        # Some HR systems number their people; the catalogue keeps the number as text.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.text(self._raw, "employee_number", "employee_number")

    def teams(self) -> tuple[Ref, ...]:
        value = self._raw.get("groups")
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise self.fail("team", f"Kombo's groups is {_shape(value)}, not a list")
        teams: dict[str, Ref] = {}
        for item in value:
            if not isinstance(item, Mapping):
                raise self.fail("team", f"a group of Kombo's groups is {_shape(item)}, not an object")
            if item.get("type") != TEAM:
                continue
            group_id = self.text(item, "id", "team")
            if group_id is None:
                raise self.fail("team", "a TEAM group has no id")
            name = self.text(item, "name", "team")
            if name is None and (known := self._catalogue.groups.get(group_id)) is not None:
                name = known.name
            teams.setdefault(group_id, Ref(group_id, name))
        return tuple(teams.values())

    def manager(self) -> str | None:
        manager_id = self.text(self._raw, "manager_id", "manager")
        if manager_id is not None:
            return manager_id
        manager = self.nested("manager", "manager")
        return None if manager is None else self.text(manager, "id", "manager")

    def legal_entity(self) -> Ref | None:
        entity = self.nested("legal_entity", "legal_entity")
        entity_id = self.text(entity, "id", "legal_entity") if entity is not None else None
        entity_id = entity_id or self.text(self._raw, "legal_entity_id", "legal_entity")
        if entity_id is None:
            return None
        name = self.text(entity, "name", "legal_entity") if entity is not None else None
        if name is None and (known := self._catalogue.legal_entities.get(entity_id)) is not None:
            name = known.name
        return Ref(entity_id, name)

    def work_location(self) -> Location | None:
        location = self.nested("work_location", "work_location")
        location_id = self.text(location, "id", "work_location") if location is not None else None
        location_id = location_id or self.text(self._raw, "work_location_id", "work_location")
        if location_id is None:
            return None
        name = country = None
        if location is not None:
            name = self.text(location, "name", "work_location")
            address = location.get("address")
            if address is not None and not isinstance(address, Mapping):
                raise self.fail("work_location", f"Kombo's work_location.address is {_shape(address)}")
            country = self.text(address, "country", "work_location") if address is not None else None
        known = self._catalogue.locations.get(location_id)
        if known is not None:
            name, country = name or known.name, country or known.country
        return Location(location_id, name, country)

    def home_address(self) -> Address | None:
        address = self.nested("home_address", "home_address")
        if address is None:
            return None

        text = self.text
        first, second = text(address, "street_1", "home_address"), text(address, "street_2", "home_address")
        street = (f"{first}, {second}" if first and second else first or second) or None
        city, postal_code = text(address, "city", "home_address"), text(address, "zip_code", "home_address")
        region, country = text(address, "state", "home_address"), text(address, "country", "home_address")
        if street is None and city is None and postal_code is None:
            # Kombo could not parse the address: its raw string is better than no address to ship to.
            street = text(address, "raw", "home_address")
        parts = (street, city, postal_code, region, country)
        return Address(*parts) if any(parts) else None

    def employment_type(self) -> EmploymentTypeValue | None:
        try:
            return employment_type_of(self._raw.get("employment_type"))
        except TypeError as error:
            raise self.fail("employment_type", f"Kombo's employment_type: {error}") from None

    def employment_status(self) -> EmploymentStatus | None:
        word = self.text(self._raw, "employment_status", "employment_status")
        if word is None:
            return None
        status = EMPLOYMENT_STATUSES.get(word.upper())
        if status is None:
            raise self.fail("employment_status", f"Kombo passed through an unmapped employment status {word!r}")
        return status
