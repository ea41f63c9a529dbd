"""The embedded schedule of `serve` and `demo`: a small loop that runs every due connection.

One process, one thread; overlapping runs are impossible anyway (the per-connection lock), and a run
that fails simply waits for its next turn. Production deployments use the procrastinate queue instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

from staffsync.connectors.base import HRConnector
from staffsync.storage import connections as connection_store
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.engine import SyncOutcome, run_sync, utc_now

log = logging.getLogger(__name__)

ConnectorFor = Callable[[models.Connection], HRConnector]


class EmbeddedScheduler:
    def __init__(
        self,
        db: Database,
        connector_for: ConnectorFor,
        *,
        tick: dt.timedelta = dt.timedelta(seconds=30),
        now: Callable[[], dt.datetime] = utc_now,
        jobs: Sequence[Callable[[dt.datetime], object]] = (),
    ) -> None:
        self.db = db
        self.connector_for = connector_for
        self.tick = tick
        self.now = now
        # Work that rides on the same tick after the syncs, such as webhook delivery, so that events a
        # sync just wrote go out without waiting for another tick.
        self.jobs = tuple(jobs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[SyncOutcome]:
        with self.db.session() as session:
            due = [
                (connection.account_id, connection.id, self.connector_for(connection))
                for connection in connection_store.due_connections(session, self.now())
            ]
        outcomes = []
        for account_id, connection_id, connector in due:
            try:
                outcomes.append(
                    run_sync(
                        self.db,
                        connection_id,
                        account_id=account_id,
                        connector=connector,
                        trigger="schedule",
                        now=self.now,
                    )
                )
            except ConnectionBusy:
                log.info("sync of connection %s skipped: a run is already going", connection_id)
        for job in self.jobs:
            try:
                job(self.now())
            except Exception:  # a failing job must not stop the syncs of the next tick
                log.exception("scheduled job %s failed", getattr(job, "__name__", type(job).__name__))
        return outcomes

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="staffsync-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        # A tick at once: connections that came due while the server was down should not wait a tick more.
        while True:
            try:
                self.run_due()
            except Exception:  # the loop outlives any one failure; the run record says what went wrong
                log.exception("scheduled syncs failed")
            if self._stop.wait(self.tick.total_seconds()):
                return
