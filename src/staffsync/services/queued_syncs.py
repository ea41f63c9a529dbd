"""Sync now in a web process of a queued installation (STAFFSYNC_QUEUE=procrastinate): the request defers a
job ahead of the schedule's and answers once a worker has recorded the run, with the same contract as
BackgroundSyncs (the run's id, or SyncNotStarted with the reason)."""

from __future__ import annotations

import time
import uuid

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, NoResult
from procrastinate.jobs import Status

from staffsync.connectors.base import HRConnector
from staffsync.services.background_syncs import START_TIMEOUT_S, BackgroundSyncs, SyncNotStarted
from staffsync.storage import runs as run_store
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.engine import ProposedSettings
from staffsync.tasks import QUEUE, SYNC_NOW_PRIORITY, SYNC_TASK, account_lock

_ENDED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.ABORTED, Status.CANCELLED})


class QueuedSyncs(BackgroundSyncs):
    def __init__(
        self, db: Database, queue: procrastinate.App, *, start_timeout: float = START_TIMEOUT_S, poll: float = 0.1
    ) -> None:
        super().__init__(db)
        self.queue = queue
        self.start_timeout = start_timeout
        self.poll = poll

    def start(
        self,
        connection_id: str,
        *,
        account_id: str,
        connector: HRConnector,
        dry_run: bool = False,
        full: bool | None = None,
        trigger: str,
        proposed: ProposedSettings | None = None,
    ) -> str:
        """`connector` is not used: the worker builds its own from the stored connection. A dry run of
        proposed settings (a preview the admin waits for, which applies nothing) runs in this process: the
        settings it tries exist only in the request."""
        if proposed is not None:
            return super().start(
                connection_id,
                account_id=account_id,
                connector=connector,
                dry_run=dry_run,
                full=full,
                trigger=trigger,
                proposed=proposed,
            )
        run_id = str(uuid.uuid4())
        try:
            job_id = self.queue.configure_task(
                SYNC_TASK,
                queueing_lock=f"sync-now:{connection_id}",
                lock=account_lock(account_id),
                priority=SYNC_NOW_PRIORITY,
                queue=QUEUE,
            ).defer(
                connection_id=connection_id,
                account_id=account_id,
                trigger=trigger,
                run_id=run_id,
                dry_run=dry_run,
                full=bool(full),
            )
        except AlreadyEnqueued:
            raise SyncNotStarted("A sync of this connection is already queued", ConnectionBusy(connection_id)) from None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._recorded(account_id, run_id):
                return run_id
            if self._ended(job_id):
                # The job ended without recording our run: it found another run of the connection going on.
                if self._recorded(account_id, run_id):
                    return run_id
                raise SyncNotStarted("The sync could not start", ConnectionBusy(connection_id))
            time.sleep(self.poll)
        raise SyncNotStarted(
            "The sync is queued, but no worker has started it yet: it runs as soon as one is free "
            "(is `staffsync worker` running?)"
        )

    def join(self, timeout: float | None = None) -> None:
        """Nothing runs in this process."""

    def _ended(self, job_id: int) -> bool:
        try:
            return self.queue.job_manager.get_job_status(job_id) in _ENDED
        except NoResult:  # workers delete the jobs that succeeded
            return True

    def _recorded(self, account_id: str, run_id: str) -> bool:
        with self.db.session() as session:
            return run_store.get_run(session, account_id, run_id) is not None
