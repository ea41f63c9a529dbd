"""`staffsync sync`: one sync now, progress on stderr, the counts on stdout."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from cli_harness import Cli, single_line
from sqlalchemy import func, select

from staffsync.cli import sync as sync_cli
from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest, FilterOptions
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.storage import models
from staffsync.storage.locks import connection_lock


def employee_count(cli: Cli) -> int:
    with cli.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(models.Employee)) or 0


def test_a_first_sync_creates_everyone(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=40)

    run = cli.json("sync", connection_id)

    assert run["status"] == "succeeded"
    assert run["kind"] == "full"
    assert run["dry_run"] is False
    assert run["counts"]["fetched"] == 40
    assert run["counts"]["created"] == 40
    assert run["counts"]["updated"] == 0
    assert run["counts"]["rejected"] == 0
    assert employee_count(cli) == 40


def test_a_second_identical_sync_creates_and_updates_nobody(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=40)
    cli.json("sync", connection_id)

    plain = cli.json("sync", connection_id)
    again = cli.json("sync", connection_id, "--full")

    assert (plain["status"], plain["counts"]["created"], plain["counts"]["updated"]) == ("succeeded", 0, 0)
    assert again["status"] == "succeeded"
    assert again["counts"]["created"] == 0
    assert again["counts"]["updated"] == 0
    assert again["counts"]["detached"] == 0
    assert again["counts"]["unchanged"] == 40
    assert employee_count(cli) == 40


def test_a_dry_run_writes_no_employees(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=25)

    run = cli.json("sync", connection_id, "--dry-run")

    assert run["dry_run"] is True
    assert run["status"] == "succeeded"
    assert run["counts"]["created"] == 25
    assert employee_count(cli) == 0


def test_the_summary_table_shows_status_and_counts(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=10)

    result = cli.run("sync", connection_id)

    assert result.exit_code == 0, result.stderr
    for label in ("Status", "Created", "Updated", "Unchanged", "Excluded", "Detached", "Rejected", "Issues"):
        assert label in result.stdout
    assert "succeeded" in result.stdout
    assert "Syncing" not in result.stdout


def test_the_progress_bar_is_fed_by_the_engine_as_batches_are_planned(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = cli.memory_connection(cli.account(), size=30)
    fed: list[int] = []

    @contextmanager
    def recording(description: str) -> Iterator[Callable[[int], None]]:
        yield fed.append

    monkeypatch.setattr(sync_cli, "progress_bar", recording)

    run = cli.json("sync", connection_id)

    assert fed and sum(fed) == run["counts"]["fetched"] == 30


def test_json_output_is_one_document_even_with_progress(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=10)

    result = cli.run("sync", connection_id, "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["created"] == 10


def test_a_busy_connection_fails_in_one_line(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    with connection_lock(cli.db, connection_id):
        result = cli.run("sync", connection_id)

    assert result.exit_code == 1
    assert "already running" in single_line(result.stderr)
    assert employee_count(cli) == 0


class BrokenSource:
    provider = "test"
    supports_incremental = False

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        raise ConnectorError(FailureKind.CREDENTIALS_REJECTED, "The HR system rejected the API key")
        yield  # a generator, as connectors are

    def filter_options(self) -> FilterOptions:
        return FilterOptions()


def test_a_failed_run_prints_its_summary_and_exits_1(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)
    monkeypatch.setattr(sync_cli, "connector_for", lambda connection: BrokenSource())

    result = cli.run("sync", connection_id, "--json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "failed"
    assert single_line(result.stderr) == "Error: the sync failed: The HR system rejected the API key"


def test_an_unexpected_error_is_one_line_unless_debug(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(sync_cli, "run_sync", explode)

    quiet = cli.run("sync", connection_id)
    loud = cli.run("--debug", "sync", connection_id)

    assert quiet.exit_code == 1
    assert single_line(quiet.stderr).startswith("Error: unexpected RuntimeError: disk on fire")
    assert isinstance(loud.exception, RuntimeError)
