"""The embedded schedule of `serve` and `demo` (STAFFSYNC_QUEUE=embedded): an asyncio loop in a thread
of its own that runs due connections (`next_sync_at <= now`, the longest overdue first), a few at a
time, each in a worker thread.

Runs of one connection never overlap: the loop never picks a connection it is already running, and the
engine's lock turns away a "Sync now" or another process that races it. Connections of one account run
one after the other, as they feed the same directory. "Sync now" does not queue
behind the schedule: it runs at once in a thread of its own (services/background_syncs.py). At start
and at every tick the loop looks for runs a dead process left "running" and marks them abandoned once
their lock is free, so those connections sync again. Deployments with many accounts run the same
scheduled runs on procrastinate workers instead (tasks.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from staffsync.api.metrics import ApiMetrics
from staffsync.storage import schedules
from staffsync.storage.db import Database
from staffsync.sync.engine import SyncOutcome, utc_now
from staffsync.sync.scheduled_run import ConnectorFor, ScheduledRun, recover_abandoned, run_scheduled

log = logging.getLogger(__name__)

Job = Callable[[dt.datetime], object]


def default_concurrency(db: Database) -> int:
    # SQLite has one writer at a time: more syncs at once only wait for each other's transactions.
    return 2 if db.is_sqlite else 4


class EmbeddedScheduler:
    def __init__(
        self,
        db: Database,
        connector_for: ConnectorFor,
        *,
        concurrency: int | None = None,
        tick: dt.timedelta = dt.timedelta(seconds=15),
        now: Callable[[], dt.datetime] = utc_now,
        jobs: Sequence[Job] = (),
        metrics: ApiMetrics | None = None,
    ) -> None:
        self.db = db
        self.connector_for = connector_for
        self.concurrency = concurrency or default_concurrency(db)
        if self.concurrency < 1:
            raise ValueError("the schedule runs at least one sync at a time")
        self.tick = tick
        self.now = now
        # Work that rides on the schedule, such as webhook delivery: after every tick and every finished
        # run, so that the events a sync just wrote go out without waiting for another tick.
        self.jobs = tuple(jobs)
        self.metrics = metrics
        if metrics is not None:
            metrics.watch_schedule(db)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()

    # -- one pass, for tests and one-off use

    def run_due(self) -> list[SyncOutcome]:
        """One pass, start to finish: abandoned runs recovered, every connection due now run (at most
        `concurrency` at a time), then the jobs. The outcomes, in due order; skipped and crashed runs
        have none."""
        return asyncio.run(self._one_pass())

    async def _one_pass(self) -> list[SyncOutcome]:
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="staffsync-sync") as executor:
            loop = asyncio.get_running_loop()
            moment = self.now()
            await loop.run_in_executor(executor, functools.partial(recover_abandoned, self.db, now=moment))
            due = await loop.run_in_executor(executor, self._due)
            # One account's connections one after the other (they share its directory), accounts side by side.
            by_account: dict[str, list[str]] = {}
            for account_id, connection_id in due:
                by_account.setdefault(account_id, []).append(connection_id)
            batches = await asyncio.gather(
                *(loop.run_in_executor(executor, self._run_all, account, ids) for account, ids in by_account.items())
            )
            await loop.run_in_executor(executor, self._run_jobs)
        order = {connection_id: n for n, (_, connection_id) in enumerate(due)}
        results = sorted((result for batch in batches for result in batch), key=lambda r: order[r.connection_id])
        return [result.outcome for result in results if result.outcome is not None]

    def _run_all(self, account_id: str, connection_ids: list[str]) -> list[ScheduledRun]:
        return [self._run(account_id, connection_id) for connection_id in connection_ids]

    # -- the loop of `serve` and `demo`

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="staffsync-scheduler", daemon=True)
        self._thread.start()
        self._started.wait(10)

    def stop(self, timeout: float = 60) -> None:
        """Lets the runs in progress finish (up to `timeout`); a run cut off later is abandoned at the next start."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _serve(self) -> None:
        try:
            asyncio.run(self._forever())
        except Exception:  # logged, not raised: the web server goes on without its schedule
            log.exception("the embedded schedule stopped")

    async def _forever(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop, self._stopping = loop, asyncio.Event()
        wake = asyncio.Event()
        running: dict[str, asyncio.Future[ScheduledRun]] = {}
        accounts: dict[str, str] = {}
        # Connections another process is running: left alone until the next tick, not retried in a loop.
        resting: dict[str, float] = {}
        jobs: asyncio.Future[None] | None = None
        executor = ThreadPoolExecutor(self.concurrency + 1, thread_name_prefix="staffsync-sync")
        self._started.set()
        try:
            while not self._stopping.is_set():
                wake.clear()
                for connection_id, future in list(running.items()):
                    if future.done():
                        del running[connection_id]
                        accounts.pop(connection_id, None)
                        if not future.cancelled() and future.exception() is None and future.result().skipped == "busy":
                            resting[connection_id] = loop.time() + self.tick.total_seconds()
                resting = {key: until for key, until in resting.items() if until > loop.time()}
                try:
                    # A tick at once on start: connections that came due while the server was down, and
                    # runs cut off when it stopped, should not wait a tick more.
                    moment = self.now()
                    await loop.run_in_executor(executor, functools.partial(recover_abandoned, self.db, now=moment))
                    free = self.concurrency - len(running)
                    if free > 0:
                        left_alone = {*running, *resting}
                        busy = set(accounts.values())
                        due = await loop.run_in_executor(
                            executor, functools.partial(self._pick, free, left_alone, busy)
                        )
                        for account_id, connection_id in due:
                            future = loop.run_in_executor(executor, self._run, account_id, connection_id)
                            running[connection_id] = future
                            accounts[connection_id] = account_id
                            future.add_done_callback(lambda _f: wake.set())
                except Exception:  # the loop outlives any one failure (a database restart, say)
                    log.exception("the embedded schedule could not pick due connections")
                if self.jobs and (jobs is None or jobs.done()):
                    jobs = loop.run_in_executor(executor, self._run_jobs)
                await self._sleep(wake)
        finally:
            pending = [future for future in (*running.values(), jobs) if future is not None and not future.done()]
            if pending:
                await asyncio.wait(pending)
            executor.shutdown(wait=False)

    async def _sleep(self, wake: asyncio.Event) -> None:
        assert self._stopping is not None
        waits = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waits, timeout=self.tick.total_seconds(), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    # -- the work, in worker threads

    def _due(self) -> list[tuple[str, str]]:
        with self.db.session() as session:
            return [(c.account_id, c.id) for c in schedules.due_connections(session, self.now())]

    def _pick(self, limit: int, left_alone: set[str], busy_accounts: set[str]) -> list[tuple[str, str]]:
        """Up to `limit` due connections, at most one per account, none of an account with a run going on
        (here or in another process): one account's runs share its directory, and two of them creating
        the same person at once would fail one of them."""
        with self.db.session() as session:
            busy = busy_accounts | {account for account, _ in schedules.running_runs(session)}
            due = schedules.due_connections(session, self.now(), exclude=left_alone)
        picked: list[tuple[str, str]] = []
        for connection in due:
            if connection.account_id in busy:
                continue
            busy.add(connection.account_id)
            picked.append((connection.account_id, connection.id))
            if len(picked) == limit:
                break
        return picked

    def _run(self, account_id: str, connection_id: str) -> ScheduledRun:
        result = run_scheduled(
            self.db, connection_id, account_id=account_id, connector_for=self.connector_for, now=self.now
        )
        if result.skipped == "busy":
            log.info("sync of connection %s skipped: a run is already going", connection_id)
        if self.metrics is not None and result.skipped is None:
            self.metrics.syncs.observe(
                result.outcome, duration_s=result.duration_s, crashed=result.crashed_run_id is not None
            )
        return result

    def _run_jobs(self) -> None:
        for job in self.jobs:
            try:
                job(self.now())
            except Exception:  # a failing job must not stop the syncs, nor the other jobs
                log.exception("scheduled job %s failed", getattr(job, "__name__", type(job).__name__))
