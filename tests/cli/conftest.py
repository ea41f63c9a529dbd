from __future__ import annotations

from pathlib import Path

import pytest
from cli_harness import Cli
from typer.testing import CliRunner

from staffsync.storage.db import Database


@pytest.fixture
def cli(db: Database, database_url: str, tmp_path: Path) -> Cli:
    """The CLI on the test database; `db` empties the tables after each test."""
    # A wide terminal: rich fits tables to the width it sees, and a pytest worker may see a narrow one.
    env = {"STAFFSYNC_DATA_DIR": str(tmp_path), "STAFFSYNC_DATABASE_URL": database_url, "COLUMNS": "200"}
    return Cli(CliRunner(), env, db)
