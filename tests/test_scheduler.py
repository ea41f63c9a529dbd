"""The embedded schedule: every connection runs once per interval; broken and disconnected ones wait."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from fakes import NOW, ListSource, make_directory, person
from staffsync.scheduler import EmbeddedScheduler
from staffsync.storage import models
from staffsync.storage.db import Database


def test_a_connection_runs_when_due_and_then_waits_for_its_interval(db: Database) -> None:
    directory = make_directory(db, ListSource([person(1), person(2)]))
    clock = [NOW]
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=lambda: clock[0])

    first = scheduler.run_due()
    assert [o.counts["created"] for o in first] == [2]

    clock[0] = NOW + dt.timedelta(minutes=30)
    assert scheduler.run_due() == []

    clock[0] = NOW + dt.timedelta(minutes=61)
    assert [o.status for o in scheduler.run_due()] == ["succeeded"]


def test_broken_and_disconnected_connections_are_not_scheduled(db: Database) -> None:
    broken = make_directory(db, ListSource([person(1)]))
    gone = make_directory(db, ListSource([person(1)]))
    with db.transaction() as session:
        session.execute(
            update(models.Connection).where(models.Connection.id == broken.connection_id).values(status="broken")
        )
        session.execute(
            update(models.Connection).where(models.Connection.id == gone.connection_id).values(disconnected_at=NOW)
        )
    scheduler = EmbeddedScheduler(db, lambda _connection: ListSource([person(1)]), now=lambda: NOW)
    assert scheduler.run_due() == []
