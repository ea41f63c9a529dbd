"""One sync per connection at a time, also across processes (PostgreSQL advisory lock, SQLite lease)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize

import pytest

from fakes import ListSource, make_directory, person
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy, connection_lock


def _hold_lock(
    url: str, connection_id: str, held: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:
    database = Database(url)
    with connection_lock(database, connection_id):
        held.set()
        release.wait(30)
    database.dispose()


def test_a_run_in_another_process_blocks_this_one_until_it_ends(db: Database, database_url: str) -> None:
    directory = make_directory(db, ListSource([person(1)]))
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold_lock, args=(database_url, directory.connection_id, held, release))
    other.start()
    try:
        assert held.wait(60), "the other process never took the lock"
        with pytest.raises(ConnectionBusy):
            directory.sync()
    finally:
        release.set()
        other.join(30)
    assert other.exitcode == 0
    assert directory.sync().status == "succeeded"


def test_locks_of_different_connections_do_not_block_each_other(db: Database) -> None:
    first = make_directory(db, ListSource([person(1)]))
    second = make_directory(db, ListSource([person(1)]))
    with connection_lock(db, first.connection_id):
        assert second.sync().status == "succeeded"


def test_an_expired_lease_of_a_crashed_process_is_taken_over(db: Database) -> None:
    import datetime as dt

    from staffsync.storage import models

    if not db.is_sqlite:
        pytest.skip("PostgreSQL's advisory locks die with their session: there is no lease to expire")
    directory = make_directory(db, ListSource([person(1)]))
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        session.add(
            models.SyncLock(
                connection_id=directory.connection_id,
                holder="crashed:1:1",
                acquired_at=now - dt.timedelta(hours=2),
                expires_at=now - dt.timedelta(hours=1),
            )
        )
    assert directory.sync().status == "succeeded"
