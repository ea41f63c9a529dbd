"""The Kombo simulator served by uvicorn on 127.0.0.1, and the official SDK pointed at it over real HTTP.

One server per test session (starting uvicorn costs more than most tests); every test gets fresh
integrations of its own, and the shared parts (faults, log, clock, settings) are reset after it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from kombo_sim_harness import API_KEY, Simulator

from staffsync.simulators.kombo import SimulatorSettings, SimulatorState, create_kombo_simulator, serving_in_thread


@pytest.fixture(scope="session")
def kombo_server() -> Iterator[Simulator]:
    state = SimulatorState(api_keys={API_KEY}, fault_seed=1)
    with serving_in_thread(create_kombo_simulator(state)) as base, httpx.Client(timeout=30) as http:
        yield Simulator(base, state, http)


@pytest.fixture
def sim(kombo_server: Simulator) -> Iterator[Simulator]:
    yield kombo_server
    state = kombo_server.state
    state.faults.clear()
    state.log.clear()
    state.clock.reset()
    defaults = SimulatorSettings()
    # In place: integrations hold the same settings object.
    for option in dataclasses.fields(SimulatorSettings):
        setattr(state.settings, option.name, getattr(defaults, option.name))
