"""The two settings forms of a connection, Select data and Filters, as the pages show and post them.

The Add source wizard (`employee_sync`) and the connection's "Update settings" (`connection_settings`)
render the same partials (`employee_sync/_field_settings.html`, `employee_sync/_filters.html`) from these
rows and read the same posted names back into settings, so both say and save the same thing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData

from staffsync.connectors.base import FilterOptions
from staffsync.domain.fields import CATALOGUE, FieldSettings, SyncMode
from staffsync.domain.filters import FilterRules
from staffsync.domain.records import FilterOption

# What each field is for: the admin decides what to share knowing why staffsync asks.
FIELD_PURPOSES: Mapping[str, str] = {
    "first_name": "Name in the directory",
    "last_name": "Name in the directory; preview search",
    "work_email": "Matches people across sources and to their accounts",
    "start_date": "Drives onboardings",
    "end_date": "Drives offboardings",
    "team": "Policies, groups and filters",
    "manager": "Approvals and the reporting line",
    "legal_entity": "Policies and filters",
    "employment_type": "Filters (e.g. contractors) and policies",
    "employment_status": "Who is active, on leave or gone",
    "job_title": "Policies; usually maintained by hand afterwards",
    "employee_number": "Matching with payroll and other tools",
    "work_location": "Policies per office",
    "work_phone": "Directory contact details",
    "personal_email": "Alternative contact for enrollment",
    "personal_phone": "Alternative contact",
    "home_address": "Shipping equipment to employees",
}
MODE_LABELS: Mapping[str, str] = {SyncMode.CONTINUOUS: "Continuous", SyncMode.IMPORT_ONCE: "Import once"}


# --- field settings: rows for the partial, and the form back to settings ----------------------------------


@dataclass(frozen=True, slots=True)
class FieldRow:
    name: str
    label: str
    purpose: str
    core: bool
    personal: bool
    enabled: bool
    mode: str
    default_mode: str


def field_rows(settings: FieldSettings) -> list[FieldRow]:
    return [
        FieldRow(
            name=spec.name,
            label=spec.label,
            purpose=FIELD_PURPOSES.get(spec.name, ""),
            core=spec.core,
            personal=spec.personal,
            enabled=settings[spec.name].enabled,
            mode=settings.mode(spec.name).value,
            default_mode=spec.default_mode.value,
        )
        for spec in CATALOGUE
    ]


def field_settings_from_form(form: FormData) -> FieldSettings:
    """The partial posts `field` once per field it shows, `enabled_<field>` when switched on (core fields
    as a hidden input) and `mode_<field>`. Raises FieldSettingsError with every problem found."""
    submitted: dict[str, dict[str, object]] = {}
    for name in form.getlist("field"):
        if isinstance(name, str):
            mode = form.get(f"mode_{name}")
            submitted[name] = {"enabled": form.get(f"enabled_{name}") is not None, "mode": mode or ""}
    # An empty mode means "not sent": the catalogue's default, as for the API.
    return FieldSettings.from_mapping(
        {name: {k: v for k, v in raw.items() if v != ""} for name, raw in submitted.items()}
    )


def rows_as_sent(form: FormData, stored: FieldSettings) -> list[FieldRow]:
    """The form as the admin sent it (what it could not read stays as stored), to show next to the problems."""
    sent = {name for name in form.getlist("field") if isinstance(name, str)}
    modes = {mode.value for mode in SyncMode}
    rows = []
    for row in field_rows(stored):
        if row.name in sent:
            mode = form.get(f"mode_{row.name}")
            row = dataclasses.replace(
                row,
                enabled=form.get(f"enabled_{row.name}") is not None,
                mode=mode if isinstance(mode, str) and mode in modes else row.mode,
            )
        rows.append(row)
    return rows


# --- filters: the choices from the source, and the form back to rules ------------------------------------


@dataclass(frozen=True, slots=True)
class FilterChoice:
    id: str
    name: str
    selected: bool
    # Selected earlier but no longer offered by the source: shown so it can be removed, never silently kept.
    missing: bool = False


@dataclass(frozen=True, slots=True)
class FilterGroup:
    key: str  # the form field and FilterRules attribute: legal_entities, employment_types, teams
    label: str
    help: str
    choices: tuple[FilterChoice, ...]

    @property
    def selected(self) -> int:
        return sum(1 for choice in self.choices if choice.selected)


_FILTER_GROUPS = (
    ("legal_entities", "Legal entities", "Only people employed by these entities"),
    ("employment_types", "Employment types", "For example, leave contractors and interns out"),
    ("teams", "Teams", "Only members of these teams (any of their teams)"),
)


def filter_groups(options: FilterOptions | None, rules: FilterRules) -> list[FilterGroup]:
    """`options=None` when the source could not be read: the saved selection still shows, to be kept or cleared."""
    groups = []
    for key, label, help_text in _FILTER_GROUPS:
        chosen: frozenset[str] = getattr(rules, key)
        offered: tuple[FilterOption, ...] = getattr(options, key) if options is not None else ()
        known = {option.id for option in offered}
        choices = [FilterChoice(option.id, option.name, option.id in chosen) for option in offered]
        choices += [FilterChoice(value, value, True, missing=True) for value in sorted(chosen - known)]
        groups.append(FilterGroup(key, label, help_text, tuple(choices)))
    return groups


def filters_from_form(form: FormData) -> FilterRules:
    return FilterRules.from_mapping(
        {key: [v for v in form.getlist(key) if isinstance(v, str) and v] for key, _, _ in _FILTER_GROUPS}
    )
