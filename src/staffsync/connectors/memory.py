"""An HR connector over rows held in memory: for tests and the local demo.

It keeps *raw rows* — plain JSON-like dicts, as an HR API would send them — and normalises them on
every fetch with the same pure `to_source_employee` a real connector has, so tests can hand it the
malformed payloads real providers send (a number for a name, a list for a team, "2024-13-45").

A row, every key optional except `remote_id`:

    remote_id          str (an int is accepted: many HR APIs number their people)
    id                 the simulator's opaque id; not part of the normalised record
    first_name, last_name, work_email, personal_email, personal_phone, work_phone, job_title: str
    employee_number    str or int
    start_date, end_date                   "YYYY-MM-DD"
    team, legal_entity                     {"id": str, "name": str}
    teams                                  [{"id": str, "name": str}, ...]   every team membership
    work_location                          {"id": str, "name": str, "country": str}
    home_address                           {"street", "city", "postal_code", "region", "country"}
    manager                                {"id": str, "remote_id": str}
    employment_type    the provider's own word; unknown words normalise to "other"
    employment_status  "active", "pending", "leave" or "inactive"
    updated_at, deleted_at                 ISO 8601 datetimes (naive ones are read as UTC); a row with
                                           `deleted_at` is served as a tombstone (`deleted=True`)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from staffsync.connectors.base import FetchRequest, FilterOptions
from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.records import FilterOption, RejectedRecord, SourceEmployee
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    Location,
    Ref,
)

if TYPE_CHECKING:
    from staffsync.simulators.population import Person, Population

RawRow: TypeAlias = dict[str, Any]

_ADDRESS_KEYS = ("street", "city", "postal_code", "region", "country")
_CATALOGUE = frozenset(FIELD_NAMES)


class InvalidRecord(ValueError):
    """A row value that cannot be read. The reason gives the value's shape, never a personal value;
    only an unreadable date, timestamp or status is quoted, as the admin needs it to fix the source."""

    def __init__(self, remote_id: str | None, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.remote_id = remote_id
        self.field = field
        self.reason = reason

    def to_rejected(self) -> RejectedRecord:
        return RejectedRecord(remote_id=self.remote_id, reason=self.reason, field=self.field)


def _shape(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"


class _Reader:
    """Reads the values of one row, or of one nested object of it, blaming `field` for what fails."""

    def __init__(self, data: Mapping[str, object], remote_id: str | None, field: str | None = None) -> None:
        self._data = data
        self._remote_id = remote_id
        self._field = field

    def fail(self, key: str, reason: str) -> InvalidRecord:
        return InvalidRecord(self._remote_id, self._field or key, reason)

    def text(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {_shape(value)}")
        return value.strip() or None

    def identifier(self, key: str) -> str | None:
        # Ids and employee numbers are often numbers in HR APIs; names never are.
        value = self._data.get(key)
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else self.text(key)

    def required_identifier(self, key: str) -> str:
        found = self.identifier(key)
        if found is None:
            raise self.fail(key, f"has no {key}")
        return found

    def date(self, key: str) -> dt.date | None:
        value = self.text(key)
        try:
            return None if value is None else dt.datetime.fromisoformat(value).date()
        except ValueError:
            raise self.fail(key, f"unparseable date {value!r}") from None

    def timestamp(self, key: str) -> dt.datetime | None:
        value = self.text(key)
        try:
            parsed = None if value is None else dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(key, f"unparseable timestamp {value!r}") from None
        return parsed.replace(tzinfo=dt.UTC) if parsed and parsed.tzinfo is None else parsed

    def nested(self, key: str) -> _Reader | None:
        return self._object(key, self._data.get(key))

    def _object(self, key: str, value: object) -> _Reader | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected an object, got {_shape(value)}")
        return _Reader(value, self._remote_id, self._field or key)

    def ref(self, key: str) -> Ref | None:
        return self._ref(key, self._data.get(key))

    def _ref(self, key: str, value: object) -> Ref | None:
        data = self._object(key, value)
        return None if data is None else Ref(data.required_identifier("id"), data.text("name"))

    def teams(self, primary: Ref | None) -> tuple[Ref, ...]:
        value = self._data.get("teams")
        if value is None:
            return (primary,) if primary else ()
        if not isinstance(value, list | tuple):
            raise self.fail("team", f"expected a list of teams, got {_shape(value)}")
        teams = tuple(ref for item in value if (ref := self._ref("team", item)) is not None)
        # The primary team is a membership even when the source leaves it out of the list.
        return teams if primary is None or any(t.id == primary.id for t in teams) else (primary, *teams)

    def location(self) -> Location | None:
        data = self.nested("work_location")
        return (
            None if data is None else Location(data.required_identifier("id"), data.text("name"), data.text("country"))
        )

    def address(self) -> Address | None:
        data = self.nested("home_address")
        parts = [data.text(key) for key in _ADDRESS_KEYS] if data else []
        return Address(*parts) if any(parts) else None

    def manager(self) -> str | None:
        data = self.nested("manager")
        return None if data is None else data.required_identifier("remote_id")

    def employment_type(self) -> EmploymentTypeValue | None:
        raw = self.text("employment_type")
        if raw is None:
            return None
        word = raw.lower().replace("-", "_").replace(" ", "_")
        # An unfamiliar word is still an employment type: it normalises to OTHER and keeps the raw word.
        known = word in EmploymentType.__members__.values()
        return EmploymentTypeValue(EmploymentType(word) if known else EmploymentType.OTHER, raw=raw)

    def employment_status(self) -> EmploymentStatus | None:
        raw = self.text("employment_status")
        try:
            return None if raw is None else EmploymentStatus(raw.lower())
        except ValueError:
            # Guessing a status could start an onboarding or an offboarding: reject instead.
            raise self.fail("employment_status", f"unknown employment status {raw!r}") from None


def to_source_employee(raw: Mapping[str, object]) -> SourceEmployee:
    """Normalises one row; raises InvalidRecord naming the first field that cannot be read.

    Domain rules (a missing work email, a blank name) are the sync engine's: a value that is merely
    absent passes through as None.
    """
    remote_id = _Reader(raw, None).identifier("remote_id")
    if remote_id is None:
        raise InvalidRecord(None, "remote_id", "the row has no remote_id")
    row = _Reader(raw, remote_id)
    team = row.ref("team")
    return SourceEmployee(
        remote_id=remote_id,
        first_name=row.text("first_name"),
        last_name=row.text("last_name"),
        work_email=row.text("work_email"),
        start_date=row.date("start_date"),
        end_date=row.date("end_date"),
        team=team,
        manager=row.manager(),
        legal_entity=row.ref("legal_entity"),
        employment_type=row.employment_type(),
        employment_status=row.employment_status(),
        job_title=row.text("job_title"),
        employee_number=row.identifier("employee_number"),
        work_location=row.location(),
        work_phone=row.text("work_phone"),
        personal_email=row.text("personal_email"),
        personal_phone=row.text("personal_phone"),
        home_address=row.address(),
        teams=row.teams(team),
        deleted=row.timestamp("deleted_at") is not None,
    )


# Person attributes that a row carries as they are: text, or the neutral employment words.
_PLAIN_KEYS = (
    "id",
    "remote_id",
    "first_name",
    "last_name",
    "work_email",
    "personal_email",
    "personal_phone",
    "work_phone",
    "employee_number",
    "job_title",
    "employment_type",
    "employment_status",
)


def row_from_person(person: Person, population: Population) -> RawRow:
    """The neutral row for one simulated person, with group, entity and manager references resolved."""
    names = population.group_names
    address = person.home_address
    location = population.location(person.work_location_id) if person.work_location_id else None
    entity = population.legal_entity(person.legal_entity_id) if person.legal_entity_id else None
    manager = population.people.get(person.manager_id) if person.manager_id else None
    return {key: getattr(person, key) for key in _PLAIN_KEYS} | {
        "start_date": person.start_date.isoformat() if person.start_date else None,
        "end_date": person.end_date.isoformat() if person.end_date else None,
        "team": {"id": person.team_id, "name": names.get(person.team_id)} if person.team_id else None,
        "teams": [{"id": team_id, "name": names.get(team_id)} for team_id in person.team_ids],
        "legal_entity": {"id": entity.id, "name": entity.name} if entity else None,
        "work_location": {"id": location.id, "name": location.name, "country": location.country} if location else None,
        "home_address": {key: getattr(address, key) for key in _ADDRESS_KEYS} if address else None,
        "manager": {"id": manager.id, "remote_id": manager.remote_id} if manager else None,
        "updated_at": person.updated_at.isoformat(),
        "deleted_at": person.deleted_at.isoformat() if person.deleted_at else None,
    }


def _row_key(row: Mapping[str, Any]) -> str:
    key = row.get("remote_id")
    if isinstance(key, bool) or not isinstance(key, str | int) or not str(key).strip():
        raise ValueError("a stored row needs a remote_id (text or a whole number)")
    return str(key).strip()


def _order(remote_id: str) -> tuple[int, str]:
    # Numeric ids of different lengths ("99", "100") come out in numeric order; any id still sorts.
    return len(remote_id), remote_id


def _option_label(value: str) -> str:
    return value.replace("_", " ").capitalize()


class InMemoryConnector:
    """The HRConnector Protocol over rows a test (or the demo) holds, with fault knobs for tests."""

    provider = "memory"
    supports_incremental = True

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        groups: Iterable[Mapping[str, Any]] = (),
        legal_entities: Iterable[Mapping[str, Any]] = (),
        page_size: int = 500,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._rows: dict[str, RawRow] = {}
        for row in rows:
            self.put_row(row)
        # The source's own catalogue, as `{"id", "name", "kind", "parent_id"}` and `{"id", "name", "country"}`:
        # filter options list every team and entity, including those nobody belongs to yet.
        self.groups: list[RawRow] = [dict(group) for group in groups]
        self.legal_entities: list[RawRow] = [dict(entity) for entity in legal_entities]
        self.page_size = page_size
        # Every request received, in order: tests check which fields were asked for, and how often.
        self.requests: list[FetchRequest] = []
        self.pages_served = 0
        self._failure: tuple[int, BaseException] | None = None

    @classmethod
    def from_population(cls, population: Population, *, page_size: int = 500) -> InMemoryConnector:
        return cls(
            (row_from_person(person, population) for person in population),
            groups=({"id": g.id, "name": g.name, "kind": g.kind, "parent_id": g.parent_id} for g in population.groups),
            legal_entities=({"id": e.id, "name": e.name, "country": e.country} for e in population.legal_entities),
            page_size=page_size,
        )

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        """Pages through the rows in remote-id order; the call itself is recorded, not the first page."""
        self.requests.append(request)
        return self._stream(request, self._failure)

    def filter_options(self) -> FilterOptions:
        entities = {
            str(e["id"]): FilterOption(str(e["id"]), str(e.get("name") or e["id"])) for e in self.legal_entities
        }
        teams = {
            str(g["id"]): FilterOption(str(g["id"]), str(g.get("name") or g["id"]), g.get("parent_id"))
            for g in self.groups
            if g.get("kind", "team") == "team"
        }
        types: set[str] = set()
        for row in self._rows.values():
            if row.get("deleted_at"):
                continue
            # Options are read leniently: one malformed row must not hide every other value.
            reader = _Reader(row, str(row.get("remote_id")))
            try:
                entity = reader.ref("legal_entity")
                memberships = reader.teams(reader.ref("team"))
                employment = reader.employment_type()
            except InvalidRecord:
                continue
            if entity is not None and entity.id not in entities:
                entities[entity.id] = FilterOption(entity.id, entity.label())
            for team in memberships:
                teams.setdefault(team.id, FilterOption(team.id, team.label()))
            if employment is not None:
                types.add(employment.type.value)
        return FilterOptions(
            legal_entities=tuple(sorted(entities.values(), key=lambda o: (o.name, o.id))),
            employment_types=tuple(FilterOption(t.value, _option_label(t.value)) for t in EmploymentType if t in types),
            teams=tuple(sorted(teams.values(), key=lambda o: (o.name, o.id))),
        )

    @property
    def rows(self) -> dict[str, RawRow]:
        """The stored rows by remote id; edit them in place to simulate any source change."""
        return self._rows

    @property
    def calls(self) -> int:
        return len(self.requests)

    def put_row(self, row: Mapping[str, Any], *, now: dt.datetime | None = None) -> None:
        """Adds or replaces the row with the same remote id; `now` stamps it as updated then."""
        stored = dict(row)
        if now is not None:
            stored["updated_at"] = now.isoformat()
        self._rows[_row_key(stored)] = stored

    def remove_row(self, remote_id: str) -> None:
        """The person vanishes from the source without a trace, unlike `delete_row`."""
        del self._rows[remote_id]

    def delete_row(self, remote_id: str, *, now: dt.datetime) -> None:
        """The source marks the person deleted: the row stays and is served as a tombstone."""
        self._rows[remote_id]["deleted_at"] = now.isoformat()
        self.touch(remote_id, now=now)

    def touch(self, remote_id: str, *, now: dt.datetime) -> None:
        self._rows[remote_id]["updated_at"] = now.isoformat()

    def fail_after(self, count: int, error: BaseException) -> None:
        """Every later fetch raises `error` once `count` records are out (at the end if fewer exist)."""
        self._failure = (count, error)

    def fail_immediately(self, error: BaseException) -> None:
        self.fail_after(0, error)

    def clear_failure(self) -> None:
        self._failure = None

    def _stream(
        self, request: FetchRequest, failure: tuple[int, BaseException] | None
    ) -> Iterator[SourceEmployee | RejectedRecord]:
        switched_off = _CATALOGUE - request.fields
        since = request.updated_after
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        keys = sorted(self._rows, key=_order)
        sent = 0
        for start in range(0, len(keys), self.page_size):
            self.pages_served += 1
            # A row removed while the fetch runs is gone from later pages, as with a paged HTTP API.
            page = [self._rows[key] for key in keys[start : start + self.page_size] if key in self._rows]
            for row in page:
                item = self._record(row, switched_off, since)
                if item is None:
                    continue
                if failure is not None and sent >= failure[0]:
                    raise failure[1]
                yield item
                sent += 1
        if failure is not None:
            raise failure[1]

    @staticmethod
    def _record(
        row: RawRow, switched_off: frozenset[str], since: dt.datetime | None
    ) -> SourceEmployee | RejectedRecord | None:
        if since is not None:
            try:
                updated = _Reader(row, str(row.get("remote_id"))).timestamp("updated_at")
            except InvalidRecord as error:
                return error.to_rejected()
            # A row without updated_at cannot be shown unchanged, so an incremental fetch includes it.
            if updated is not None and updated <= since:
                return None
        # Switched-off fields are never requested from the source, so they cannot make a row invalid.
        requested = {key: value for key, value in row.items() if key not in switched_off}
        try:
            record = to_source_employee(requested)
        except InvalidRecord as error:
            return error.to_rejected()
        return record.without(switched_off)
