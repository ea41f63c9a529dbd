"""KomboConnector's stream and filter options through the unmodified SDK over `httpx.MockTransport`: what it
asks Kombo for, how it pages, what it yields, and what it never keeps. Errors: test_kombo_errors.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from kombo_payloads import minimal_employee

from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest, HRConnector
from staffsync.connectors.kombo import InvalidKomboRecord, KomboConnector, retry_config, to_source_employee
from staffsync.connectors.kombo import client as client_module
from staffsync.connectors.kombo.mapping import EMPLOYEE_SHAPE
from staffsync.domain.fields import CATALOGUE, FIELD_NAMES
from staffsync.domain.records import FilterOption, RejectedRecord, SourceEmployee
from staffsync.domain.values import EmploymentType, EmploymentTypeValue, Location, Ref

API_KEY = "sk_test_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
INTEGRATION = "hibob:8sLrAQ2XnvVGmDyK4Bd5RQoT"
EVERYTHING = FetchRequest(fields=frozenset(FIELD_NAMES))
CORE = frozenset(spec.name for spec in CATALOGUE if spec.core)
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)


class KomboLists:
    """A tiny Kombo: each list path serves its records in pages of `page_size`, cursors "<path>:<offset>"."""

    def __init__(self, lists: Mapping[str, Sequence[dict[str, Any]]], *, loop_at: int | None = None) -> None:
        self.lists = lists
        self.loop_at = loop_at
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1")
        records = self.lists.get(path, [])
        size = int(request.url.params["page_size"])
        cursor = request.url.params.get("cursor")
        offset = int(cursor.rsplit(":", 1)[1]) if cursor else 0
        end = offset + size
        following = f"{path}:{end}" if end < len(records) else None
        if self.loop_at is not None and end >= self.loop_at:
            following = f"{path}:0"  # a broken cursor leading back to the first page
        data = {"results": list(records[offset:end]), "next": following}
        return httpx.Response(200, json={"status": "success", "data": data})

    def paths(self) -> list[str]:
        return [request.url.path.removeprefix("/v1") for request in self.requests]


@pytest.fixture
def connect() -> Iterator[Callable[..., KomboConnector]]:
    made: list[KomboConnector] = []

    def make(kombo: KomboLists, **options: Any) -> KomboConnector:
        options = {"retry": FAST, "page_size": 2, "timezone": "Europe/Berlin"} | options
        transport = httpx.MockTransport(kombo)
        connector = KomboConnector(
            API_KEY, INTEGRATION, server_url="http://kombo.test/v1/", transport=transport, **options
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def employee(number: int, **values: Any) -> dict[str, Any]:
    return minimal_employee(
        number,
        **{
            "personal_email": f"private{number}@example.org",
            "mobile_phone_number": "+49 170 0000000",
            "legal_entity_id": "LE1",
            "legal_entity": {"id": "LE1", "remote_id": "1", "name": "Acme GmbH"},
            "employment_type": "FULL_TIME",
            "home_address": {"street_1": "Torstraße 5", "city": "Berlin", "zip_code": "10119", "country": "DE"},
            **values,
        },
    )


def group(
    group_id: str, name: str | None, kind: str | None, parent_id: str | None = None, **values: Any
) -> dict[str, Any]:
    return {
        "id": group_id,
        "remote_id": group_id.lower(),
        "name": name,
        "type": kind,
        "parent_id": parent_id,
        "changed_at": "2025-01-01T00:00:00.000Z",
        "remote_deleted_at": None,
    } | values


def place(place_id: str, name: str | None, country: str | None = None, **values: Any) -> dict[str, Any]:
    return {
        "id": place_id,
        "remote_id": place_id.lower(),
        "name": name,
        "type": None,
        "changed_at": "2025-01-01T00:00:00.000Z",
        "remote_deleted_at": None,
        "address": {"country": country} if country else None,
    } | values


def people(items: list[SourceEmployee | RejectedRecord]) -> list[SourceEmployee]:
    assert all(isinstance(item, SourceEmployee) for item in items), items
    return [item for item in items if isinstance(item, SourceEmployee)]


def test_it_is_an_hr_connector_that_keeps_its_key_out_of_its_repr(connect: Callable[..., KomboConnector]) -> None:
    connector = connect(KomboLists({}))

    assert isinstance(connector, HRConnector)
    assert (connector.provider, connector.supports_incremental) == ("kombo", True)
    assert API_KEY not in repr(connector) and INTEGRATION in repr(connector)


def test_a_full_fetch_pages_through_every_employee_with_tombstones(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists({"/hris/employees": [employee(n) for n in range(1, 6)]})

    found = people(list(connect(kombo).employees(EVERYTHING)))

    assert [person.remote_id for person in found] == ["E1", "E2", "E3", "E4", "E5"]
    assert kombo.paths() == ["/hris/employees"] * 3
    first, second = kombo.requests[0], kombo.requests[1]
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["x-integration-id"] == INTEGRATION
    assert dict(first.url.params) == {
        "page_size": "2",
        "include_deleted": "true",
        "ignore_unsupported_filters": "false",
    }
    assert second.url.params["cursor"] == "/hris/employees:2"
    assert second.url.params["include_deleted"] == "true"


def test_a_caller_reading_a_few_records_gets_pages_of_that_size(connect: Callable[..., KomboConnector]) -> None:
    """A preview's page of 3 costs one page of 3 at Kombo, not its largest; reading on still gets everyone."""
    kombo = KomboLists({"/hris/employees": [employee(n) for n in range(1, 8)]})
    connector = connect(kombo, page_size=250)

    stream = connector.employees(FetchRequest(fields=EVERYTHING.fields, expected_records=3))
    first_three = [next(stream) for _ in range(3)]

    assert [item.remote_id for item in first_three] == ["E1", "E2", "E3"]
    assert [request.url.params["page_size"] for request in kombo.requests] == ["3"]
    assert len(people([*first_three, *stream])) == 7
    assert [request.url.params["page_size"] for request in kombo.requests] == ["3", "3", "3"]
    list(connector.employees(EVERYTHING))
    assert kombo.requests[-1].url.params["page_size"] == "250"


