"""Employee columns: a field's value in its domain form and in its stored JSON form fill the same columns."""

from __future__ import annotations

import datetime as dt

import pytest

from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.values import (
    Address,
    EmploymentStatus,
    EmploymentType,
    EmploymentTypeValue,
    FieldValue,
    Location,
    Ref,
    value_to_json,
)
from staffsync.storage.employees import column_values, stored_column_values, stored_values_as_columns, values_as_columns

VALUES: dict[str, FieldValue] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "work_email": " Ada.Lovelace@ACME.test ",
    "start_date": dt.date(2026, 4, 1),
    "end_date": dt.date(2027, 3, 31),
    "team": Ref("t1", "Engineering"),
    "manager": "e-boss",
    "legal_entity": Ref("le-de"),
    "employment_type": EmploymentTypeValue(EmploymentType.PERMANENT, "FULL_TIME"),
    "employment_status": EmploymentStatus.ACTIVE,
    "job_title": "Engineer",
    "employee_number": "1042",
    "work_location": Location("l1", "Berlin", "DE"),
    "work_phone": "+49 30 1234",
    "personal_email": "ada@mail.test",
    "personal_phone": "+49 170 1234",
    "home_address": Address("Main St 1", "Berlin", "10115", None, "DE"),
}


def test_every_catalogue_field_is_covered() -> None:
    assert set(VALUES) == set(FIELD_NAMES)


@pytest.mark.parametrize("field", FIELD_NAMES)
def test_a_stored_value_fills_the_columns_its_domain_value_fills(field: str) -> None:
    assert stored_column_values(field, value_to_json(VALUES[field])) == column_values(field, VALUES[field])
    assert stored_column_values(field, None) == column_values(field, None)


def test_derived_columns_keep_the_search_keys() -> None:
    columns = column_values("work_email", VALUES["work_email"])
    assert columns["work_email_key"] == "ada.lovelace@acme.test"
    assert column_values("team", VALUES["team"])["team_name"] == "Engineering"
    # A legal entity without a name is listed by its id.
    assert column_values("legal_entity", VALUES["legal_entity"])["legal_entity_name"] == "le-de"
    assert column_values("start_date", VALUES["start_date"]) == {"start_date": dt.date(2026, 4, 1)}


def test_a_staged_changes_new_values_fill_the_columns_of_the_values() -> None:
    stored = [{"field": name, "old": None, "new": value_to_json(value)} for name, value in VALUES.items()]
    assert stored_values_as_columns(stored) == values_as_columns(VALUES)
