"""Syncs from Kombo end to end: the official SDK, over real HTTP on 127.0.0.1, against the simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from fakes import Directory
from staffsync.connectors.kombo import KomboConnector, retry_config
from staffsync.domain.fields import FieldSettings
from staffsync.simulators.kombo import Fault, Integration, SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage import accounts, connections
from staffsync.storage.db import Database
from staffsync.storage.models import Base
from staffsync.sync.engine import SyncOutcome, run_sync

API_KEY = "sim-key-engine-5b8c1e"
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)
# The simulated company is generated a day before the first sync, so that an incremental fetch (which
# reaches ten minutes back) returns only what changed after it.
GENERATED = dt.datetime(2026, 1, 11, 9, 0, tzinfo=dt.UTC)
FIRST_SYNC = GENERATED + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[SimulatorState, str]]:
    state = SimulatorState(api_keys={API_KEY})
    with serving_in_thread(create_kombo_simulator(state)) as base:
        yield state, base + "/v1"


class KomboDirectory:
    def __init__(self, db: Database, state: SimulatorState, url: str, *, size: int = 40, **options: Any) -> None:
        self.db, self.state, self.url = db, state, url
        state.clock.set(GENERATED)
        self.integration: Integration = state.create_integration(size=size, seed=size, **options)
        if options.get("setup_status", "COMPLETED") == "COMPLETED":
            assert len(self.integration.mirror.employees) == size  # generated now, at GENERATED
        with db.transaction() as session:
            account = accounts.create_account(session, "Acme", timezone="Europe/Berlin", now=FIRST_SYNC)
            connection = connections.create_connection(
                session,
                account.id,
                name="Personio (Kombo)",
                provider="kombo",
                now=FIRST_SYNC,
                config={"integration_id": self.integration.id},
            )
            self.account_id, self.connection_id = account.id, connection.id

    def connector(self, **options: Any) -> KomboConnector:
        options = {"timezone": "Europe/Berlin", "retry": FAST, "page_size": 250} | options
        return KomboConnector(API_KEY, self.integration.id, server_url=self.url, **options)

    def sync(self, at: dt.datetime = FIRST_SYNC, **options: Any) -> SyncOutcome:
        self.state.clock.set(at)
        with self.connector(**options.pop("connector", {})) as connector:
            return run_sync(
                self.db, self.connection_id, account_id=self.account_id, connector=connector, now=lambda: at, **options
            )

    def as_directory(self) -> Directory:
        from fakes import ListSource

        return Directory(self.db, self.account_id, self.connection_id, ListSource())

    def person(self, index: int) -> Any:
        return sorted(self.integration.population, key=lambda p: p.id)[index]


@pytest.fixture
def kombo(db: Database, simulator: tuple[SimulatorState, str]) -> Iterator[KomboDirectory]:
    state, url = simulator
    yield KomboDirectory(db, state, url)
    state.faults.clear()
    state.log.clear()


def test_a_full_sync_from_kombo_creates_everyone(kombo: KomboDirectory) -> None:
    outcome = kombo.sync()
    assert outcome.status == "succeeded" and outcome.kind == "full"
    assert outcome.counts["created"] + outcome.counts["rejected"] == 40
    employees = kombo.as_directory().employees()
    assert len(employees) == outcome.counts["created"]
    assert all(e.team_name and e.legal_entity_name and e.start_date for e in employees.values())
    assert any(e.manager for e in employees.values())


def test_an_incremental_sync_picks_up_a_hire_a_change_a_termination_and_a_deletion(kombo: KomboDirectory) -> None:
    kombo.sync()
    later = FIRST_SYNC + dt.timedelta(hours=2)
    kombo.state.clock.set(later)
    changed, leaving, gone = kombo.person(3), kombo.person(4), kombo.person(5)
    hired = kombo.integration.hire(first_name="Nora", last_name="Neuer", start_date=dt.date(2026, 2, 1))
    kombo.integration.change(changed.id, last_name="Umbenannt")
    kombo.integration.terminate(leaving.id, dt.date(2026, 3, 31))
    kombo.integration.delete(gone.id)

    outcome = kombo.sync(at=later + dt.timedelta(minutes=1))

    assert outcome.kind == "incremental"
    assert (outcome.counts["created"], outcome.counts["updated"], outcome.counts["detached"]) == (1, 2, 1)
    # Only what changed, with Kombo's nested-change quirk: reports of a changed manager come along too.
    assert 4 <= outcome.counts["fetched"] < 20
    directory = kombo.as_directory()
    employees = directory.employees()
    assert employees[hired.work_email].last_name == "Neuer"
    assert employees[changed.work_email].last_name == "Umbenannt"
    assert employees[leaving.work_email].end_date == dt.date(2026, 3, 31)
    assert employees[gone.work_email].detach_reason == "Deleted in the HR system"
    types = [event.type for event in directory.events()]
    assert "offboarding.scheduled" in types and "employee.detached" in types


def test_a_switched_off_field_never_reaches_the_database(db: Database, kombo: KomboDirectory) -> None:
    with db.transaction() as session:
        connection = connections.get_connection(session, kombo.account_id, kombo.connection_id)
        assert connection is not None
        off = {"enabled": False}
        settings = FieldSettings.from_mapping({"personal_email": off, "personal_phone": off, "home_address": off})
        connections.save_field_settings(session, connection, settings, now=FIRST_SYNC)
    assert kombo.sync().status == "succeeded"

    private = set()
    for person in kombo.integration.population:
        private.update(value for value in (person.personal_email, person.personal_phone) if value)
        if person.home_address is not None:
            private.add(person.home_address.street)
    dump = _dump(db)
    assert private and not [value for value in private if value in dump]
    assert any(person.work_email in dump for person in kombo.integration.population)  # the dump is real


def _dump(db: Database) -> str:
    with db.engine.connect() as connection:
        return "\n".join(
            str(row) for table in Base.metadata.sorted_tables for row in connection.execute(select(table)).all()
        )


# Every Kombo fault (rate limits, 5xx, timeouts, resets, damaged pages, cursors, credentials) has a test of
# its own in tests/faults/, each checking that the directory is unchanged or equals a clean run.


def test_an_integration_in_setup_gives_the_waiting_status(db: Database, simulator: tuple[SimulatorState, str]) -> None:
    state, url = simulator
    waiting = KomboDirectory(db, state, url, size=5, setup_status="INCOMPLETE")
    outcome = waiting.sync()
    assert outcome.status == "failed"
    assert "Waiting for the HR system's first sync at Kombo" in (outcome.error or "")
    connection = waiting.as_directory().connection()
    assert connection.status == "waiting"


def test_a_rejected_api_key_marks_the_connection_broken(kombo: KomboDirectory) -> None:
    kombo.state.faults.add(Fault("unauthorized", route="/hris/employees", times=None))
    outcome = kombo.sync()
    assert outcome.status == "failed" and "Kombo rejected the credentials" in (outcome.error or "")
    assert kombo.as_directory().connection().status == "broken"
    with kombo.db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM employees")).scalar() == 0
