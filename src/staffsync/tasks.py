"""Sync jobs on procrastinate (STAFFSYNC_QUEUE=procrastinate, PostgreSQL only): `staffsync worker` runs
them, on as many machines as the installation needs.

- Every minute a periodic task defers one `sync_connection` job per due connection (the same
  `next_sync_at <= now` as the embedded schedule). Its queueing lock `sync:<connection id>` keeps a
  connection to one waiting job, and the engine's lock (a PostgreSQL advisory lock, freed by the server
  when a worker dies) keeps its runs from overlapping across workers; a job that finds the connection no
  longer due, or busy, ends without a run.
- "Sync now" in the web process only defers (services/queued_syncs.py): a job with a higher priority,
  so it goes ahead of the schedule's, under a lock of its own (`sync-now:<connection id>`).
- Jobs of one account's connections run one after the other (procrastinate's `lock`), across workers.
- A scheduled run that fails for a transient reason (rate limit, unavailable, network) is retried by
  procrastinate with back-off, twice; those retries do not count as more failed slots for the
  connection's own back-off (domain/schedule.py).
- The same periodic task marks runs whose worker died as abandoned, and ends the jobs such workers left
  "doing", so the connection is deferred again; another delivers webhooks.

Procrastinate's own tables are installed by `staffsync db upgrade` (storage/queue_schema.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from sqlalchemy.engine import make_url

from staffsync.api.metrics import SyncMetrics
from staffsync.connectors.registry import ProviderSettings
from staffsync.crypto import CredentialCipher
from staffsync.settings import Settings
from staffsync.storage import runs as run_store
from staffsync.storage import schedules
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.sync.scheduled_run import ConnectorFor, RegistryConnectors, recover_abandoned, run_scheduled

log = logging.getLogger(__name__)

QUEUE = "staffsync"
SYNC_TASK = "staffsync.sync_connection"
SYNC_NOW_PRIORITY = 10
TRANSIENT_FAILURES = frozenset({"rate_limited", "unavailable", "network"})
# The worker that ran a job sends a heartbeat every 10 s; after this long without one, its jobs are orphans.
STALLED_AFTER_S = 60

# The connector is replaced by a configured one (`queue_app`) before the app is used.
app = procrastinate.App(connector=procrastinate.PsycopgConnector())


class TransientSourceFailure(RuntimeError):
    """A scheduled run failed for a reason that may pass within minutes: procrastinate retries the job."""


# Retried 20 s, then 20² = 400 s after the failure: past a blip, without hammering a source that is down.
RETRY = procrastinate.RetryStrategy(max_attempts=2, exponential_wait=20, retry_exceptions={TransientSourceFailure})


@dataclass
class WorkerRuntime:
    """What the tasks of one worker process share (handed to them as procrastinate's additional context)."""

    db: Database
    settings: ProviderSettings
    metrics: SyncMetrics | None = None
    connector_for: ConnectorFor | None = None
    _dispatcher: Any = field(default=None, repr=False)

    def connectors(self) -> ConnectorFor:
        return self.connector_for or RegistryConnectors(self.db, self.settings)

    def deliver_webhooks(self, now: dt.datetime) -> None:
        if not isinstance(self.settings, Settings):
            # A runtime built by hand (tests) has provider settings only: no secret keys to sign with.
            log.info("webhook delivery skipped: this worker has no installation settings")
            return
        if self._dispatcher is None:
            from staffsync.webhooks.delivery import WebhookDispatcher
            from staffsync.webhooks.policy import RetryPolicy

            self._dispatcher = WebhookDispatcher(
                self.db,
                CredentialCipher.from_settings(self.settings),
                allow_private=self.settings.webhooks_allow_private,
                policy=RetryPolicy.spanning(dt.timedelta(hours=self.settings.webhooks_retry_hours)),
            )
        self._dispatcher(now)


def _runtime(context: procrastinate.JobContext) -> WorkerRuntime:
    runtime = context.additional_context.get("runtime")
    if not isinstance(runtime, WorkerRuntime):
        raise RuntimeError("staffsync tasks run in `staffsync worker`, which hands them their runtime")
    return runtime


@app.task(name=SYNC_TASK, queue=QUEUE, pass_context=True, retry=RETRY)
def sync_connection(
    context: procrastinate.JobContext,
    *,
    connection_id: str,
    account_id: str,
    trigger: str = "schedule",
    run_id: str | None = None,
    dry_run: bool = False,
    full: bool = False,
) -> str:
    runtime = _runtime(context)
    scheduled = trigger == "schedule"
    retry = context.job.attempts > 0
    result = run_scheduled(
        runtime.db,
        connection_id,
        account_id=account_id,
        connector_for=runtime.connectors(),
        trigger=schedules.RETRY_TRIGGER if scheduled and retry else trigger,
        # A retry repeats its slot: the failed first attempt already moved the connection's next run.
        only_if_due=scheduled and not retry,
        run_id=run_id,
        dry_run=dry_run,
        full=True if full else None,
    )
    if runtime.metrics is not None and result.skipped is None:
        runtime.metrics.observe(result.outcome, duration_s=result.duration_s, crashed=result.crashed_run_id is not None)
    outcome = result.outcome
    if outcome is None:
        return result.skipped or "crashed"
    if scheduled and outcome.status == "failed" and not dry_run:
        with runtime.db.session() as session:
            run = run_store.get_run(session, account_id, outcome.run_id)
            kind = run.error_kind if run is not None else None
        if kind in TRANSIENT_FAILURES:
            # The run record says what failed; the exception only makes procrastinate try again.
            raise TransientSourceFailure(f"run {outcome.run_id} failed ({kind}); retrying")
    return outcome.status


@app.periodic(cron="* * * * *", periodic_id="staffsync.defer_due")
@app.task(name="staffsync.defer_due_connections", queue=QUEUE, pass_context=True)
async def defer_due_connections(context: procrastinate.JobContext, timestamp: int) -> int:
    runtime = _runtime(context)
    await end_stalled_jobs(context.app)
    due = await asyncio.to_thread(due_for_queue, runtime.db, utc_now())
    return await defer_syncs(context.app, due)


@app.periodic(cron="* * * * *", periodic_id="staffsync.webhooks")
@app.task(name="staffsync.deliver_webhooks", queue=QUEUE, pass_context=True)
def deliver_webhooks(context: procrastinate.JobContext, timestamp: int) -> None:
    _runtime(context).deliver_webhooks(utc_now())


def due_for_queue(db: Database, now: dt.datetime) -> list[tuple[str, str]]:
    """(account id, connection id) of the due connections with no run going on, the longest overdue first;
    runs whose worker died are marked abandoned first, so that their connections are among them."""
    recover_abandoned(db, now=now)
    with db.session() as session:
        running = schedules.running_connection_ids(session)
        return [(c.account_id, c.id) for c in schedules.due_connections(session, now) if c.id not in running]


async def defer_syncs(queue: procrastinate.App, due: list[tuple[str, str]]) -> int:
    """One job per connection: those with a job waiting or going on (scheduled or Sync now) are left as they
    are. A job going on may not have recorded its run yet, and a second one would only sync it again."""
    waiting = {
        job.task_kwargs.get("connection_id")
        for status in (Status.TODO, Status.DOING)
        for job in await queue.job_manager.list_jobs_async(task=SYNC_TASK, status=status.value)
    }
    deferred = 0
    for account_id, connection_id in due:
        if connection_id in waiting:
            continue
        try:
            await queue.configure_task(
                SYNC_TASK, queueing_lock=f"sync:{connection_id}", lock=account_lock(account_id), queue=QUEUE
            ).defer_async(connection_id=connection_id, account_id=account_id)
            deferred += 1
        except AlreadyEnqueued:
            pass
    return deferred


async def end_stalled_jobs(queue: procrastinate.App) -> int:
    """Sync jobs left "doing" by a worker that stopped sending heartbeats (killed, machine lost) are ended
    as failed: their runs are abandoned by `recover_abandoned`, and their connections deferred again."""
    stalled = list(
        await queue.job_manager.get_stalled_jobs(task_name=SYNC_TASK, seconds_since_heartbeat=STALLED_AFTER_S)
    )
    for job in stalled:
        await queue.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
    if stalled:
        log.warning("%d sync job(s) of stopped workers were ended", len(stalled))
    return len(stalled)


def account_lock(account_id: str) -> str:
    """Procrastinate runs one job per lock at a time: one account's connections feed the same directory, and
    two runs creating the same person at once would fail one of them. A lock held by a dead worker's job is
    freed when `end_stalled_jobs` ends that job."""
    return f"account:{account_id}"


def conninfo(database_url: str) -> str:
    """libpq's form of a SQLAlchemy PostgreSQL URL (`postgresql+psycopg://…` → `postgresql://…`)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the procrastinate queue needs PostgreSQL: STAFFSYNC_DATABASE_URL is not a PostgreSQL URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def queue_app(database_url: str) -> Iterator[procrastinate.App]:
    """An app of its own for a process that only defers (the web process), opened for sync code: it defers
    by task name, and leaves the module's `app`, which workers configure, alone."""
    deferring = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))
    deferring.open()
    try:
        yield deferring
    finally:
        deferring.close()


def run_worker(
    runtime: WorkerRuntime,
    *,
    concurrency: int,
    wait: bool = True,
    name: str | None = None,
) -> None:
    """Runs sync jobs until stopped (Ctrl-C, SIGTERM: running syncs finish first), or until the queue is
    empty when `wait` is False."""
    url = runtime.db.url.render_as_string(hide_password=False)
    with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(url))) as configured:
        configured.run_worker(
            queues=[QUEUE],
            concurrency=concurrency,
            wait=wait,
            name=name,
            additional_context={"runtime": runtime},
            # Finished syncs are recorded as runs; keeping their jobs too would only grow a table.
            delete_jobs="successful",
        )
