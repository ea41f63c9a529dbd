"""One sync per connection at a time, across threads and processes.

PostgreSQL: a session-level advisory lock on a dedicated connection, released by the server even if
the process dies. SQLite has no such thing: a leased row, renewed while the run makes progress and
taken over once its lease has expired (a crashed process cannot block a connection for ever).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, delete, text, update
from sqlalchemy.exc import IntegrityError

from staffsync.storage import models
from staffsync.storage.db import Database

LEASE = dt.timedelta(minutes=10)


class ConnectionBusy(RuntimeError):
    def __init__(self, connection_id: str) -> None:
        super().__init__(
            f"A sync of connection {connection_id} is already running; wait for it to finish and try again"
        )
        self.connection_id = connection_id


class ConnectionLock:
    def __init__(self, db: Database, connection_id: str) -> None:
        self.db = db
        self.connection_id = connection_id
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._pg: Connection | None = None

    def acquire(self) -> None:
        if self.db.is_postgresql:
            connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar():
                connection.close()
                raise ConnectionBusy(self.connection_id)
            self._pg = connection
            return
        now = _now()
        with self.db.transaction() as session:
            session.execute(
                delete(models.SyncLock).where(
                    models.SyncLock.connection_id == self.connection_id, models.SyncLock.expires_at < now
                )
            )
        try:
            with self.db.transaction() as session:
                session.add(
                    models.SyncLock(
                        connection_id=self.connection_id,
                        holder=self.holder,
                        acquired_at=now,
                        expires_at=now + LEASE,
                    )
                )
        except IntegrityError:
            raise ConnectionBusy(self.connection_id) from None

    def renew(self) -> None:
        if self._pg is not None:
            return
        with self.db.transaction() as session:
            session.execute(
                update(models.SyncLock)
                .where(models.SyncLock.connection_id == self.connection_id, models.SyncLock.holder == self.holder)
                .values(expires_at=_now() + LEASE)
            )

    def release(self) -> None:
        if self._pg is not None:
            self._pg.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            self._pg.close()
            self._pg = None
            return
        with self.db.transaction() as session:
            session.execute(
                delete(models.SyncLock).where(
                    models.SyncLock.connection_id == self.connection_id, models.SyncLock.holder == self.holder
                )
            )

    @property
    def _key(self) -> int:
        digest = hashlib.blake2b(f"staffsync.sync:{self.connection_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)


@contextmanager
def connection_lock(db: Database, connection_id: str) -> Iterator[ConnectionLock]:
    lock = ConnectionLock(db, connection_id)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
