from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from staffsync.storage.db import Database


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One SQLite database for a module's generated examples: each example works in an account of its own."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "staffsync.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    yield database
    database.dispose()
