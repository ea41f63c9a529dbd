"""KomboConnector against the Kombo simulator over real HTTP (uvicorn on 127.0.0.1): full and incremental
fetches of a few hundred people, faults on the wire, and the sync engine on top."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fakes import make_directory
from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest
from staffsync.connectors.kombo import KomboConnector, retry_config
from staffsync.domain.fields import FIELD_NAMES
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.simulators.kombo import Fault, Integration, SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage.db import Database
from staffsync.sync.engine import RunStatus

API_KEY = "sim-key-4f1d2c9e8b7a6350"
EVERYTHING = FetchRequest(fields=frozenset(FIELD_NAMES))
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[SimulatorState, str]]:
    state = SimulatorState(api_keys={API_KEY})
    with serving_in_thread(create_kombo_simulator(state)) as base:
        yield state, base + "/v1"


@pytest.fixture
def state(simulator: tuple[SimulatorState, str]) -> Iterator[SimulatorState]:
    yield simulator[0]
    simulator[0].faults.clear()
    simulator[0].log.clear()


@pytest.fixture
def connect(simulator: tuple[SimulatorState, str]) -> Iterator[Callable[..., KomboConnector]]:
    made: list[KomboConnector] = []

    def make(integration: Integration, **options: Any) -> KomboConnector:
        options = {"timezone": "Europe/Berlin", "retry": FAST, "api_key": API_KEY} | options
        connector = KomboConnector(integration_id=integration.id, server_url=simulator[1], **options)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def people(items: list[SourceEmployee | RejectedRecord]) -> dict[str, SourceEmployee]:
    assert all(isinstance(item, SourceEmployee) for item in items), [i for i in items if isinstance(i, RejectedRecord)]
    return {item.remote_id: item for item in items if isinstance(item, SourceEmployee)}


def test_a_full_fetch_returns_every_person_of_the_integration(
    state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=320, seed=11)

    found = people(list(connect(integration).employees(EVERYTHING)))

    assert set(found) == set(integration.mirror.employees)
    assert len(found) == 320
    requests = state.log.entries("/v1/hris/*")
    # Two pages of 250, and no list read: the embedded groups, entity and location name everything.
    assert [entry.path for entry in requests] == ["/v1/hris/employees"] * 2
    assert all(entry.query["include_deleted"] == "true" and entry.status == 200 for entry in requests)
    assert all(person.team is not None and person.team.name for person in found.values())
    assert all(person.legal_entity is not None and person.legal_entity.name for person in found.values())
    assert all(person.work_email and person.start_date for person in found.values())
    managers = {person.manager for person in found.values()} - {None}
    assert managers and managers <= set(found)


def test_an_incremental_fetch_returns_the_changes_and_the_tombstones_since_the_watermark(
    state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=250, seed=12)
    connector = connect(integration)
    everyone = people(list(connector.employees(EVERYTHING)))
    watermark = state.clock.now()
    state.clock.advance(dt.timedelta(minutes=5))
    changed, leaving, *_ = sorted(everyone)
    integration.change(changed, job_title="Principal Cartographer")
    integration.delete(leaving)
    hired = integration.hire(first_name="Nova", last_name="Hire")

    since = list(connector.employees(FetchRequest(fields=frozenset(FIELD_NAMES), updated_after=watermark)))

    found = people(since)
    assert {changed, leaving} <= set(found)
    assert any(person.first_name == "Nova" for person in found.values())
    assert len(found) < 20  # the changed people and those whose manager or team changed, not everyone
    assert found[changed].job_title == "Principal Cartographer"
    assert found[leaving].deleted is True
    assert hired.id not in everyone
    updated_after = {entry.query.get("updated_after") for entry in state.log.entries("/v1/hris/employees")}
    assert watermark.strftime("%Y-%m-%dT%H:%M:%S") in " ".join(filter(None, updated_after))


def test_unmapped_hr_system_words_keep_their_raw_form(
    state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=120, seed=13)
    integration.raw_enums = True

    items = list(connect(integration).employees(EVERYTHING))

    records = [item for item in items if isinstance(item, SourceEmployee)]
    rejected = [item for item in items if isinstance(item, RejectedRecord)]
    assert {record.employment_type.raw for record in records if record.employment_type} >= {"Permanent employee"}
    assert rejected and all(item.field == "employment_status" for item in rejected)


def test_filter_options_come_from_the_simulated_hr_system(
    state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=200, seed=14)

    options = connect(integration).filter_options()

    entity_names = {entity.name for entity in integration.population.legal_entities}
    assert {option.name for option in options.legal_entities} == entity_names
    assert options.teams and all(" / " in option.name or option.name for option in options.teams)
    assert "permanent" in {option.id for option in options.employment_types}


def test_a_rate_limit_on_the_wire_is_waited_out(state: SimulatorState, connect: Callable[..., KomboConnector]) -> None:
    integration = state.create_integration(size=60, seed=15)
    state.faults.add(
        Fault("rate_limit", route="/hris/employees", integration_id=integration.id, times=2, retry_after=0)
    )

    found = people(list(connect(integration).employees(EVERYTHING)))

    assert len(found) == 60
    assert [entry.status for entry in state.log.entries("/v1/hris/employees")] == [429, 429, 200]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault("forbidden"), FailureKind.CREDENTIALS_REJECTED),
        (Fault("html_error", times=None), FailureKind.UNAVAILABLE),
        (Fault("missing_key", key="id"), FailureKind.INVALID_RESPONSE),
        (Fault("truncated"), FailureKind.INVALID_RESPONSE),
        (Fault("reset", times=None), FailureKind.NETWORK),
        (Fault("slow", delay=1.0, times=None), FailureKind.NETWORK),
    ],
    ids=lambda value: value.kind if isinstance(value, Fault) else value.value,
)
def test_faults_on_the_wire_become_plain_connector_errors(
    state: SimulatorState, connect: Callable[..., KomboConnector], fault: Fault, kind: FailureKind
) -> None:
    integration = state.create_integration(size=30, seed=16)
    fault.route, fault.integration_id = "/hris/employees", integration.id
    state.faults.add(fault)

    with pytest.raises(ConnectorError) as caught:
        list(connect(integration, timeout_ms=200).employees(EVERYTHING))

    assert caught.value.kind is kind
    assert API_KEY not in caught.value.message


def test_an_unknown_api_key_is_rejected_credentials(
    state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=5, seed=17)

    with pytest.raises(ConnectorError) as caught:
        list(connect(integration, api_key="sim-key-wrong-0000").employees(EVERYTHING))

    assert caught.value.kind is FailureKind.CREDENTIALS_REJECTED
    assert caught.value.message.startswith("Kombo rejected the credentials: ")
    assert "sim-key-wrong-0000" not in caught.value.message


def test_an_integration_whose_setup_is_unfinished_is_waiting_for_its_first_sync(
    state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=5, seed=18, setup_status="FINAL_SYNC_PENDING")

    with pytest.raises(ConnectorError) as caught:
        list(connect(integration).employees(EVERYTHING))

    assert caught.value.kind is FailureKind.WAITING_FOR_SOURCE
    assert caught.value.message.startswith("Waiting for the HR system's first sync at Kombo")


def test_the_engine_syncs_a_kombo_integration_and_fails_cleanly_when_kombo_refuses(
    db: Database, state: SimulatorState, connect: Callable[..., KomboConnector]
) -> None:
    integration = state.create_integration(size=150, seed=19)
    directory = make_directory(db)
    connector = connect(integration)

    first = directory.sync(source=connector)
    before = directory.state()
    state.faults.add(Fault("forbidden", route="/hris/employees", integration_id=integration.id))
    refused = directory.sync(source=connector, full=True)

    assert first.status == RunStatus.SUCCEEDED and first.counts["created"] > 100
    assert refused.status == RunStatus.FAILED
    assert refused.error is not None and refused.error.startswith("Kombo rejected the credentials: ")
    after = directory.state()
    # Nothing applied; the outbox only gains the run's own sync.failed event.
    assert {name: rows for name, rows in after.items() if name != "outbox_events"} == {
        name: rows for name, rows in before.items() if name != "outbox_events"
    }
    assert [event.type for event in directory.events()].count("sync.failed") == 1
    assert directory.connection().status == "broken"
