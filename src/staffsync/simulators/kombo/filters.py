"""Query parameters of the list endpoints, parsed as the SDK sends them, and turned into predicates.

Lists arrive comma-joined in one parameter (`ids=a,b`), booleans as `true`/`false`, datetimes as
ISO strings with or without `Z` and fractions. Filters are ANDed across parameters and ORed within
one (notes §4). Parameters an endpoint does not know are ignored, as `ignore_unsupported_filters`
would have them; malformed values of known ones are 400 `PLATFORM.INPUT_INVALID`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from staffsync.simulators.kombo.mirror import EmployeeRecord, Mirror, StaticRecord
from staffsync.simulators.kombo.render import EMPLOYMENT_STATUSES, Renderer, custom_fields
from staffsync.simulators.kombo.wire import input_invalid, parse_datetime
from staffsync.simulators.population import Group, LegalEntity, WorkLocation

_STATUSES: Final = frozenset(EMPLOYMENT_STATUSES.values())
_GROUP_TYPES: Final = frozenset({"DEPARTMENT", "TEAM", "COST_CENTER"})


class Query:
    """The query string of one request, read the way the SDK writes it."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.items = list(items)
        self._last = dict(items)

    def get(self, name: str) -> str | None:
        return self._last.get(name)

    def values(self, name: str) -> frozenset[str] | None:
        raw = self._last.get(name)
        if raw is None:
            return None
        values = frozenset(part.strip() for part in raw.split(",") if part.strip())
        return values or None

    def flag(self, name: str) -> bool:
        raw = self._last.get(name)
        if raw is None:
            return False
        if raw not in ("true", "false"):
            raise input_invalid(f"{name} must be true or false, got {raw!r}.")
        return raw == "true"

    def moment(self, name: str) -> dt.datetime | None:
        raw = self._last.get(name)
        if raw is None or not raw.strip():
            return None
        try:
            return parse_datetime(raw)
        except ValueError:
            raise input_invalid(f"{name} must be an ISO 8601 datetime, got {raw!r}.") from None

    def enum_values(self, name: str, allowed: frozenset[str]) -> frozenset[str] | None:
        values = self.values(name)
        unknown = sorted((values or frozenset()) - allowed)
        if unknown:
            raise input_invalid(f"{name} has unknown values: {', '.join(unknown)}.")
        return values

    def custom_field(self) -> tuple[str, Any] | None:
        raw = self._last.get("custom_fields")
        if raw is None or not raw.strip():
            return None
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or len(parsed) != 1:
            raise input_invalid("custom_fields must be a JSON object with exactly one key and value.")
        return next(iter(parsed.items()))


def employee_filter(query: Query, mirror: Mirror, renderer: Renderer) -> Callable[[EmployeeRecord], bool]:
    include_deleted = query.flag("include_deleted")
    query.flag("ignore_unsupported_filters")
    updated_after = query.moment("updated_after")
    ids, remote_ids = query.values("ids"), query.values("remote_ids")
    statuses = query.enum_values("employment_statuses", _STATUSES)
    groups, entities = query.values("group_ids"), query.values("legal_entity_ids")
    locations = query.values("work_location_ids")
    work_emails = _lowered(query.values("work_emails"))
    personal_emails = _lowered(query.values("personal_emails"))
    custom = query.custom_field()
    content_filtered = any(
        value is not None for value in (statuses, groups, entities, locations, work_emails, personal_emails, custom)
    )
    local_of = mirror.local_of

    def matches(record: EmployeeRecord) -> bool:
        if record.remote_deleted_at is not None and not include_deleted:
            return False
        if updated_after is not None and record.updated_at <= updated_after:
            return False
        person = record.person
        if (ids is not None and record.id not in ids) or (
            remote_ids is not None and person.remote_id not in remote_ids
        ):
            return False
        if not content_filtered:
            return True
        # An anonymised tombstone has no content left to match.
        if renderer.anonymised(record):
            return False
        if statuses is not None and EMPLOYMENT_STATUSES.get(person.employment_status) not in statuses:
            return False
        if groups is not None:
            own = {person.department_id, *person.team_ids}
            if not any(local_of.get(group_id) in own for group_id in groups):
                return False
        if entities is not None and not any(local_of.get(e) == person.legal_entity_id for e in entities):
            return False
        if locations is not None and not any(local_of.get(loc) == person.work_location_id for loc in locations):
            return False
        if work_emails is not None and (person.work_email or "").lower() not in work_emails:
            return False
        if personal_emails is not None and (person.personal_email or "").lower() not in personal_emails:
            return False
        return custom is None or custom_fields(person).get(custom[0]) == custom[1]

    return matches


def employment_filter(query: Query) -> Callable[[EmployeeRecord], bool]:
    include_deleted = query.flag("include_deleted")
    query.flag("ignore_unsupported_filters")
    updated_after = query.moment("updated_after")
    ids, remote_ids = query.values("ids"), query.values("remote_ids")

    def matches(record: EmployeeRecord) -> bool:
        if record.remote_deleted_at is not None and not include_deleted:
            return False
        if updated_after is not None and record.employment_changed_at <= updated_after:
            return False
        if ids is not None and record.employment_id not in ids:
            return False
        return remote_ids is None or f"{record.person.remote_id}-1" in remote_ids

    return matches


def static_filter(
    query: Query, *, with_types: bool = False
) -> Callable[[StaticRecord[Group] | StaticRecord[LegalEntity] | StaticRecord[WorkLocation]], bool]:
    """Groups, legal entities and locations: common filters plus `name_contains` (and `types` for groups)."""
    query.flag("include_deleted")
    query.flag("ignore_unsupported_filters")
    updated_after = query.moment("updated_after")
    ids, remote_ids = query.values("ids"), query.values("remote_ids")
    needle = (query.get("name_contains") or "").lower()
    types = query.enum_values("types", _GROUP_TYPES) if with_types else None

    def matches(record: StaticRecord[Group] | StaticRecord[LegalEntity] | StaticRecord[WorkLocation]) -> bool:
        item = record.item
        if updated_after is not None and record.changed_at <= updated_after:
            return False
        if (ids is not None and record.id not in ids) or (remote_ids is not None and item.id not in remote_ids):
            return False
        if needle and needle not in item.name.lower():
            return False
        if types is not None and isinstance(item, Group):
            return ("TEAM" if item.kind == "team" else "DEPARTMENT") in types
        return True

    return matches


def _lowered(values: frozenset[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(value.lower() for value in values)
