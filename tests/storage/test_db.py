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


def test_rows_inserted_as_one_statement_are_stored_exactly_as_row_by_row_ones(db: Database) -> None:
    import datetime as dt

    from sqlalchemy import select

    from staffsync.storage import models
    from staffsync.storage.db import insert_rows, insert_rows_as_one_statement

    now = dt.datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=dt.UTC)
    table = models.table_of(models.Employee)

    def row(employee_id: str, email: str) -> dict[str, object]:
        return {
            "id": employee_id,
            "account_id": "acme",
            "version": 3,
            "first_name": 'Zoë "Z" O\'Neil \u202eRTL',
            "last_name": None,
            "work_email_key": email,
            "start_date": dt.date(2024, 2, 29),
            "team": {"id": "T1", "name": "Platform ✨", "nested": [1, 2.5, None, True]},
            "manually_edited": ["job_title"],
            "hidden": True,
            "onboarding_ignored": False,
            "created_at": now,
            "updated_at": now,
        }

    with db.transaction() as session:
        session.add(models.Account(id="acme", name="Acme", created_at=now))
    with db.transaction() as session:
        insert_rows(session, table, [row("by-row", "a@acme.example")])
        insert_rows_as_one_statement(session, table, [row("as-one", "b@acme.example")])
    with db.transaction() as session:
        stored = {
            found.id: found
            for found in session.execute(select(models.Employee).where(models.Employee.account_id == "acme")).scalars()
        }
    ignored = {"id", "work_email_key"}
    columns = [column.key for column in table.columns if column.key not in ignored]
    assert {key: getattr(stored["as-one"], key) for key in columns} == {
        key: getattr(stored["by-row"], key) for key in columns
    }
    assert stored["as-one"].created_at == now and stored["as-one"].team == row("x", "x")["team"]
