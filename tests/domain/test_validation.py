"""The rules a source record must meet before it may touch the directory."""

from __future__ import annotations

import datetime as dt

import pytest

from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.validation import rejection
from staffsync.domain.values import Address, EmploymentType, EmploymentTypeValue, Location, Ref


def record(**overrides) -> SourceEmployee:
    values = {
        "remote_id": "r1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "work_email": "ada@example.com",
        "start_date": dt.date(2024, 1, 1),
    }
    values.update(overrides)
    return SourceEmployee(**values)


def test_a_complete_record_is_accepted():
    assert rejection(record()) is None


@pytest.mark.parametrize("remote_id", ["", "   "])
def test_a_record_without_id_is_rejected(remote_id):
    assert rejection(record(remote_id=remote_id)) == RejectedRecord(
        None, "The record has no id in the source", "remote_id"
    )


def test_missing_work_email_is_rejected_as_the_matching_key():
    rejected = rejection(record(work_email=None))
    assert rejected is not None
    assert (rejected.remote_id, rejected.field) == ("r1", "work_email")
    assert "professional email" in rejected.reason.lower()


@pytest.mark.parametrize("email", ["", "   ", "\t"])
def test_blank_work_email_is_rejected(email):
    rejected = rejection(record(work_email=email))
    assert rejected is not None
    assert rejected.field == "work_email"
    assert rejected.reason.startswith("No professional email")


@pytest.mark.parametrize("email", ["ada", "ada@example", "ada@@example.com", "a da@example.com", "@example.com"])
def test_invalid_work_email_is_rejected_naming_the_value(email):
    rejected = rejection(record(work_email=email))
    assert rejected is not None
    assert rejected.field == "work_email"
    assert repr(email) in rejected.reason


@pytest.mark.parametrize("email", ["ada@example.com", "  Ada.Lovelace+hr@Sub.Example.co.uk  ", "o'brien@example.ie"])
def test_odd_but_valid_work_emails_are_accepted(email):
    assert rejection(record(work_email=email)) is None


def test_no_names_is_rejected():
    rejected = rejection(record(first_name=None, last_name=None))
    assert rejected is not None
    assert rejected.field == "last_name"
    assert rejected.reason == "Neither first nor last name is set in the HR system"
    assert rejection(record(first_name="", last_name="")) is not None


def test_one_name_is_enough():
    assert rejection(record(first_name=None)) is None
    assert rejection(record(last_name=None)) is None


def test_whitespace_only_names_count_as_no_names():
    assert rejection(record(first_name="  ", last_name="\t")) is not None


def test_end_before_start_is_rejected_with_both_dates():
    rejected = rejection(record(start_date=dt.date(2024, 5, 2), end_date=dt.date(2024, 5, 1)))
    assert rejected is not None
    assert rejected.field == "end_date"
    assert rejected.reason == "End date 2024-05-01 is before start date 2024-05-02"


def test_end_on_the_start_day_is_accepted():
    assert rejection(record(start_date=dt.date(2024, 5, 2), end_date=dt.date(2024, 5, 2))) is None


def test_end_without_start_is_accepted():
    assert rejection(record(start_date=None, end_date=dt.date(2024, 5, 2))) is None


def test_tombstones_need_only_an_id():
    assert rejection(SourceEmployee(remote_id="r1", deleted=True)) is None
    assert rejection(SourceEmployee(remote_id="r1", work_email="not an email", deleted=True)) is None


def test_a_tombstone_without_id_is_still_rejected():
    rejected = rejection(SourceEmployee(remote_id="", deleted=True))
    assert rejected is not None
    assert rejected.field == "remote_id"


def test_the_first_problem_is_reported():
    rejected = rejection(record(work_email=None, first_name=None, last_name=None))
    assert rejected is not None
    assert rejected.field == "work_email"


def test_a_value_longer_than_the_directory_keeps_is_rejected_with_its_length() -> None:
    from staffsync.domain.validation import TEXT_LIMITS

    too_long = "Å" * (TEXT_LIMITS["first_name"] + 1)
    problem = rejection(SourceEmployee("r1", first_name=too_long, last_name="Lovelace", work_email="ada@acme.test"))
    assert problem is not None and problem.field == "first_name"
    assert "201 characters" in problem.reason


def test_a_nul_character_anywhere_is_rejected() -> None:
    team = Ref("team-1", "Engi\x00neering")
    problem = rejection(SourceEmployee("r1", first_name="Ada", work_email="ada@acme.test", team=team))
    assert problem is not None and problem.field == "team" and "NUL" in problem.reason


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"teams": (Ref("t1", "Platform"), Ref("t2", "Gu\x00ild"))}, "teams"),
        ({"home_address": Address(street="Torstraße 5", city="Ber\x00lin")}, "home_address"),
        ({"work_location": Location("L1", "HQ", "D\x00E")}, "work_location"),
        ({"employment_type": EmploymentTypeValue(EmploymentType.OTHER, raw="Werk\x00student")}, "employment_type"),
    ],
)
def test_a_nul_character_deep_inside_a_structured_value_is_rejected_naming_its_field(values, field) -> None:
    problem = rejection(record(**values))
    assert problem == RejectedRecord("r1", f"{field} contains a NUL character", field)


def test_a_legal_entity_name_longer_than_its_column_is_rejected_by_its_label() -> None:
    from staffsync.domain.validation import TEXT_LIMITS

    long_name = "Acme " + "x" * TEXT_LIMITS["legal_entity"]
    problem = rejection(record(legal_entity=Ref("LE1", long_name)))
    assert problem is not None and problem.field == "legal_entity"
    assert f"{len(long_name)} characters long" in problem.reason
    assert rejection(record(legal_entity=Ref("LE1", "Acme GmbH"))) is None


def test_structured_values_without_a_nul_are_accepted() -> None:
    full = record(
        teams=(Ref("t1", "Platform"), Ref("t2")),
        team=Ref("t1", "Platform"),
        home_address=Address(street="Torstraße 5", country="DE"),
        work_location=Location("L1", "HQ", "DE"),
        employment_type=EmploymentTypeValue(EmploymentType.PERMANENT, raw="FULL_TIME"),
        end_date=dt.date(2030, 1, 1),
    )
    assert rejection(full) is None
