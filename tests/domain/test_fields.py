"""The field catalogue, field modes and per-connection field settings (PRODUCT.md §2)."""

from __future__ import annotations

import datetime as dt

import pytest

from staffsync.domain.fields import (
    CATALOGUE,
    FIELD_NAMES,
    FIELDS,
    OFFBOARDING_NEEDS_CONTINUOUS_END_DATE,
    FieldSetting,
    FieldSettings,
    FieldSettingsError,
    SyncMode,
    fields_of_kind,
    value_from_json,
)
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    Location,
    Ref,
    value_to_json,
)

CONT, ONCE = SyncMode.CONTINUOUS, SyncMode.IMPORT_ONCE


def problems_of(data: dict[str, dict[str, object]]) -> list[tuple[str, str]]:
    with pytest.raises(FieldSettingsError) as caught:
        FieldSettings.from_mapping(data)
    return [(p.code, p.field) for p in caught.value.problems]


# --- the catalogue ------------------------------------------------------------------------------


def test_catalogue_lists_every_field_of_the_spec_in_order():
    assert FIELD_NAMES == (
        "first_name",
        "last_name",
        "work_email",
        "start_date",
        "end_date",
        "team",
        "manager",
        "legal_entity",
        "employment_type",
        "employment_status",
        "job_title",
        "employee_number",
        "work_location",
        "work_phone",
        "personal_email",
        "personal_phone",
        "home_address",
    )


def test_core_fields_and_default_modes_follow_the_spec():
    core = {spec.name for spec in CATALOGUE if spec.core}
    assert core == {
        "first_name",
        "last_name",
        "work_email",
        "start_date",
        "end_date",
        "team",
        "manager",
        "legal_entity",
        "employment_type",
        "employment_status",
        "job_title",
    }
    import_once = {spec.name for spec in CATALOGUE if spec.default_mode is ONCE}
    assert import_once == {"job_title", "personal_email", "personal_phone", "home_address"}


def test_personal_fields_are_optional_and_marked_personal():
    personal = {spec.name for spec in CATALOGUE if spec.personal}
    assert personal == {"personal_email", "personal_phone", "home_address"}
    assert not any(FIELDS[name].core for name in personal)


def test_fields_of_kind_lists_catalogue_fields_in_catalogue_order():
    assert fields_of_kind(["date"]) == ("start_date", "end_date")
    assert fields_of_kind(["email", "ref"]) == ("work_email", "team", "legal_entity", "personal_email")
    assert fields_of_kind([]) == ()


# --- defaults and from_mapping ------------------------------------------------------------------


def test_defaults_enable_every_field_in_its_default_mode():
    settings = FieldSettings.defaults()
    assert set(settings.settings) == set(FIELD_NAMES)
    for spec in CATALOGUE:
        assert settings[spec.name] == FieldSetting(enabled=True, mode=spec.default_mode)
    assert settings.enabled_fields() == frozenset(FIELD_NAMES)
    assert settings.disabled_fields() == frozenset()


def test_empty_mapping_gives_the_defaults():
    assert FieldSettings.from_mapping({}) == FieldSettings.defaults()


def test_partial_mapping_keeps_defaults_for_unset_fields_and_unset_keys():
    settings = FieldSettings.from_mapping(
        {"home_address": {"enabled": False}, "job_title": {"mode": "continuous"}, "work_phone": {}}
    )
    assert settings["home_address"] == FieldSetting(enabled=False, mode=ONCE)
    assert settings["job_title"] == FieldSetting(enabled=True, mode=CONT)
    assert settings["work_phone"] == FieldSetting(enabled=True, mode=CONT)
    assert settings["first_name"] == FieldSetting(enabled=True, mode=CONT)
    assert settings.disabled_fields() == frozenset({"home_address"})


def test_optional_fields_can_be_turned_off():
    optional = [spec.name for spec in CATALOGUE if not spec.core]
    settings = FieldSettings.from_mapping({name: {"enabled": False} for name in optional})
    assert settings.disabled_fields() == frozenset(optional)


