"""A fresh SQLite database plans `account_id = ? AND id IN (…)` as lookups by id, not as a walk through the
whole tenant, and the directory's lists through their indexes: before ANALYZE has seen rows, the planner starts
from statistics that say what every staffsync database is like."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.storage.directory import DirectoryQuery, DirectoryView, list_directory
from staffsync.storage.planner_statistics import ASSUMED_MATCHES, ASSUMED_ROWS, index_statistic, seed_sqlite_statistics

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def test_a_tenant_holds_many_rows_and_a_unique_key_one() -> None:
    assert index_statistic(["account_id"], unique=False) == f"{ASSUMED_ROWS} {ASSUMED_ROWS}"
    assert index_statistic(["id"], unique=True) == f"{ASSUMED_ROWS} 1"
    assert index_statistic(["account_id", "work_email_key"], unique=True) == f"{ASSUMED_ROWS} {ASSUMED_ROWS} 1"
    assert (
        index_statistic(["account_id", "last_name"], unique=False) == f"{ASSUMED_ROWS} {ASSUMED_ROWS} {ASSUMED_MATCHES}"
    )
    assert index_statistic(["manager"], unique=False) == f"{ASSUMED_ROWS} {ASSUMED_MATCHES}"


def _plan(database: Database) -> str:
    statement = select(models.Employee.id).where(
        models.Employee.account_id == "some-account",
        models.Employee.id.in_(["a", "b", "c"]),
        models.Employee.hidden.is_(True),
    )
    with database.engine.connect() as connection:
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        return " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))


def test_a_fresh_database_looks_people_up_by_id_not_through_the_whole_account(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    database.upgrade()
    plan = _plan(database)
    assert "(id=?)" in plan, plan
    assert "ix_employees_account_id" not in plan
    database.dispose()


def test_a_table_with_rows_keeps_its_measured_statistics(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'measured.db'}")
    database.upgrade()
    with database.transaction() as session:
        session.add(models.Account(id="acme", name="Acme", created_at=NOW))
        session.add_all(
            models.Employee(id=f"e{n}", account_id="acme", created_at=NOW, updated_at=NOW) for n in range(3)
        )
    with database.engine.begin() as connection:
        seed_sqlite_statistics(connection)
        stat = connection.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_employees_account_id'"
        ).scalar_one()
    assert stat == "3 3"
    database.dispose()


def _plans_of_listing(database: Database, view: DirectoryView) -> list[str]:
    """The query plan of every statement one directory page runs, on the statements themselves."""
    statements: list[tuple[str, Any]] = []

    def seen(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    query = DirectoryQuery(view=view, today=NOW.date(), limit=50, offboarding_connection_ids=["c1"])
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as session:
            list_directory(session, "some-account", query)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    with database.engine.connect() as connection:
        return [
            " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters))
            for sql, parameters in statements
        ]


def test_a_directory_page_counts_from_an_index_and_lists_starts_and_leavers_by_their_day(tmp_path: Path) -> None:
    """Every list shows its total: counting must not read 100,000 whole rows, nor must the short lists."""
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    database.upgrade()
    active_count, *_ = _plans_of_listing(database, DirectoryView.ACTIVE)
    assert "COVERING INDEX ix_employees_account_listed" in active_count, active_count
    for view, index in (
        (DirectoryView.ONBOARDINGS, "ix_employees_account_start_date"),
        (DirectoryView.OFFBOARDINGS, "ix_employees_account_end_date"),
    ):
        plans = _plans_of_listing(database, view)
        assert all(index in plan for plan in plans), plans
    database.dispose()
