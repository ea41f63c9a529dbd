"""SQLite connections: bounded memory whatever the size of the directory (issue 8)."""

from __future__ import annotations

from pathlib import Path

from staffsync.storage.db import Database


def test_sqlite_memory_stays_bounded_as_the_database_grows(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'staffsync.db'}")
    try:
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            # A memory-mapped file counts every page read in the process's memory; so would in-memory temp
            # files (statement journals of bulk updates); the page cache has a fixed bound in KiB.
            assert pragma("PRAGMA mmap_size").scalar() == 0
            assert pragma("PRAGMA temp_store").scalar() == 1  # FILE
            assert pragma("PRAGMA cache_size").scalar() == -8192
    finally:
        db.dispose()