def test_core_fields_cannot_be_turned_off():
    core = [spec.name for spec in CATALOGUE if spec.core]
    assert problems_of({name: {"enabled": False} for name in core}) == [("core_field_required", name) for name in core]


def test_core_field_error_says_why_in_plain_words():
    with pytest.raises(FieldSettingsError) as caught:
        FieldSettings.from_mapping({"work_email": {"enabled": False}})
    (problem,) = caught.value.problems
    assert problem.severity == "error"
    assert "'work_email' is a core field" in problem.message
    assert "cannot be turned off" in str(caught.value)


def test_core_fields_can_change_mode():
    settings = FieldSettings.from_mapping({"first_name": {"mode": "import_once"}})
    assert settings["first_name"] == FieldSetting(enabled=True, mode=ONCE)


def test_unknown_field_is_an_error_diagnostic():
    assert problems_of({"shoe_size": {"enabled": True}}) == [("unknown_field", "shoe_size")]


def test_invalid_mode_is_an_error_diagnostic_naming_the_value():
    with pytest.raises(FieldSettingsError) as caught:
        FieldSettings.from_mapping({"job_title": {"mode": "sometimes"}})
    (problem,) = caught.value.problems
    assert (problem.code, problem.field, problem.severity) == ("invalid_mode", "job_title", "error")
    assert "'sometimes'" in problem.message


def test_non_boolean_enabled_is_an_error_diagnostic():
    assert problems_of({"work_phone": {"enabled": "no"}}) == [("invalid_enabled", "work_phone")]


def test_every_problem_is_reported_at_once():
    assert problems_of(
        {
            "shoe_size": {},
            "job_title": {"mode": "weekly"},
            "last_name": {"enabled": False},
            "work_phone": {"enabled": False},
        }
    ) == [
        ("unknown_field", "shoe_size"),
        ("invalid_mode", "job_title"),
        ("core_field_required", "last_name"),
    ]


def test_settings_error_is_a_value_error():
    with pytest.raises(ValueError):
        FieldSettings.from_mapping({"nope": {}})


def test_to_mapping_round_trips_through_from_mapping():
    settings = FieldSettings.from_mapping({"home_address": {"enabled": False}, "job_title": {"mode": "continuous"}})
    mapping = settings.to_mapping()
    assert mapping["home_address"] == {"enabled": False, "mode": "import_once"}
    assert mapping["job_title"] == {"enabled": True, "mode": "continuous"}
    assert set(mapping) == set(FIELD_NAMES)
    assert FieldSettings.from_mapping(mapping) == settings


# --- modes and diagnostics ----------------------------------------------------------------------


def test_is_continuous_needs_the_field_enabled_and_continuous():
    settings = FieldSettings.from_mapping({"work_phone": {"enabled": False}, "personal_email": {"mode": "continuous"}})
    assert settings.is_continuous("first_name")
    assert not settings.is_continuous("job_title")
    assert not settings.is_continuous("work_phone")
    assert settings.is_continuous("personal_email")
    assert settings.mode("work_phone") is CONT


def test_default_settings_have_no_diagnostics():
    assert FieldSettings.defaults().diagnostics() == []


def test_end_date_not_continuous_gives_the_offboarding_diagnostic():
    settings = FieldSettings.from_mapping({"end_date": {"mode": "import_once"}})
    (diagnostic,) = settings.diagnostics()
    assert diagnostic.code == OFFBOARDING_NEEDS_CONTINUOUS_END_DATE
    assert diagnostic.field == "end_date"
    assert diagnostic.severity == "warning"
    assert "offboarding" in diagnostic.message
    assert "Continuous" in diagnostic.message


def test_other_import_once_fields_give_no_diagnostic():
    settings = FieldSettings.from_mapping({"start_date": {"mode": "import_once"}})
    assert settings.diagnostics() == []


# --- changes between two settings ---------------------------------------------------------------


def test_switched_off_lists_fields_enabled_before_and_disabled_now():
    before = FieldSettings.from_mapping({"work_phone": {"enabled": False}})
    after = FieldSettings.from_mapping({"home_address": {"enabled": False}, "personal_phone": {"enabled": False}})
    assert after.switched_off(before) == frozenset({"home_address", "personal_phone"})
    assert before.switched_off(after) == frozenset({"work_phone"})


