"""Kombo's employee JSON → SourceEmployee, on hand-written payloads shaped like the SDK's model
(`GetHrisEmployeesPositiveResponseResult`): pure, no SDK, no HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from staffsync.connectors.kombo import (
    InvalidKomboRecord,
    KomboCatalogue,
    KomboGroup,
    KomboPlace,
    catalogue_needs,
    to_source_employee,
)
from staffsync.domain.fields import CATALOGUE, FIELD_NAMES
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import Address, EmploymentStatus, EmploymentType, EmploymentTypeValue, Location, Ref

BERLIN = "Europe/Berlin"


def kombo_employee(**values: Any) -> dict[str, Any]:
    """Every required key of Kombo's employee model, as the JSON the API sends, plus the optional ones."""
    base: dict[str, Any] = {
        "id": "26vafvWSRmbhNcxJYqjCzuJg",
        "remote_id": "12345:de",
        "employee_number": "1042",
        "first_name": "Renée",
        "last_name": "van der Berg",
        "nationality": "DE",
        "display_full_name": "Renée van der Berg",
        "job_title": "Platform Engineer",
        "mobile_phone_number": "+49 170 1234567",
        "ssn": "12 345678 A 123",
        "tax_id": "12345678901",
        "weekly_hours": 40.0,
        "avatar": None,
        "work_location_id": "LOC_berlin",
        "legal_entity_id": "LE_gmbh",
        "manager_id": "MGR_kombo_id",
        "date_of_birth": "1990-05-17T00:00:00.000Z",
        "start_date": "2024-01-31T23:00:00.000Z",
        "termination_date": None,
        "remote_created_at": "2023-12-01T10:00:00.000Z",
        "changed_at": "2026-03-01T08:00:00.000Z",
        "remote_deleted_at": None,
        "custom_fields": {"shirt_size": "M"},
        "employments": [],
        "time_off_balances": [],
        "manager": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "display_full_name": "Ada Lovelace",
            "id": "MGR_kombo_id",
            "employee_number": "7",
            "remote_id": "7:de",
            "termination_date": None,
            "work_email": "ada@acme.example",
            "employment_status": "ACTIVE",
        },
        "groups": [
            {"id": "GRP_eng", "remote_id": "10", "name": "Engineering", "type": "DEPARTMENT"},
            {"id": "GRP_platform", "remote_id": "11", "name": "Platform", "type": "TEAM"},
            {"id": "GRP_cc", "remote_id": "12", "name": "CC 4711", "type": "COST_CENTER"},
            {"id": "GRP_guild", "remote_id": "13", "name": "Python Guild", "type": "TEAM"},
        ],
        "legal_entity": {"id": "LE_gmbh", "remote_id": "1", "name": "Acme GmbH", "address": {"country": "DE"}},
        "work_location": {
            "id": "LOC_berlin",
            "remote_id": "3",
            "name": "Berlin HQ",
            "type": "OFFICE",
            "changed_at": "2025-01-01T00:00:00.000Z",
            "remote_deleted_at": None,
            "address": {"city": "Berlin", "country": "DE", "street_1": "Alexanderplatz 1", "zip_code": "10178"},
        },
        "work_email": "renee.vanderberg@acme.example",
        "personal_email": "renee@example.org",
        "gender": "FEMALE",
        "employment_status": "ACTIVE",
        "employment_type": "FULL_TIME",
        "home_address": {
            "city": "Berlin",
            "country": "DE",
            "raw": "Torstraße 5, Hinterhaus, 10119 Berlin",
            "state": "Berlin",
            "street_1": "Torstraße 5",
            "street_2": "Hinterhaus",
            "zip_code": "10119",
        },
        "bank_accounts": [],
    }
    return base | values


def invalid(raw: dict[str, Any], *, timezone: str = BERLIN) -> InvalidKomboRecord:
    with pytest.raises(InvalidKomboRecord) as caught:
        to_source_employee(raw, timezone=timezone)
    return caught.value


def test_every_catalogue_field_is_mapped_from_kombo_s_employee() -> None:
    record = to_source_employee(kombo_employee(), timezone=BERLIN)

    assert record == SourceEmployee(
        remote_id="26vafvWSRmbhNcxJYqjCzuJg",
        first_name="Renée",
        last_name="van der Berg",
        work_email="renee.vanderberg@acme.example",
        start_date=dt.date(2024, 2, 1),
        end_date=None,
        team=Ref("GRP_platform", "Platform"),
        manager="MGR_kombo_id",
        legal_entity=Ref("LE_gmbh", "Acme GmbH"),
        employment_type=EmploymentTypeValue(EmploymentType.PERMANENT, raw="FULL_TIME"),
        employment_status=EmploymentStatus.ACTIVE,
        job_title="Platform Engineer",
        employee_number="1042",
        work_location=Location("LOC_berlin", "Berlin HQ", "DE"),
        work_phone=None,
        personal_email="renee@example.org",
        personal_phone="+49 170 1234567",
        home_address=Address("Torstraße 5, Hinterhaus", "Berlin", "10119", "Berlin", "DE"),
        teams=(Ref("GRP_platform", "Platform"), Ref("GRP_guild", "Python Guild")),
        deleted=False,
    )


