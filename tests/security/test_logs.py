"""No secret and no personal field in the logs: a full Kombo sync with every personal field switched on, and the
webhook deliveries it causes, run with every logger at DEBUG; the captured text holds none of the secrets (Kombo API
key, webhook signing secret) and none of the people's data.

Decided: names and work emails are not logged either. What a log line needs to identify is an id (employee, run,
connection, delivery); a name in a log would outlive an erasure request."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator

import pytest
from api_harness import WEBHOOKS
from webhook_harness import Hooks, Receiver, serve

from staffsync.connectors.kombo import KomboConnector, retry_config
from staffsync.domain.fields import FieldSettings
from staffsync.simulators.kombo import SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.simulators.people import Person
from staffsync.storage import accounts, connections
from staffsync.storage.db import Database
from staffsync.sync.engine import run_sync
from staffsync.webhooks.delivery import make_client

API_KEY = "sim-key-LOGS-SENTINEL-9d2f4e"
GENERATED = dt.datetime(2026, 1, 11, 9, 0, tzinfo=dt.UTC)
FIRST_SYNC = GENERATED + dt.timedelta(days=1)
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[SimulatorState, str]]:
    state = SimulatorState(api_keys={API_KEY})
    with serving_in_thread(create_kombo_simulator(state)) as base:
        yield state, base + "/v1"


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, also those of loggers that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield text
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)
    text.write("\n".join(caplog.messages))
    text.write("\n".join(record.getMessage() for record in caplog.records))


def _personal_values(person: Person) -> dict[str, str]:
    values = {
        "personal email": person.personal_email,
        "personal phone": person.personal_phone,
        "work phone": person.work_phone,
        "first and last name": f"{person.first_name} {person.last_name}",
        "last name": person.last_name if person.last_name and len(person.last_name) >= 6 else None,
        "work email": person.work_email,
        "street": person.home_address.street if person.home_address else None,
    }
    return {what: value for what, value in values.items() if value}


def test_a_full_sync_with_personal_fields_on_logs_no_personal_value_and_no_secret(
    db: Database, simulator: tuple[SimulatorState, str], everything_logged: io.StringIO
) -> None:
    state, url = simulator
    state.clock.set(GENERATED)
    integration = state.create_integration(size=25, seed=25)
    with db.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="Europe/Berlin", now=FIRST_SYNC)
        connection = connections.create_connection(
            session,
            account.id,
            name="Personio (Kombo)",
            provider="kombo",
            now=FIRST_SYNC,
            config={"integration_id": integration.id},
        )
        assert FieldSettings.defaults().enabled_fields() >= {"personal_email", "personal_phone", "home_address"}
        connections.save_field_settings(session, connection, FieldSettings.defaults(), now=FIRST_SYNC)
        account_id, connection_id = account.id, connection.id
    with serve(Receiver()) as receiver, make_client() as client:
        hooks = Hooks(db, WEBHOOKS.cipher, client, account_id, now=FIRST_SYNC)
        hooks.subscribe(receiver)
        state.clock.set(FIRST_SYNC)
        with KomboConnector(
            API_KEY, integration.id, server_url=url, timezone="Europe/Berlin", retry=FAST, page_size=10
        ) as kombo:
            outcome = run_sync(db, connection_id, account_id=account_id, connector=kombo, now=lambda: FIRST_SYNC)
        assert outcome.status == "succeeded", outcome
        hooks.tick(dt.timedelta(seconds=1))
        assert receiver.accepted, "the webhooks were not delivered: the test would prove nothing about them"
    logged = everything_logged.getvalue()
    # Proof that the capture sees the sync's own records and the HTTP client's DEBUG ones.
    assert "webhook delivery" in logged, "staffsync's own records were not captured"
    assert "/hris/employees" in logged, "the HTTP client's records were not captured"
    secrets = {"Kombo API key": API_KEY, **{f"webhook secret {n}": s for n, s in enumerate(receiver.secrets)}}
    leaks = [what for what, secret in secrets.items() if secret in logged]
    people = [person for person in integration.population if not person.deleted]
    assert len(people) >= 20
    for person in people:
        leaks += [f"{what} of {person.id}" for what, value in _personal_values(person).items() if value in logged]
    assert not leaks, f"in the logs: {leaks[:20]}"
