"""Fixtures of the fault suite.

- `wire`: one Kombo simulator for the whole suite, behind the Tamper layer; `clean_wire` resets its
  faults, log and settings around a test.
- `world`: a fresh integration and account on SQLite. Faults on the wire (HTTP, payloads, pagination) do
  not depend on the database, so they run on one long-lived SQLite engine whose statement cache stays
  warm, emptied after each test.
- `synced`: `world` synced once, then a day of HR changes; `pair`: the same with a twin account synced
  from the same data without any fault, the clean run a recovered run must equal.
- `pair_on_db`: `pair` on the `db` fixture, so on SQLite and PostgreSQL, with a smaller company: for
  faults of the database, of processes and of concurrency.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_harness import API_KEY, LATER, ONE_PAGE, SMALL, Tamper, Wire, World, changed_world

from staffsync.simulators.kombo import SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage.db import Database
from staffsync.storage.models import Base


def pytest_configure(config: pytest.Config) -> None:
    # Slow, not skipped: CI runs every test, these included.
    config.addinivalue_line("markers", "slow: starts Python processes and kills them; a few seconds each")


@pytest.fixture(scope="session")
def wire() -> Iterator[Wire]:
    state = SimulatorState(api_keys={API_KEY})
    tamper = Tamper(create_kombo_simulator(state))
    with serving_in_thread(tamper) as base:  # type: ignore[arg-type]
        yield Wire(state, tamper, base + "/v1")


@pytest.fixture
def clean_wire(wire: Wire) -> Iterator[Wire]:
    wire.reset()
    yield wire
    wire.reset()


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("faults") / "staffsync.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def world(sqlite_db: Database, clean_wire: Wire) -> Iterator[World]:
    yield World(sqlite_db, clean_wire)
    with sqlite_db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def synced(world: World) -> World:
    """Synced once, then a day of HR changes that a failed run must not half-apply."""
    assert world.sync().status == "succeeded"
    changed_world(world, LATER)
    return world


@pytest.fixture
def pair(world: World) -> tuple[World, World]:
    """`world` as `synced`, and a second account with the same history synced at LATER without any fault:
    what a recovered run must equal."""
    twin = world.twin()
    assert world.sync().status == twin.sync().status == "succeeded"
    changed_world(world, LATER)
    assert twin.sync(at=LATER, full=True).status == "succeeded"
    return world, twin


@pytest.fixture
def pair_on_db(db: Database, clean_wire: Wire) -> tuple[World, World]:
    """`pair` on the `db` fixture's database (SQLite and PostgreSQL), with a smaller company in one page."""
    world = World(db, clean_wire, size=SMALL)
    twin = world.twin()
    assert world.sync(connector=ONE_PAGE).status == twin.sync(connector=ONE_PAGE).status == "succeeded"
    changed_world(world, LATER)
    assert twin.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
    return world, twin