def test_the_kombo_id_is_the_remote_id_not_the_hr_system_s_composite_id() -> None:
    record = to_source_employee(kombo_employee(id="KOMBO_1", remote_id="999:at"), timezone="UTC")

    assert record.remote_id == "KOMBO_1"


def test_a_start_date_just_before_midnight_utc_is_the_next_day_in_berlin() -> None:
    raw = kombo_employee(start_date="2026-03-31T22:00:00.000Z")

    assert to_source_employee(raw, timezone=BERLIN).start_date == dt.date(2026, 4, 1)
    assert to_source_employee(raw, timezone="UTC").start_date == dt.date(2026, 3, 31)


def test_a_termination_in_the_early_utc_morning_is_the_previous_day_in_new_york() -> None:
    raw = kombo_employee(termination_date="2026-04-01T03:30:00.000Z")

    assert to_source_employee(raw, timezone="America/New_York").end_date == dt.date(2026, 3, 31)
    assert to_source_employee(raw, timezone=BERLIN).end_date == dt.date(2026, 4, 1)


@pytest.mark.parametrize("timezone", ["America/Los_Angeles", "UTC", BERLIN, "Asia/Tokyo", "Pacific/Kiritimati"])
def test_midnight_utc_is_a_date_only_value_and_keeps_its_day_in_every_time_zone(timezone: str) -> None:
    raw = kombo_employee(start_date="2026-04-01T00:00:00.000Z", termination_date="2026-12-31T00:00:00Z")

    record = to_source_employee(raw, timezone=timezone)

    assert (record.start_date, record.end_date) == (dt.date(2026, 4, 1), dt.date(2026, 12, 31))


def test_a_datetime_without_zone_is_read_as_written() -> None:
    raw = kombo_employee(start_date="2026-04-01T23:30:00")

    assert to_source_employee(raw, timezone="Asia/Tokyo").start_date == dt.date(2026, 4, 1)


def test_the_primary_team_is_the_first_team_group_and_departments_are_not_teams() -> None:
    groups = [
        {"id": "D", "remote_id": "1", "name": "Sales", "type": "DEPARTMENT"},
        {"id": "T2", "remote_id": "2", "name": "Inside Sales", "type": "TEAM"},
        {"id": "X", "remote_id": "3", "name": "Untyped", "type": None},
        {"id": "T1", "remote_id": "4", "name": "Key Accounts", "type": "TEAM"},
        {"id": "T2", "remote_id": "2", "name": "Inside Sales", "type": "TEAM"},
    ]

    record = to_source_employee(kombo_employee(groups=groups), timezone="UTC")

    assert record.team == Ref("T2", "Inside Sales")
    assert record.teams == (Ref("T2", "Inside Sales"), Ref("T1", "Key Accounts"))


def test_a_person_in_departments_only_has_no_team() -> None:
    groups = [{"id": "D", "remote_id": "1", "name": "Sales", "type": "DEPARTMENT"}]

    record = to_source_employee(kombo_employee(groups=groups), timezone="UTC")

    assert (record.team, record.teams) == (None, ())


@pytest.mark.parametrize(
    ("kombo", "normalised"),
    [
        ("FULL_TIME", EmploymentType.PERMANENT),
        ("PART_TIME", EmploymentType.PERMANENT),
        ("CONTRACT", EmploymentType.CONTRACTOR),
        ("INTERNSHIP", EmploymentType.INTERN),
        ("APPRENTICESHIP", EmploymentType.APPRENTICE),
        ("TRAINING", EmploymentType.APPRENTICE),
        ("FREELANCE", EmploymentType.FREELANCE),
        ("WORKING_STUDENT", EmploymentType.OTHER),
        ("Werkstudent (befristet)", EmploymentType.OTHER),
    ],
)
def test_employment_types_are_normalised_and_kombo_s_word_is_kept(kombo: str, normalised: EmploymentType) -> None:
    record = to_source_employee(kombo_employee(employment_type=kombo), timezone="UTC")

    assert record.employment_type == EmploymentTypeValue(normalised, raw=kombo)