def test_nothing_is_switched_off_between_equal_settings():
    assert FieldSettings.defaults().switched_off(FieldSettings.defaults()) == frozenset()
    assert FieldSettings.defaults().switched_to_continuous(FieldSettings.defaults()) == frozenset()


def test_switched_to_continuous_lists_fields_that_now_follow_the_source():
    before = FieldSettings.defaults()
    after = FieldSettings.from_mapping({"job_title": {"mode": "continuous"}, "work_phone": {"mode": "import_once"}})
    assert after.switched_to_continuous(before) == frozenset({"job_title"})
    assert before.switched_to_continuous(after) == frozenset({"work_phone"})


def test_switching_a_disabled_field_on_as_continuous_counts_as_switched_to_continuous():
    before = FieldSettings.from_mapping({"work_phone": {"enabled": False}})
    assert FieldSettings.defaults().switched_to_continuous(before) == frozenset({"work_phone"})


def test_a_continuous_field_switched_off_is_not_switched_to_continuous():
    after = FieldSettings.from_mapping({"work_phone": {"enabled": False}})
    assert after.switched_to_continuous(FieldSettings.defaults()) == frozenset()


# --- JSON form of values ------------------------------------------------------------------------

SAMPLE_VALUES = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "work_email": "ada@example.com",
    "start_date": dt.date(2024, 2, 29),
    "end_date": dt.date(2025, 12, 31),
    "team": Ref("t1", "Engineering"),
    "manager": "emp-42",
    "legal_entity": Ref("le-fr", "Example SAS"),
    "employment_type": EmploymentTypeValue(EmploymentType.FIXED_TERM, raw="CDD"),
    "employment_status": EmploymentStatus.LEAVE,
    "job_title": "Analyst",
    "employee_number": "00042",
    "work_location": Location("loc-1", "Paris", "FR"),
    "work_phone": "+33 1 23 45 67 89",
    "personal_email": "ada@home.example",
    "personal_phone": "+33 6 00 00 00 00",
    "home_address": Address("1 rue de la Paix", "Paris", "75002", "IDF", "FR"),
}


def test_sample_values_cover_every_catalogue_field():
    assert set(SAMPLE_VALUES) == set(FIELD_NAMES)


@pytest.mark.parametrize("field", FIELD_NAMES)
def test_value_json_round_trip_for_every_catalogue_field(field):
    value = SAMPLE_VALUES[field]
    assert value_from_json(field, value_to_json(value)) == value


@pytest.mark.parametrize("field", FIELD_NAMES)
def test_none_round_trips_as_null_for_every_field(field):
    assert value_to_json(None) is None
    assert value_from_json(field, None) is None


@pytest.mark.parametrize(
    "value",
    [
        Ref("t1"),
        Location("loc-1"),
        Address(),
        Address(city="Berlin"),
        EmploymentTypeValue(EmploymentType.CONTRACTOR),
    ],
)
def test_values_with_missing_parts_round_trip(value):
    field = {
        Ref: "team",
        Location: "work_location",
        Address: "home_address",
        EmploymentTypeValue: "employment_type",
    }[type(value)]
    assert value_from_json(field, value_to_json(value)) == value


def test_json_forms_are_plain_json_types():
    assert value_to_json(dt.date(2024, 1, 2)) == "2024-01-02"
    assert value_to_json(Ref("t1", "Eng")) == {"id": "t1", "name": "Eng"}
    assert value_to_json(EmploymentTypeValue(EmploymentType.INTERN, "Stage")) == {
        "type": "intern",
        "raw": "Stage",
    }
    status = value_to_json(EmploymentStatus.PENDING)
    assert status == "pending"
    assert type(status) is str


def test_employment_status_comes_back_as_the_enum():
    assert value_from_json("employment_status", "inactive") is EmploymentStatus.INACTIVE


def test_a_non_field_value_is_refused():
    with pytest.raises(TypeError):
        value_to_json(3.14)  # type: ignore[arg-type]
