"""The database failing under a sync, on SQLite and PostgreSQL: an error injected at one statement of the
apply transaction, or at its COMMIT; PostgreSQL's connection killed mid-apply; SQLite's disk full.

Invariants: nothing is half-applied (every row as before the run, its failure record aside) and the next
run, with the database healthy again, leaves the same directory as a clean run of the same data.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fault_harness import LATER, ONE_PAGE, SMALL, Wire, World, assert_only_bookkeeping, changed_world
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from staffsync.storage.db import Database
from staffsync.sync import engine


class Injected:
    """Which statement of the apply transaction fails, and how: armed from the moment the engine starts
    applying until that transaction ends, so the fault lands inside it and nowhere else."""

    def __init__(self, db: Database, matches: str | None, fail: Callable[[Any], None]) -> None:
        self.db, self.pattern, self.fail = db, re.compile(matches, re.I) if matches else None, fail
        self.armed = threading.Event()
        self.fired = 0

    def statement(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.armed.is_set() and self.pattern is not None and self.pattern.search(statement):
            self.armed.clear()
            self.fired += 1
            self.fail(connection)

    def commit(self, connection: Any) -> None:
        if self.armed.is_set() and self.pattern is None:
            self.armed.clear()
            self.fired += 1
            self.fail(connection)

    def ended(self, connection: Any) -> None:
        self.armed.clear()


@contextmanager
def injected(
    db: Database, monkeypatch: pytest.MonkeyPatch, matches: str | None, fail: Callable[[Any], None]
) -> Iterator[Injected]:
    """`matches`: a regular expression for the failing statement; None fails the COMMIT itself."""
    injection = Injected(db, matches, fail)
    real_apply = engine.apply_run

    def apply_then_fail(*args: Any, **kwargs: Any) -> Any:
        injection.armed.set()
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(engine, "apply_run", apply_then_fail)
    listeners = [
        ("before_cursor_execute", injection.statement),
        ("commit", injection.commit),
        ("rollback", injection.ended),
    ]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        yield injection
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)
        monkeypatch.setattr(engine, "apply_run", real_apply)


def io_error(db: Database) -> Callable[[Any], None]:
    dbapi = db.engine.dialect.loaded_dbapi

    def fail(_: Any) -> None:
        raise dbapi.OperationalError("simulated I/O error")

    return fail


STATEMENTS = {
    "insert of new employees": r"^INSERT INTO employees",
    "insert of their links": r"^INSERT INTO source_links",
    "update of changed employees": r"^UPDATE employees",
    "detachment of links": r"^UPDATE source_links",
    "lifecycle events": r"^INSERT INTO outbox_events",
    "plan marked applied": r"^UPDATE changes",
    "policy assignments": r"policy_assignments",
    "connection's new watermark": r"^UPDATE connections",
    "COMMIT": None,
}


@pytest.mark.parametrize("matches", list(STATEMENTS.values()), ids=list(STATEMENTS))
def test_a_database_error_anywhere_in_the_apply_transaction_applies_nothing_and_the_next_run_converges(
    pair_on_db: tuple[World, World], monkeypatch: pytest.MonkeyPatch, matches: str | None
) -> None:
    world, twin = pair_on_db
    before = world.snapshot()
    with injected(world.db, monkeypatch, matches, io_error(world.db)) as injection:
        outcome = world.sync(at=LATER, full=True, connector=ONE_PAGE)
    assert injection.fired == 1
    assert outcome.status == "failed"
    assert outcome.error == "The fetch stopped with an unexpected OperationalError; nothing was applied"
    assert_only_bookkeeping(before, world.snapshot(), outcome.run_id)

    assert world.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
    assert world.view() == twin.view()


def test_postgresql_dropping_the_connection_mid_apply_applies_nothing_and_the_next_run_converges(
    pair_on_db: tuple[World, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, twin = pair_on_db
    if not world.db.is_postgresql:
        pytest.skip("a server connection to lose is PostgreSQL's; SQLite's disk full is the test below")

    def terminate(connection: Any) -> None:
        # From another session, as an operator or a failover would: the statement about to run meets a
        # closed socket.
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with world.db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    before = world.snapshot()
    with injected(world.db, monkeypatch, r"^UPDATE source_links", terminate) as injection:
        outcome = world.sync(at=LATER, full=True, connector=ONE_PAGE)
    assert injection.fired == 1
    assert outcome.status == "failed" and "OperationalError" in (outcome.error or "")
    assert_only_bookkeeping(before, world.snapshot(), outcome.run_id)

    assert world.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
    assert world.view() == twin.view()


def test_a_full_sqlite_disk_applies_nothing_and_the_next_run_converges_once_there_is_room(
    tmp_path: Path, clean_wire: Wire
) -> None:
    """The file may not grow (`max_page_count`) and its free space is taken, as on a full disk. Whichever
    write of the run meets the full disk first, nothing is half-applied: the run fails, or, when not even
    its failure can be written, it stays "running" with its plan staged (how a crash looks) and the next
    run with room abandons it. Either way the next run converges."""
    db = Database(f"sqlite:///{tmp_path / 'full.db'}")
    db.upgrade()
    limit: list[int | None] = [None]

    @event.listens_for(db.engine, "checkout")
    def cap(dbapi_connection: Any, *_: Any) -> None:
        # 1073741823 is SQLite's default limit: no cap.
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit[0] or 1073741823}")

    try:
        world = World(db, clean_wire, size=SMALL)
        twin = world.twin()
        assert world.sync(connector=ONE_PAGE).status == twin.sync(connector=ONE_PAGE).status == "succeeded"
        changed_world(world, LATER)
        assert twin.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE filler (b BLOB)")
            limit[0] = connection.exec_driver_sql("PRAGMA page_count").scalar()
        db.engine.dispose()  # every connection from now on opens under the cap
        for size in (2_000, 200, 20):
            with contextlib.suppress(OperationalError):
                for _ in range(100_000):
                    with db.engine.begin() as connection:
                        connection.exec_driver_sql(f"INSERT INTO filler VALUES (zeroblob({size}))")
        before = world.snapshot()

        try:
            outcome = world.sync(at=LATER, full=True, connector=ONE_PAGE)
        except OperationalError as error:
            assert "database or disk is full" in str(error)
            stuck = world.runs(status="running")
            for run in stuck:
                assert_only_bookkeeping(before, world.snapshot(), run.id, event=None)
            assert len(stuck) <= 1
        else:
            assert outcome.status == "failed" and "OperationalError" in (outcome.error or ""), outcome
            assert_only_bookkeeping(before, world.snapshot(), outcome.run_id)
            stuck = []

        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE filler")
        limit[0] = None
        db.engine.dispose()
        assert world.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
        assert world.view() == twin.view()
        assert all(world.run(run.id).error_kind == "abandoned" for run in stuck)
    finally:
        db.dispose()