@pytest.mark.parametrize(
    ("kombo", "status"),
    [
        ("ACTIVE", EmploymentStatus.ACTIVE),
        ("PENDING", EmploymentStatus.PENDING),
        ("LEAVE", EmploymentStatus.LEAVE),
        ("INACTIVE", EmploymentStatus.INACTIVE),
        (None, None),
    ],
)
def test_employment_statuses_map_one_to_one(kombo: str | None, status: EmploymentStatus | None) -> None:
    assert to_source_employee(kombo_employee(employment_status=kombo), timezone="UTC").employment_status == status


def test_an_unmapped_employment_status_rejects_the_person_naming_the_field() -> None:
    error = invalid(kombo_employee(employment_status="Probezeit"))

    assert error.to_rejected() == RejectedRecord(
        "26vafvWSRmbhNcxJYqjCzuJg",
        "Kombo passed through an unmapped employment status 'Probezeit'",
        "employment_status",
    )


def test_a_tombstone_with_every_field_nulled_is_still_a_deleted_person() -> None:
    nulled = {key: None for key in kombo_employee() if key not in ("id", "changed_at", "remote_deleted_at")}
    raw = kombo_employee(**nulled, remote_deleted_at="2026-02-01T04:00:00.000Z")
    raw |= {"groups": [], "employments": [], "time_off_balances": []}

    assert to_source_employee(raw, timezone=BERLIN) == SourceEmployee(
        remote_id="26vafvWSRmbhNcxJYqjCzuJg", deleted=True
    )


def test_a_recent_tombstone_keeps_its_values() -> None:
    record = to_source_employee(kombo_employee(remote_deleted_at="2026-03-01T04:00:00.000Z"), timezone=BERLIN)

    assert record.deleted is True
    assert record.work_email == "renee.vanderberg@acme.example"


def test_a_tombstone_with_unreadable_values_is_still_a_tombstone() -> None:
    raw = kombo_employee(remote_deleted_at="2026-03-01T04:00:00Z", employment_status="Gelöscht", start_date="soon")

    assert to_source_employee(raw, timezone=BERLIN) == SourceEmployee(
        remote_id="26vafvWSRmbhNcxJYqjCzuJg", deleted=True
    )


@pytest.mark.parametrize(
    ("key", "field"),
    [("start_date", "start_date"), ("termination_date", "end_date")],
)
def test_an_unparseable_datetime_rejects_the_person_naming_the_field(key: str, field: str) -> None:
    error = invalid(kombo_employee(**{key: "2024-13-45T00:00:00Z"}))

    rejected = error.to_rejected()
    assert (rejected.remote_id, rejected.field) == ("26vafvWSRmbhNcxJYqjCzuJg", field)
    assert rejected.reason == f"Kombo's {key} '2024-13-45T00:00:00Z' is not an ISO 8601 date-time"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_name": 42}, "first_name"),
        ({"work_email": ["renee@acme.example"]}, "work_email"),
        ({"groups": {"id": "T"}}, "team"),
        ({"groups": [{"id": None, "remote_id": "1", "name": "Ghost", "type": "TEAM"}]}, "team"),
        ({"legal_entity": "Acme GmbH"}, "legal_entity"),
        ({"manager_id": 7}, "manager"),
        ({"employment_type": 3}, "employment_type"),
        ({"home_address": ["Torstraße 5"]}, "home_address"),
        ({"work_location": {"id": "L", "name": "HQ", "address": "Berlin"}}, "work_location"),
    ],
)
def test_a_value_of_the_wrong_type_rejects_the_person_without_quoting_it(values: dict[str, Any], field: str) -> None:
    error = invalid(kombo_employee(**values))

    assert error.field == field
    assert error.remote_id == "26vafvWSRmbhNcxJYqjCzuJg"
    assert "renee@acme.example" not in error.reason and "Torstraße" not in error.reason


def test_an_employee_without_a_kombo_id_cannot_be_mapped() -> None:
    error = invalid(kombo_employee(id=None))

    assert (error.remote_id, error.field) == (None, "remote_id")


def test_optional_keys_kombo_leaves_out_are_none() -> None:
    raw = kombo_employee()
    for key in ("work_email", "personal_email", "employment_status", "employment_type", "home_address"):
        del raw[key]

    record = to_source_employee(raw, timezone="UTC")

    assert (record.work_email, record.personal_email, record.home_address) == (None, None, None)
    assert (record.employment_status, record.employment_type) == (None, None)


def test_blank_text_is_no_value_and_a_numeric_employee_number_is_text() -> None:
    record = to_source_employee(kombo_employee(job_title="  ", employee_number=1042), timezone="UTC")

    assert (record.job_title, record.employee_number) == (None, "1042")


