"""The in-memory HR connector: raw rows in, normalised records (or rejections) out, faults on demand."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest, HRConnector
from staffsync.connectors.memory import InMemoryConnector, InvalidRecord, row_from_person, to_source_employee
from staffsync.domain.fields import CATALOGUE, FIELD_NAMES
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import Address, EmploymentStatus, EmploymentType, EmploymentTypeValue, Location, Ref
from staffsync.simulators.population import Population, generate_population

TODAY = dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
EVERYTHING = FetchRequest(fields=frozenset(FIELD_NAMES))
CORE_ONLY = frozenset(spec.name for spec in CATALOGUE if spec.core)


@pytest.fixture
def population() -> Population:
    return generate_population(120, seed=5, today=TODAY)


@pytest.fixture
def source(population: Population) -> InMemoryConnector:
    return InMemoryConnector.from_population(population, page_size=25)


def fetch(source: InMemoryConnector, request: FetchRequest = EVERYTHING) -> list[SourceEmployee | RejectedRecord]:
    return list(source.employees(request))


def records(source: InMemoryConnector, request: FetchRequest = EVERYTHING) -> dict[str, SourceEmployee]:
    found = fetch(source, request)
    assert all(isinstance(item, SourceEmployee) for item in found)
    return {item.remote_id: item for item in found if isinstance(item, SourceEmployee)}


def row(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "remote_id": "900001",
        "first_name": "Renée",
        "last_name": "van der Berg",
        "work_email": "renee.vanderberg@acme.example",
        "start_date": "2024-02-01",
        "team": {"id": "team_00001", "name": "Platform"},
        "employment_type": "permanent",
        "employment_status": "active",
        "updated_at": "2026-03-01T08:00:00+00:00",
    }
    return base | values


def rejection(raw: dict[str, Any]) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        to_source_employee(raw)
    return caught.value


def test_memory_connector_satisfies_the_hr_connector_protocol(source: InMemoryConnector) -> None:
    assert isinstance(source, HRConnector)
    assert source.provider == "memory"
    assert source.supports_incremental is True


def test_rows_are_plain_json(source: InMemoryConnector) -> None:
    assert json.loads(json.dumps(source.rows)) == source.rows


def test_every_person_comes_out_normalised(population: Population, source: InMemoryConnector) -> None:
    found = records(source)
    assert len(found) == len(population)
    for person in population:
        record = found[person.remote_id]
        entity = population.legal_entity(person.legal_entity_id or "")
        location = population.location(person.work_location_id or "")
        assert (record.first_name, record.last_name, record.work_email) == (
            person.first_name,
            person.last_name,
            person.work_email,
        )
        assert (record.start_date, record.end_date) == (person.start_date, person.end_date)
        assert record.team == Ref(person.team_id or "", population.group(person.team_id or "").name)
        assert record.teams == tuple(Ref(team_id, population.group(team_id).name) for team_id in person.team_ids)
        assert record.legal_entity == Ref(entity.id, entity.name)
        assert record.work_location == Location(location.id, location.name, location.country)
        assert record.employment_type == EmploymentTypeValue(
            EmploymentType(person.employment_type), person.employment_type
        )
        assert record.employment_status == EmploymentStatus(person.employment_status)
        assert record.home_address is not None and record.home_address.city == (person.home_address or Address()).city
        expected_manager = population.get(person.manager_id).remote_id if person.manager_id else None
        assert record.manager == expected_manager
        assert record.deleted is False


def test_records_come_in_remote_id_order_page_by_page(source: InMemoryConnector) -> None:
    ids = [item.remote_id for item in fetch(source)]
    assert ids == sorted(ids, key=lambda remote_id: (len(remote_id), remote_id))
    assert source.pages_served == 5


def test_numeric_ids_sort_numerically_and_read_as_text() -> None:
    source = InMemoryConnector([row(remote_id=100, employee_number=7), row(remote_id=99)])
    found = fetch(source)
    assert [item.remote_id for item in found] == ["99", "100"]
    assert isinstance(found[1], SourceEmployee) and found[1].employee_number == "7"


def test_unknown_employment_type_becomes_other_and_keeps_the_raw_word() -> None:
    assert to_source_employee(row(employment_type="Werkstudent")).employment_type == EmploymentTypeValue(
        EmploymentType.OTHER, "Werkstudent"
    )
    assert to_source_employee(row(employment_type="Fixed-Term")).employment_type == EmploymentTypeValue(
        EmploymentType.FIXED_TERM, "Fixed-Term"
    )


def test_unknown_employment_status_is_rejected_naming_the_field() -> None:
    error = rejection(row(employment_status="retired"))
    assert (error.remote_id, error.field) == ("900001", "employment_status")
    assert "retired" in error.reason


def test_unparseable_date_is_rejected_naming_the_field() -> None:
    source = InMemoryConnector([row(start_date="2024-13-45")])
    (item,) = fetch(source)
    assert isinstance(item, RejectedRecord)
    assert (item.remote_id, item.field) == ("900001", "start_date")
    assert "2024-13-45" in item.reason


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_name": 42}, "first_name"),
        ({"last_name": ["van", "Dijk"]}, "last_name"),
        ({"team": [{"id": "team_00001"}]}, "team"),
        ({"team": {"name": "Platform"}}, "team"),
        ({"teams": "Platform"}, "team"),
        ({"legal_entity": "Acme GmbH"}, "legal_entity"),
        ({"work_location": {"name": "Berlin Office"}}, "work_location"),
        ({"home_address": "Hauptstraße 1, Berlin"}, "home_address"),
        ({"manager": "100001"}, "manager"),
        ({"manager": {"id": "emp_000001"}}, "manager"),
        ({"employment_type": 3}, "employment_type"),
        ({"end_date": 20240101}, "end_date"),
        ({"deleted_at": "yesterday"}, "deleted_at"),
    ],
)
def test_values_of_the_wrong_shape_are_rejected_naming_the_field(values: dict[str, Any], field: str) -> None:
    error = rejection(row(**values))
    assert error.field == field
    assert error.remote_id == "900001"
    assert error.to_rejected() == RejectedRecord("900001", error.reason, field)


def test_reasons_never_repeat_personal_data() -> None:
    error = rejection(row(personal_email=["renee@example.com"]))
    assert "renee" not in str(error) and error.reason == "expected text, got a list"


def test_a_row_without_remote_id_is_rejected() -> None:
    error = rejection(row(remote_id=None))
    assert (error.remote_id, error.field) == (None, "remote_id")


def test_missing_work_email_passes_through_as_none() -> None:
    assert to_source_employee(row(work_email=None)).work_email is None
    assert to_source_employee({"remote_id": "1"}) == SourceEmployee(remote_id="1")


def test_blank_text_reads_as_absent_and_the_primary_team_counts_as_a_membership() -> None:
    record = to_source_employee(row(first_name="  ", teams=[{"id": "team_00002", "name": "Payments"}]))
    assert record.first_name is None
    assert record.teams == (Ref("team_00001", "Platform"), Ref("team_00002", "Payments"))


def test_a_rejected_row_does_not_stop_the_stream(source: InMemoryConnector) -> None:
    broken = next(iter(source.rows))
    source.rows[broken]["first_name"] = 42
    found = fetch(source)
    rejected = [item for item in found if isinstance(item, RejectedRecord)]
    assert [(item.remote_id, item.field) for item in rejected] == [(broken, "first_name")]
    assert len(found) == len(source.rows)


def test_incremental_fetch_returns_only_changed_and_deleted_people(population: Population) -> None:
    source = InMemoryConnector.from_population(population)
    later = NOW + dt.timedelta(hours=1)
    changed = population.change("emp_000010", now=later, job_title="Staff Engineer")
    deleted = population.delete("emp_000020", now=later)
    for person in (changed, deleted):
        source.put_row(row_from_person(person, population))
    found = records(source, FetchRequest(fields=frozenset(FIELD_NAMES), updated_after=NOW))
    assert set(found) == {changed.remote_id, deleted.remote_id}
    assert found[changed.remote_id].job_title == "Staff Engineer"
    assert found[deleted.remote_id].deleted is True
    assert len(records(source)) == len(population)


def test_incremental_fetch_sees_touched_and_tombstoned_rows(source: InMemoryConnector) -> None:
    first, second, *_ = source.rows
    later = NOW + dt.timedelta(minutes=5)
    source.touch(first, now=later)
    source.delete_row(second, now=later)
    found = records(source, FetchRequest(fields=frozenset(FIELD_NAMES), updated_after=NOW))
    assert set(found) == {first, second}
    assert found[second].deleted and not found[first].deleted


def test_incremental_fetch_rejects_a_row_whose_updated_at_cannot_be_read(source: InMemoryConnector) -> None:
    key = next(iter(source.rows))
    source.rows[key]["updated_at"] = "last tuesday"
    (item,) = fetch(source, FetchRequest(fields=frozenset(FIELD_NAMES), updated_after=NOW))
    assert isinstance(item, RejectedRecord) and (item.remote_id, item.field) == (key, "updated_at")


def test_full_fetch_includes_deleted_people_as_tombstones(source: InMemoryConnector) -> None:
    key = next(iter(source.rows))
    source.delete_row(key, now=NOW)
    assert records(source)[key].deleted is True


def test_switched_off_fields_are_never_yielded(source: InMemoryConnector) -> None:
    request = FetchRequest(fields=CORE_ONLY)
    found = records(source, request)
    assert source.requests[-1].fields == CORE_ONLY
    off = set(FIELD_NAMES) - CORE_ONLY
    assert off == {"employee_number", "work_location", "work_phone", "personal_email", "personal_phone", "home_address"}
    for record in found.values():
        assert all(record.value(field) is None for field in off)
        assert record.first_name and record.team and record.employment_status


def test_a_malformed_switched_off_field_does_not_reject_the_person() -> None:
    source = InMemoryConnector([row(home_address="not an address", personal_phone=12345)])
    (item,) = fetch(source, FetchRequest(fields=CORE_ONLY))
    assert isinstance(item, SourceEmployee) and item.home_address is None


def test_fail_after_raises_mid_stream(source: InMemoryConnector) -> None:
    source.fail_after(30, ConnectorError(FailureKind.UNAVAILABLE, "HR system unavailable"))
    received: list[SourceEmployee | RejectedRecord] = []
    with pytest.raises(ConnectorError, match="unavailable"):
        for item in source.employees(EVERYTHING):
            received.append(item)
    assert len(received) == 30


def test_fail_after_more_records_than_exist_still_fails_the_fetch(source: InMemoryConnector) -> None:
    source.fail_after(10_000, TimeoutError("read timed out"))
    with pytest.raises(TimeoutError):
        fetch(source)


def test_fail_immediately_raises_before_any_record(source: InMemoryConnector) -> None:
    source.fail_immediately(ConnectorError(FailureKind.CREDENTIALS_REJECTED, "API key rejected"))
    stream = source.employees(EVERYTHING)
    with pytest.raises(ConnectorError, match="rejected"):
        next(stream)


def test_clearing_the_failure_restores_the_stream(source: InMemoryConnector) -> None:
    source.fail_immediately(ConnectionResetError())
    source.clear_failure()
    assert len(fetch(source)) == len(source.rows)


def test_calls_to_employees_are_counted_and_requests_recorded(source: InMemoryConnector) -> None:
    assert source.calls == 0
    fetch(source)
    source.employees(FetchRequest(fields=CORE_ONLY, updated_after=NOW))
    assert source.calls == 2
    assert [request.is_full for request in source.requests] == [True, False]


def test_rows_can_be_added_replaced_and_removed() -> None:
    source = InMemoryConnector([row()])
    source.put_row(row(first_name="Zoë"), now=NOW)
    source.put_row(row(remote_id="900002"))
    assert source.rows["900001"]["updated_at"] == NOW.isoformat()
    assert [record.first_name for record in records(source).values()] == ["Zoë", "Renée"]
    source.remove_row("900001")
    assert list(records(source)) == ["900002"]
    with pytest.raises(ValueError, match="remote_id"):
        source.put_row({"first_name": "Nobody"})


def test_a_row_removed_during_a_fetch_is_not_served_from_later_pages() -> None:
    source = InMemoryConnector([row(remote_id=str(n)) for n in range(1, 7)], page_size=2)
    stream = source.employees(EVERYTHING)
    assert next(stream).remote_id == "1"
    source.remove_row("5")
    assert [item.remote_id for item in stream] == ["2", "3", "4", "6"]


def test_filter_options_come_from_the_data(population: Population, source: InMemoryConnector) -> None:
    options = source.filter_options()
    assert {option.id for option in options.legal_entities} == {entity.id for entity in population.legal_entities}
    assert {option.id for option in options.teams} == {team.id for team in population.teams}
    assert all(option.parent_id for option in options.teams)
    present = {person.employment_type for person in population}
    assert [option.id for option in options.employment_types] == [t.value for t in EmploymentType if t.value in present]
    assert all(type(option.id) is str and option.name for option in options.employment_types)


def test_filter_options_include_values_only_rows_know_and_skip_malformed_rows() -> None:
    source = InMemoryConnector(
        [
            row(legal_entity={"id": "le_xx", "name": "Acme Pte. Ltd."}, employment_type="Werkstudent"),
            row(remote_id="2", team=["broken"], employment_type="contractor"),
        ],
        legal_entities=[{"id": "le_de", "name": "Acme GmbH", "country": "DE"}],
    )
    options = source.filter_options()
    assert [option.name for option in options.legal_entities] == ["Acme GmbH", "Acme Pte. Ltd."]
    assert [option.id for option in options.employment_types] == ["other"]
    assert [option.id for option in options.teams] == ["team_00001"]