def test_an_incremental_fetch_asks_for_changes_since_the_watermark_in_utc(
    connect: Callable[..., KomboConnector],
) -> None:
    kombo = KomboLists({"/hris/employees": [employee(n) for n in range(1, 4)]})
    since = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))

    list(connect(kombo).employees(FetchRequest(fields=frozenset(FIELD_NAMES), updated_after=since)))

    assert [request.url.params["updated_after"] for request in kombo.requests] == ["2026-03-01T08:30:00Z"] * 2
    assert all(request.url.params["include_deleted"] == "true" for request in kombo.requests)


def test_a_naive_watermark_is_taken_as_utc(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists({"/hris/employees": [employee(1)]})

    list(connect(kombo).employees(FetchRequest(frozenset(FIELD_NAMES), updated_after=dt.datetime(2026, 3, 1, 8, 0))))

    assert kombo.requests[0].url.params["updated_after"] == "2026-03-01T08:00:00Z"


def test_a_deleted_person_comes_through_as_a_tombstone(connect: Callable[..., KomboConnector]) -> None:
    # Fourteen days after a deletion Kombo nulls every field.
    nulled = ["first_name", "last_name", "work_email", "personal_email", "mobile_phone_number", "start_date"]
    gone = dict.fromkeys([*nulled, "employment_status", "employment_type"]) | {
        "groups": [],
        "legal_entity_id": None,
        "legal_entity": None,
        "home_address": None,
        "remote_deleted_at": "2026-02-01T03:00:00.000Z",
    }
    kombo = KomboLists({"/hris/employees": [employee(1), employee(2, **gone)]})

    found = people(list(connect(kombo).employees(EVERYTHING)))

    assert found[1] == SourceEmployee(remote_id="E2", deleted=True)


def test_raw_strings_kombo_passes_through_survive_the_sdk(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists(
        {
            "/hris/employees": [
                employee(1, employment_type="Werkstudent"),
                employee(2, employment_status="Probezeit"),
                employee(3),
            ]
        }
    )

    first, second, third = list(connect(kombo).employees(EVERYTHING))

    assert isinstance(first, SourceEmployee)
    assert first.employment_type == EmploymentTypeValue(EmploymentType.OTHER, raw="Werkstudent")
    assert second == RejectedRecord(
        "E2", "Kombo passed through an unmapped employment status 'Probezeit'", "employment_status"
    )
    assert isinstance(third, SourceEmployee)


def rich_employee(number: int, **values: Any) -> dict[str, Any]:
    """Every key the mapping reads filled in, nested objects complete, and personal data it never reads."""
    rich: dict[str, Any] = dict(
        employee_number=f"N-{number}",
        job_title="  Staff Cartographer ",
        termination_date="2026-03-31T22:00:00.000Z",
        ssn="12 345678 A 123",
        date_of_birth="1990-05-17T00:00:00.000Z",
        custom_fields={"shirt_size": "M"},
        manager_id=None,
        manager={
            "id": "E90",
            "remote_id": "90",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "display_full_name": "Ada Lovelace",
            "employee_number": "7",
            "termination_date": None,
            "work_email": "ada@acme.example",
            "employment_status": "ACTIVE",
        },
        groups=[
            {"id": "D1", "remote_id": "d1", "name": "Engineering", "type": "DEPARTMENT"},
            {"id": "T1", "remote_id": "t1", "name": "Platform", "type": "TEAM"},
            {"id": "T2", "remote_id": "t2", "name": "Guild", "type": "TEAM"},
        ],
        work_location_id="L1",
        work_location=place("L1", "Berlin HQ") | {"address": {"city": "Berlin", "country": "DE", "raw": "Alex 1"}},
        home_address={"street_1": None, "city": None, "zip_code": None, "country": "DE", "raw": "Torstr. 5, Berlin"},
    )
    return employee(number, **(rich | values))


def test_the_connector_maps_what_the_sdk_read_exactly_as_the_mapping_reads_kombo_s_json(
    connect: Callable[..., KomboConnector],
) -> None:
    """The connector hands the mapping only what it reads of the SDK's model: nothing it reads may be lost."""
    payloads = [
        rich_employee(1),
        rich_employee(2, employment_type="Werkstudent", manager_id="E91", legal_entity_id=None),
        rich_employee(3, employment_status="Probezeit"),
        rich_employee(4, remote_deleted_at="2026-02-01T03:00:00.000Z", start_date=None),
    ]
    kombo = KomboLists({"/hris/employees": payloads})

    found = list(connect(kombo).employees(EVERYTHING))

    expected: list[SourceEmployee | RejectedRecord] = []
    for raw in payloads:
        try:
            expected.append(to_source_employee(raw, timezone="Europe/Berlin"))
        except InvalidKomboRecord as error:
            expected.append(error.to_rejected())
    assert found == expected
    first = found[0]
    assert isinstance(first, SourceEmployee) and first.manager == "E90" and first.end_date == dt.date(2026, 4, 1)
    assert first.work_location == Location("L1", "Berlin HQ", "DE") and first.teams == (
        Ref("T1", "Platform"),
        Ref("T2", "Guild"),
    )


def test_only_what_the_mapping_reads_leaves_the_sdk_s_page(
    connect: Callable[..., KomboConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Mapping[str, Any]] = []
    mapping = client_module.to_source_employee

    def spy(raw: Mapping[str, Any], **options: Any) -> SourceEmployee:
        seen.append(raw)
        return mapping(raw, **options)

    monkeypatch.setattr(client_module, "to_source_employee", spy)
    kombo = KomboLists({"/hris/employees": [rich_employee(1)]})

    list(connect(kombo).employees(EVERYTHING))

    (raw,) = seen
    assert set(raw) <= set(EMPLOYEE_SHAPE)
    assert not {"ssn", "date_of_birth", "custom_fields", "employments", "remote_id"} & set(raw)
    assert raw["manager"] == {"id": "E90"}
    assert raw["groups"][0] == {"id": "D1", "name": "Engineering", "type": "DEPARTMENT"}
    assert raw["work_location"] == {"id": "L1", "name": "Berlin HQ", "address": {"country": "DE"}}


def test_fields_that_are_switched_off_never_leave_the_connector(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists({"/hris/employees": [employee(1)]})

    (person,) = people(list(connect(kombo).employees(FetchRequest(fields=CORE))))

    assert person.first_name == "Person" and person.team == Ref("T1", "Platform")
    assert all(person.value(name) is None for name in FIELD_NAMES if name not in CORE)


def test_dates_are_read_in_the_account_s_time_zone(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists({"/hris/employees": [employee(1, start_date="2026-03-31T22:00:00.000Z")]})

    (berlin,) = people(list(connect(kombo, timezone="Europe/Berlin").employees(EVERYTHING)))
    (london,) = people(list(connect(kombo, timezone="Europe/London").employees(EVERYTHING)))

    assert (berlin.start_date, london.start_date) == (dt.date(2026, 4, 1), dt.date(2026, 3, 31))


def test_embedded_names_are_enough_so_no_list_is_read(connect: Callable[..., KomboConnector]) -> None:
    location = place("L1", "Berlin HQ", "DE") | {"address": {"country": "DE", "city": "Berlin"}}
    kombo = KomboLists(
        {"/hris/employees": [employee(n, work_location_id="L1", work_location=location) for n in range(3)]}
    )

    found = people(list(connect(kombo).employees(EVERYTHING)))

    assert set(kombo.paths()) == {"/hris/employees"}
    assert found[0].work_location == Location("L1", "Berlin HQ", "DE")


def test_a_list_is_read_once_and_only_when_an_embedded_object_lacks_a_name(
    connect: Callable[..., KomboConnector],
) -> None:
    unnamed_team = [{"id": "T9", "remote_id": "9", "name": None, "type": "TEAM"}]
    kombo = KomboLists(
        {
            "/hris/employees": [
                employee(1),
                employee(2, groups=unnamed_team),
                employee(3),
                employee(4, groups=unnamed_team),
            ],
            "/hris/groups": [
                group("T1", "Platform", "TEAM"),
                group("D1", "Eng", "DEPARTMENT"),
                group("T9", "Payments", "TEAM"),
            ],
        }
    )

    found = people(list(connect(kombo).employees(EVERYTHING)))

    assert [person.team for person in found] == [Ref("T1", "Platform"), Ref("T9", "Payments")] * 2
    assert kombo.paths() == ["/hris/employees", "/hris/groups", "/hris/groups", "/hris/employees"]


def test_a_legal_entity_and_location_known_only_by_id_are_named_from_kombo_s_lists(
    connect: Callable[..., KomboConnector],
) -> None:
    kombo = KomboLists(
        {
            "/hris/employees": [employee(1, legal_entity=None, legal_entity_id="LE2", work_location_id="L2")],
            "/hris/legal-entities": [place("LE2", "Acme SARL", "FR")],
            "/hris/locations": [place("L2", "Paris", "FR")],
        }
    )

    (person,) = people(list(connect(kombo).employees(EVERYTHING)))

    assert person.legal_entity == Ref("LE2", "Acme SARL")
    assert person.work_location == Location("L2", "Paris", "FR")


def test_no_list_is_read_for_a_switched_off_field(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists(
        {"/hris/employees": [employee(1, work_location_id="L2")], "/hris/locations": [place("L2", "Paris")]}
    )

    list(connect(kombo).employees(FetchRequest(fields=CORE)))

    assert kombo.paths() == ["/hris/employees"]


def test_a_cursor_that_leads_back_is_an_incomplete_fetch(connect: Callable[..., KomboConnector]) -> None:
    kombo = KomboLists({"/hris/employees": [employee(n) for n in range(1, 7)]}, loop_at=4)

    with pytest.raises(ConnectorError) as caught:
        list(connect(kombo).employees(EVERYTHING))

    assert caught.value.kind is FailureKind.INCOMPLETE
    assert "pagination loop at page 3" in caught.value.message
    assert len(kombo.requests) == 3


def test_filter_options_come_from_kombo_s_lists_and_the_current_employees(
    connect: Callable[..., KomboConnector],
) -> None:
    kombo = KomboLists(
        {
            "/hris/groups": [
                group("D1", "Engineering", "DEPARTMENT"),
                group("T1", "Platform", "TEAM", "D1"),
                group("T2", "Payments", "TEAM", "T1"),
                group("T3", "Old team", "TEAM", remote_deleted_at="2025-06-01T00:00:00.000Z"),
                group("C1", "CC 4711", "COST_CENTER"),
            ],
            "/hris/legal-entities": [
                place("LE1", "Acme GmbH", "DE"),
                place("LE0", "Closed Ltd", "GB", remote_deleted_at="2025-01-01T00:00:00.000Z"),
            ],
            "/hris/employees": [
                employee(1),
                employee(
                    2, employment_type="CONTRACT", legal_entity={"id": "LE9", "remote_id": "9", "name": "Acme Inc"}
                ),
                employee(3, employment_type="Werkstudent"),
                employee(4, employment_type=None),
            ],
        }
    )

    options = connect(kombo).filter_options()

    assert options.legal_entities == (FilterOption("LE1", "Acme GmbH"), FilterOption("LE9", "Acme Inc"))
    assert options.teams == (
        FilterOption("T1", "Engineering / Platform"),
        FilterOption("T2", "Engineering / Platform / Payments", "T1"),
    )
    assert options.employment_types == (
        FilterOption("permanent", "Permanent"),
        FilterOption("contractor", "Contractor"),
        FilterOption("other", "Other"),
    )
    employee_requests = [request for request in kombo.requests if request.url.path.endswith("/employees")]
    assert all(request.url.params["include_deleted"] == "false" for request in employee_requests)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"page_size": 251}, "page_size must be between 1 and 250"),
        ({"page_size": 0}, "page_size must be between 1 and 250"),
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
    ],
)
def test_impossible_settings_are_refused_at_once(options: dict[str, Any], problem: str) -> None:
    settings = {"timezone": "UTC"} | options

    with pytest.raises(ValueError, match=problem):
        KomboConnector(API_KEY, INTEGRATION, **settings)


def test_an_empty_integration_id_is_refused_rather_than_read_from_the_environment() -> None:
    with pytest.raises(ValueError, match="integration id is empty"):
        KomboConnector(API_KEY, " ", timezone="UTC")