def test_the_manager_is_the_manager_s_kombo_id_with_the_embedded_manager_as_fallback() -> None:
    assert to_source_employee(kombo_employee(), timezone="UTC").manager == "MGR_kombo_id"
    assert to_source_employee(kombo_employee(manager_id=None), timezone="UTC").manager == "MGR_kombo_id"
    assert to_source_employee(kombo_employee(manager_id=None, manager=None), timezone="UTC").manager is None


def test_a_legal_entity_known_only_by_id_is_named_from_the_catalogue() -> None:
    raw = kombo_employee(legal_entity=None, legal_entity_id="LE_sarl")
    catalogue = KomboCatalogue(legal_entities={"LE_sarl": KomboPlace("LE_sarl", "Acme SARL", "FR")})

    assert to_source_employee(raw, timezone="UTC").legal_entity == Ref("LE_sarl", None)
    assert to_source_employee(raw, timezone="UTC", catalogue=catalogue).legal_entity == Ref("LE_sarl", "Acme SARL")
    assert catalogue_needs(raw) == {"legal_entities"}


def test_the_embedded_objects_win_over_the_catalogue() -> None:
    catalogue = KomboCatalogue(
        groups={"GRP_platform": KomboGroup("GRP_platform", "Old name", "TEAM")},
        legal_entities={"LE_gmbh": KomboPlace("LE_gmbh", "Old GmbH")},
        locations={"LOC_berlin": KomboPlace("LOC_berlin", "Old HQ", "AT")},
    )

    record = to_source_employee(kombo_employee(), timezone="UTC", catalogue=catalogue)

    assert (record.team, record.legal_entity) == (Ref("GRP_platform", "Platform"), Ref("LE_gmbh", "Acme GmbH"))
    assert record.work_location == Location("LOC_berlin", "Berlin HQ", "DE")
    assert catalogue_needs(kombo_employee()) == frozenset()


def test_a_work_location_without_address_takes_its_country_from_the_catalogue() -> None:
    location = {
        "id": "LOC_paris",
        "remote_id": "9",
        "name": "Paris",
        "type": None,
        "changed_at": "2025-01-01T00:00:00Z",
    }
    raw = kombo_employee(work_location=location | {"remote_deleted_at": None}, work_location_id="LOC_paris")
    catalogue = KomboCatalogue(locations={"LOC_paris": KomboPlace("LOC_paris", "Paris office", "FR")})

    assert to_source_employee(raw, timezone="UTC").work_location == Location("LOC_paris", "Paris", None)
    assert to_source_employee(raw, timezone="UTC", catalogue=catalogue).work_location == Location(
        "LOC_paris", "Paris", "FR"
    )
    assert catalogue_needs(raw) == {"locations"}


def test_an_unnamed_team_is_named_from_the_groups_list() -> None:
    raw = kombo_employee(groups=[{"id": "T", "remote_id": "1", "name": None, "type": "TEAM"}])
    catalogue = KomboCatalogue(groups={"T": KomboGroup("T", "Payments", "TEAM", "D")})

    assert to_source_employee(raw, timezone="UTC", catalogue=catalogue).team == Ref("T", "Payments")
    assert catalogue_needs(raw) == {"groups"}
    assert catalogue_needs(raw, fields={"first_name"}) == frozenset()


def test_an_address_kombo_could_not_parse_keeps_its_raw_string_as_the_street() -> None:
    unparsed = {"raw": "Postfach 12, 99999 Irgendwo", "city": None, "street_1": None, "zip_code": None}

    record = to_source_employee(kombo_employee(home_address=unparsed), timezone="UTC")

    assert record.home_address == Address(street="Postfach 12, 99999 Irgendwo")


def test_an_empty_address_is_no_address() -> None:
    empty = {"city": None, "country": None, "raw": None, "state": None, "street_1": None, "zip_code": None}

    assert to_source_employee(kombo_employee(home_address=empty), timezone="UTC").home_address is None


def test_switched_off_fields_are_never_read_so_they_neither_travel_nor_reject() -> None:
    core = frozenset(spec.name for spec in CATALOGUE if spec.core)
    raw = kombo_employee(personal_email=["not", "text"], home_address="garbage", mobile_phone_number=1234)

    record = to_source_employee(raw, timezone="UTC", fields=core)

    assert all(record.value(name) is None for name in FIELD_NAMES if name not in core)
    assert record.first_name == "Renée" and record.team == Ref("GRP_platform", "Platform")
    with pytest.raises(InvalidKomboRecord):
        to_source_employee(raw, timezone="UTC")
