"""The field catalogue (PRODUCT.md §2), field modes, and per-connection field settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    FieldValue,
    JSONValue,
    Location,
    Ref,
)


class SyncMode(StrEnum):
    CONTINUOUS = "continuous"
    IMPORT_ONCE = "import_once"


ValueKind = Literal[
    "text", "email", "date", "ref", "employee", "location", "address", "employment_type", "employment_status"
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    label: str
    kind: ValueKind
    core: bool
    default_mode: SyncMode
    personal: bool = False


_C, _I = SyncMode.CONTINUOUS, SyncMode.IMPORT_ONCE

CATALOGUE: tuple[FieldSpec, ...] = (
    FieldSpec("first_name", "First name", "text", core=True, default_mode=_C),
    FieldSpec("last_name", "Last name", "text", core=True, default_mode=_C),
    FieldSpec("work_email", "Professional email", "email", core=True, default_mode=_C),
    FieldSpec("start_date", "Start date", "date", core=True, default_mode=_C),
    FieldSpec("end_date", "End date", "date", core=True, default_mode=_C),
    FieldSpec("team", "Team", "ref", core=True, default_mode=_C),
    FieldSpec("manager", "Manager", "employee", core=True, default_mode=_C),
    FieldSpec("legal_entity", "Legal entity", "ref", core=True, default_mode=_C),
    FieldSpec("employment_type", "Employment type", "employment_type", core=True, default_mode=_C),
    FieldSpec("employment_status", "Employment status", "employment_status", core=True, default_mode=_C),
    FieldSpec("job_title", "Job title", "text", core=True, default_mode=_I),
    FieldSpec("employee_number", "Employee number", "text", core=False, default_mode=_C),
    FieldSpec("work_location", "Work location", "location", core=False, default_mode=_C),
    FieldSpec("work_phone", "Work phone", "text", core=False, default_mode=_C),
    FieldSpec("personal_email", "Personal email", "email", core=False, default_mode=_I, personal=True),
    FieldSpec("personal_phone", "Personal phone", "text", core=False, default_mode=_I, personal=True),
    FieldSpec("home_address", "Home address", "address", core=False, default_mode=_I, personal=True),
)
del _C, _I

FIELDS: Mapping[str, FieldSpec] = {spec.name: spec for spec in CATALOGUE}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)


def _date(data: JSONValue) -> FieldValue:
    return data if isinstance(data, dt.date) else dt.date.fromisoformat(data)


def _address(data: JSONValue) -> FieldValue:
    return Address(
        data.get("street"), data.get("city"), data.get("postal_code"), data.get("region"), data.get("country")
    )


_DECODERS: Mapping[ValueKind, Callable[[JSONValue], FieldValue]] = {
    "text": str,
    "email": str,
    "employee": str,
    "date": _date,
    "ref": lambda data: Ref(data["id"], data.get("name")),
    "location": lambda data: Location(data["id"], data.get("name"), data.get("country")),
    "address": _address,
    "employment_type": lambda data: EmploymentTypeValue(EmploymentType(data["type"]), data.get("raw")),
    "employment_status": EmploymentStatus,
}
# Resolved once: decoding runs for every field of every person of every sync.
_FIELD_DECODERS: Mapping[str, Callable[[JSONValue], FieldValue]] = {
    spec.name: _DECODERS[spec.kind] for spec in CATALOGUE
}


def value_from_json(field: str, data: JSONValue) -> FieldValue:
    """The inverse of `values.value_to_json`, guided by the catalogue's kind for the field."""
    if data is None:
        return None
    return _FIELD_DECODERS[field](data)


@dataclass(frozen=True, slots=True)
class FieldSetting:
    enabled: bool
    mode: SyncMode


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A structured warning about a configuration: the UI and the API render it, tests assert on it."""

    code: str
    field: str
    severity: Literal["warning", "error"]
    message: str


class FieldSettingsError(ValueError):
    def __init__(self, problems: list[Diagnostic]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


OFFBOARDING_NEEDS_CONTINUOUS_END_DATE = "offboarding_needs_continuous_end_date"


@dataclass(frozen=True, slots=True)
class FieldSettings:
    """Which fields one connection syncs, and how. Always complete: one entry per catalogue field."""

    settings: Mapping[str, FieldSetting]

    @classmethod
    def defaults(cls) -> FieldSettings:
        return cls({spec.name: FieldSetting(enabled=True, mode=spec.default_mode) for spec in CATALOGUE})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, object]]) -> FieldSettings:
        """Builds validated settings from a partial `{field: {"enabled":…, "mode":…}}`; unset = default."""
        problems: list[Diagnostic] = []
        merged = dict(cls.defaults().settings)
        for name, raw in data.items():
            spec = FIELDS.get(name)
            if spec is None:
                problems.append(Diagnostic("unknown_field", name, "error", f"'{name}' is not a known field"))
                continue
            enabled = raw.get("enabled", True)
            mode_raw = raw.get("mode", spec.default_mode.value)
            if not isinstance(enabled, bool):
                problems.append(Diagnostic("invalid_enabled", name, "error", f"'{name}': enabled must be a boolean"))
                continue
            try:
                mode = SyncMode(str(mode_raw))
            except ValueError:
                problems.append(
                    Diagnostic(
                        "invalid_mode",
                        name,
                        "error",
                        f"'{name}': mode must be 'continuous' or 'import_once', not {mode_raw!r}",
                    )
                )
                continue
            if spec.core and not enabled:
                problems.append(
                    Diagnostic(
                        "core_field_required",
                        name,
                        "error",
                        f"'{name}' is a core field: staffsync needs it and it cannot be turned off",
                    )
                )
                continue
            merged[name] = FieldSetting(enabled=enabled, mode=mode)
        if problems:
            raise FieldSettingsError(problems)
        return cls(merged)

    def to_mapping(self) -> dict[str, dict[str, object]]:
        return {name: {"enabled": s.enabled, "mode": s.mode.value} for name, s in self.settings.items()}

    def __getitem__(self, field: str) -> FieldSetting:
        return self.settings[field]

    def enabled_fields(self) -> frozenset[str]:
        return frozenset(name for name, s in self.settings.items() if s.enabled)

    def disabled_fields(self) -> frozenset[str]:
        return frozenset(name for name, s in self.settings.items() if not s.enabled)

    def mode(self, field: str) -> SyncMode:
        return self.settings[field].mode

    def is_continuous(self, field: str) -> bool:
        setting = self.settings[field]
        return setting.enabled and setting.mode is SyncMode.CONTINUOUS

    def diagnostics(self) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        if not self.is_continuous("end_date"):
            found.append(
                Diagnostic(
                    OFFBOARDING_NEEDS_CONTINUOUS_END_DATE,
                    "end_date",
                    "warning",
                    "End date is not continuously synchronised: departures recorded in the HR system after "
                    "the first import will not reach the directory, so automated offboarding will not "
                    "happen. Set End date to Continuous synchronisation.",
                )
            )
        return found

    def switched_off(self, previous: FieldSettings) -> frozenset[str]:
        """Fields enabled in `previous` and disabled here: their stored values must be purged."""
        return previous.enabled_fields() - self.enabled_fields()

    def switched_to_continuous(self, previous: FieldSettings) -> frozenset[str]:
        return frozenset(
            name for name in self.settings if self.is_continuous(name) and not previous.is_continuous(name)
        )


def fields_of_kind(kinds: Iterable[ValueKind]) -> tuple[str, ...]:
    wanted = set(kinds)
    return tuple(spec.name for spec in CATALOGUE if spec.kind in wanted)
