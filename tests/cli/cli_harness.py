"""Drives the `staffsync` CLI in-process against the test database, as a user would type it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner, Result

from staffsync.cli import app
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.storage import connections as connection_store
from staffsync.storage.db import Database


@dataclass
class Cli:
    runner: CliRunner
    env: dict[str, str]
    db: Database

    def run(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args), env=self.env)

    def json(self, *args: str) -> Any:
        """Runs a command with --json, asserts success, and returns the parsed stdout."""
        result = self.run(*args, "--json")
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.exception!r}"
        return json.loads(result.stdout)

    def account(self, name: str = "Acme", *, timezone: str = "UTC") -> str:
        account_id: str = self.json("accounts", "create", name, "--timezone", timezone)["account_id"]
        return account_id

    def memory_connection(self, account_id: str, *, size: int = 40, seed: int = 7) -> str:
        connection_id: str = self.json(
            "connections",
            "add",
            "--account",
            account_id,
            "--provider",
            "memory",
            "--size",
            str(size),
            "--seed",
            str(seed),
        )["id"]
        return connection_id

    def set_config(self, connection_id: str, **config: Any) -> None:
        """Changes what the memory source returns: the demo source's stand-in for edits in an HR tool."""
        with self.db.transaction() as session:
            connection = connection_store.find_connection(session, connection_id)
            assert connection is not None
            connection.config = {**connection.config, **config}

    def set_filters(self, connection_id: str, rules: FilterRules) -> None:
        with self.db.transaction() as session:
            connection = connection_store.find_connection(session, connection_id)
            assert connection is not None
            connection_store.save_filters(session, connection, rules, now=dt.datetime.now(dt.UTC))

    def set_field(self, connection_id: str, field: str, *, mode: str) -> None:
        with self.db.transaction() as session:
            connection = connection_store.find_connection(session, connection_id)
            assert connection is not None
            current = connection_store.field_settings_of(connection).to_mapping()
            current[field] = {"enabled": True, "mode": mode}
            connection_store.save_field_settings(
                session, connection, FieldSettings.from_mapping(current), now=dt.datetime.now(dt.UTC)
            )


def single_line(text: str) -> str:
    """The one line a failing command prints on stderr; fails if there are more, or a traceback."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]
