"""Sync jobs on procrastinate (STAFFSYNC_QUEUE=procrastinate), on the PostgreSQL at 127.0.0.1:5432: due
connections deferred once each, Sync now ahead of the schedule, transient failures retried without counting
twice, and two `staffsync worker` processes sharing fifty connections without ever running one twice at once.

The queue's tables live in a database of this module's own, so that the models-vs-migrations check of the
shared test database never sees them."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import procrastinate
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from fakes import ListSource, make_directory, person
from staffsync.api.metrics import ScheduleCollector, SyncMetrics
from staffsync.cli import app as cli_app
from staffsync.connectors.base import ConnectorError, FailureKind, FetchRequest
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.services.background_syncs import SyncNotStarted
from staffsync.services.queued_syncs import QueuedSyncs
from staffsync.simulators.kombo import Fault, SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage import accounts, connections, models
from staffsync.storage.db import Database
from staffsync.storage.locks import ConnectionBusy
from staffsync.storage.models import Base
from staffsync.storage.queue_schema import TRACKING_TABLE, install_queue_schema, queue_schema_installed
from staffsync.sync.engine import utc_now
from staffsync.tasks import (
    SYNC_TASK,
    WorkerRuntime,
    app,
    conninfo,
    defer_syncs,
    due_for_queue,
    end_stalled_jobs,
    queue_app,
)

pytestmark = pytest.mark.skipif(
    "postgresql" not in os.environ.get("STAFFSYNC_TEST_DATABASES", "sqlite,postgresql"),
    reason="the procrastinate queue runs on PostgreSQL only",
)

# The same server as the shared test database (tests/conftest.py), a database of this module's own on it.
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
QUEUE_TABLES = ("procrastinate_jobs", "procrastinate_periodic_defers", "procrastinate_events", "procrastinate_workers")


@pytest.fixture(scope="module")
def queue_url() -> Iterator[str]:
    server = make_url(os.environ.get("STAFFSYNC_TEST_DATABASE_URL") or DEFAULT_SERVER)
    name = f"staffsync_queue_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    install_queue_schema(database)
    database.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def qdb(queue_url: str) -> Iterator[Database]:
    database = Database(queue_url)
    yield database
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(QUEUE_TABLES)} CASCADE"))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()


def work_off(db: Database, runtime: WorkerRuntime, *, concurrency: int = 1) -> None:
    """An in-process worker that stops once the queue is empty."""
    url = db.url.render_as_string(hide_password=False)
    with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(url))):

        async def main() -> None:
            async with app.open_async():
                await app.run_worker_async(
                    queues=["staffsync"],
                    concurrency=concurrency,
                    wait=False,
                    additional_context={"runtime": runtime},
                    install_signal_handlers=False,
                    listen_notify=False,
                    delete_jobs="successful",
                )

        asyncio.run(main())


def defer_due(db: Database, now: dt.datetime) -> int:
    url = db.url.render_as_string(hide_password=False)
    with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(url))):

        async def main() -> int:
            async with app.open_async():
                return await defer_syncs(app, due_for_queue(db, now))

        return asyncio.run(main())


def jobs(db: Database, status: str | None = None) -> list[Any]:
    query = "SELECT id, status, task_name, queueing_lock, priority, attempts, args FROM procrastinate_jobs"
    with db.engine.connect() as connection:
        rows = connection.execute(text(query + (" WHERE status = :s" if status else "")), {"s": status}).all()
    return [row for row in rows if row.task_name == SYNC_TASK]


def runs_of(db: Database, connection_id: str) -> list[models.SyncRun]:
    with db.session() as session:
        return list(
            session.execute(
                select(models.SyncRun)
                .where(models.SyncRun.connection_id == connection_id)
                .order_by(models.SyncRun.started_at)
            ).scalars()
        )


def connection(db: Database, connection_id: str) -> models.Connection:
    with db.session() as session:
        found = session.get(models.Connection, connection_id)
        assert found is not None
        return found


# --- the schema


def test_the_queue_schema_is_installed_once_and_tracked(qdb: Database) -> None:
    assert queue_schema_installed(qdb)
    again = install_queue_schema(qdb)
    assert again.installed and again.applied == []
    from procrastinate.schema import SchemaManager

    shipped = {path.name for path in Path(SchemaManager.get_migrations_path()).glob("*.sql")}
    with qdb.engine.connect() as connection:
        recorded = set(connection.execute(text(f"SELECT name FROM {TRACKING_TABLE}")).scalars())
    assert recorded == shipped


def test_db_upgrade_installs_the_queue_schema_on_postgresql(tmp_path: Path) -> None:
    server = make_url(os.environ.get("STAFFSYNC_TEST_DATABASE_URL") or DEFAULT_SERVER)
    name = f"staffsync_upgrade_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        env = {"STAFFSYNC_DATA_DIR": str(tmp_path), "STAFFSYNC_DATABASE_URL": url}
        done = CliRunner().invoke(cli_app, ["db", "upgrade", "--json"], env=env)
        assert done.exit_code == 0, done.stderr
        assert json.loads(done.stdout)["queue_schema"] is True
        database = Database(url)
        assert queue_schema_installed(database)
        database.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- deferring


def test_each_due_connection_gets_one_waiting_job(qdb: Database) -> None:
    directory = make_directory(qdb, ListSource([person(1)]))
    second = directory.add_connection("Second", priority=2)
    running = directory.add_connection("Running", priority=3)
    later = directory.add_connection("Later", priority=4)
    now = utc_now()
    with qdb.transaction() as session:
        session.execute(
            update(models.Connection)
            .where(models.Connection.id == later)
            .values(next_sync_at=now + dt.timedelta(hours=1))
        )
        session.add(
            models.SyncRun(
                id=str(uuid.uuid4()),
                account_id=directory.account_id,
                connection_id=running,
                trigger="schedule",
                kind="full",
                status="running",
                started_at=now,
            )
        )
    # The "running" run has no lock behind it: its process is gone, it is abandoned and the connection deferred.
    assert defer_due(qdb, now) == 3
    assert defer_due(qdb, now) == 0
    waiting = jobs(qdb, "todo")
    assert sorted(row.queueing_lock for row in waiting) == sorted(
        f"sync:{cid}" for cid in (directory.connection_id, second, running)
    )
    assert [run.status for run in runs_of(qdb, running)] == ["failed"]


def test_jobs_left_doing_by_a_dead_worker_are_ended_and_the_connection_deferred_again(qdb: Database) -> None:
    directory = make_directory(qdb, ListSource([person(1)]))
    assert defer_due(qdb, utc_now()) == 1
    with qdb.engine.begin() as conn:
        # The worker took the job, stopped sending heartbeats five minutes ago, and is gone.
        worker_id = conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '5 minutes') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE task_name = :t"),
            {"w": worker_id, "t": SYNC_TASK},
        )
    assert defer_due(qdb, utc_now()) == 0  # its job is still going on, as far as anyone knows

    url = qdb.url.render_as_string(hide_password=False)
    with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(url))):

        async def main() -> int:
            async with app.open_async():
                return await end_stalled_jobs(app)

        assert asyncio.run(main()) == 1

    assert [row.status for row in jobs(qdb)] == ["failed"]
    assert defer_due(qdb, utc_now()) == 1
    assert [row.queueing_lock for row in jobs(qdb, "todo")] == [f"sync:{directory.connection_id}"]


# --- running jobs


class FlakySource(ListSource):
    """Unavailable for the first `failures` fetches."""

    def __init__(self, records: list[SourceEmployee | RejectedRecord], failures: int) -> None:
        super().__init__(records)
        self.failures = failures

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectorError(FailureKind.UNAVAILABLE, "The HR system is unavailable (503)")
        yield from super().employees(request)


def test_a_job_syncs_its_connection_moves_its_schedule_and_counts_in_the_worker_s_metrics(qdb: Database) -> None:
    directory = make_directory(qdb, ListSource([person(1), person(2)]))
    registry = CollectorRegistry()
    registry.register(ScheduleCollector(qdb))
    runtime = WorkerRuntime(
        qdb,
        settings=None,  # type: ignore[arg-type]
        metrics=SyncMetrics(registry),
        connector_for=lambda _c: directory.source,
    )
    assert defer_due(qdb, utc_now()) == 1

    work_off(qdb, runtime)

    [run] = runs_of(qdb, directory.connection_id)
    assert (run.status, run.trigger, run.created) == ("succeeded", "schedule", 2)
    assert connection(qdb, directory.connection_id).next_sync_at > utc_now() + dt.timedelta(minutes=59)
    assert jobs(qdb) == []  # finished jobs are deleted: the run is the record
    exposed = generate_latest(registry).decode()
    assert 'staffsync_sync_runs_total{status="succeeded"} 1.0' in exposed
    assert "staffsync_sync_duration_seconds_count 1.0" in exposed
    assert 'staffsync_employees_synced_total{change="created"} 2.0' in exposed
    assert 'staffsync_connections{status="ok"} 1.0' in exposed
    assert "staffsync_sync_queue_depth 0.0" in exposed


def test_a_transient_failure_is_retried_by_the_queue_and_counts_as_one_failed_slot(qdb: Database) -> None:
    source = FlakySource([person(1)], failures=2)
    directory = make_directory(qdb, source)
    runtime = WorkerRuntime(qdb, settings=None, connector_for=lambda _c: source)  # type: ignore[arg-type]
    defer_due(qdb, utc_now())

    for _attempt in range(3):
        work_off(qdb, runtime)
        # The retry waits for its back-off: let that time pass.
        with qdb.engine.begin() as conn:
            conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'"))

    runs = runs_of(qdb, directory.connection_id)
    assert [(run.trigger, run.status) for run in runs] == [
        ("schedule", "failed"),
        ("retry", "failed"),
        ("retry", "succeeded"),
    ]
    healed = connection(qdb, directory.connection_id)
    assert (healed.consecutive_failures, healed.failing_since) == (0, None)


def test_retries_give_up_after_two_and_the_slot_counts_once(qdb: Database) -> None:
    source = FlakySource([person(1)], failures=10)
    directory = make_directory(qdb, source)
    runtime = WorkerRuntime(qdb, settings=None, connector_for=lambda _c: source)  # type: ignore[arg-type]
    defer_due(qdb, utc_now())
    for _attempt in range(4):
        work_off(qdb, runtime)
        with qdb.engine.begin() as conn:
            conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'"))
    assert [run.trigger for run in runs_of(qdb, directory.connection_id)] == ["schedule", "retry", "retry"]
    assert [row.status for row in jobs(qdb)] == ["failed"]
    failing = connection(qdb, directory.connection_id)
    assert failing.consecutive_failures == 1
    assert failing.status == "failing"


# --- Sync now from the web process


def test_sync_now_defers_ahead_of_the_schedule_and_answers_with_the_run(qdb: Database) -> None:
    directory = make_directory(qdb, ListSource([person(1)]))
    scheduled = [directory.add_connection(f"Scheduled {n}", priority=n + 2) for n in range(3)]
    with qdb.transaction() as session:
        # The manual one is not due: only Sync now runs it.
        session.execute(
            update(models.Connection)
            .where(models.Connection.id == directory.connection_id)
            .values(next_sync_at=utc_now() + dt.timedelta(hours=1))
        )
    defer_due(qdb, utc_now())
    runtime = WorkerRuntime(qdb, settings=None, connector_for=lambda _c: ListSource([person(1)]))  # type: ignore[arg-type]
    url = qdb.url.render_as_string(hide_password=False)
    answer: dict[str, object] = {}

    with queue_app(url) as queue:
        syncs = QueuedSyncs(qdb, queue, start_timeout=60)

        def press_sync_now() -> None:
            try:
                answer["run_id"] = syncs.start(
                    directory.connection_id, account_id=directory.account_id, connector=directory.source, trigger="ui"
                )
            except Exception as error:  # handed to the assertion below
                answer["error"] = error

        pressing = threading.Thread(target=press_sync_now)
        pressing.start()
        # The job is deferred before the worker starts: wait for it rather than for time.
        deadline = utc_now() + dt.timedelta(seconds=30)
        while not [row for row in jobs(qdb, "todo") if row.priority == 10] and utc_now() < deadline:
            time.sleep(0.01)
        with pytest.raises(SyncNotStarted) as twice:
            syncs.start(
                directory.connection_id, account_id=directory.account_id, connector=directory.source, trigger="ui"
            )
        assert isinstance(twice.value.cause, ConnectionBusy)
        work_off(qdb, runtime, concurrency=1)
        pressing.join(60)

    assert "error" not in answer, answer
    [manual] = runs_of(qdb, directory.connection_id)
    assert (manual.id, manual.trigger, manual.status) == (answer["run_id"], "ui", "succeeded")
    first_scheduled = min(run.started_at for cid in scheduled for run in runs_of(qdb, cid))
    assert manual.started_at < first_scheduled


# --- two worker processes


def test_two_workers_sync_fifty_connections_without_running_one_twice_at_once(qdb: Database, tmp_path: Path) -> None:
    owners: dict[str, str] = {}
    with qdb.transaction() as session:
        for n in range(50):
            # An account each: connections of one account share its directory (see the README).
            account = accounts.create_account(session, f"Customer {n}", timezone="Europe/Berlin", now=utc_now())
            made = connections.create_connection(
                session, account.id, name="Personio", provider="memory", now=utc_now(), config={"size": 5, "seed": n}
            )
            owners[made.id] = account.id
    ids = list(owners)
    assert defer_due(qdb, utc_now()) == 50
    # Every other connection also gets a Sync now, ahead of the rest: both workers race for those.
    url = qdb.url.render_as_string(hide_password=False)
    with queue_app(url) as queue:
        for cid in ids[::2]:
            queue.configure_task(SYNC_TASK, queueing_lock=f"sync-now:{cid}", priority=10, queue="staffsync").defer(
                connection_id=cid, account_id=owners[cid], trigger="api"
            )
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    env.update(STAFFSYNC_QUEUE="procrastinate", STAFFSYNC_DATABASE_URL=url, STAFFSYNC_DATA_DIR=str(tmp_path))
    staffsync = str(Path(sys.executable).with_name("staffsync"))
    workers = [
        subprocess.Popen(
            [staffsync, "worker", "--burst", "--concurrency", "2", "--name", f"w{n}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=240)
        assert worker.returncode == 0, stderr

    with qdb.session() as session:
        runs = list(session.execute(select(models.SyncRun)).scalars())
    by_connection: dict[str, list[models.SyncRun]] = {}
    for run in runs:
        by_connection.setdefault(run.connection_id, []).append(run)
    assert set(by_connection) == set(ids)
    for cid, its_runs in by_connection.items():
        assert any(run.status == "succeeded" for run in its_runs), cid
        assert all(run.status == "succeeded" and run.finished_at is not None for run in its_runs)
        spans = sorted((run.started_at, run.finished_at) for run in its_runs)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end is not None and end <= start, f"runs of {cid} overlapped"
    assert len(jobs(qdb, "todo")) == 0


# --- the periodic task and the web process, as deployed


def _queue_env(url: str, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    env.update(STAFFSYNC_QUEUE="procrastinate", STAFFSYNC_DATABASE_URL=url, STAFFSYNC_DATA_DIR=str(data_dir))
    return env


def _staffsync() -> str:
    return str(Path(sys.executable).with_name("staffsync"))


def _wait_for(condition: Any, *, seconds: float, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def test_a_worker_left_running_defers_the_due_connections_by_itself_every_minute(qdb: Database, tmp_path: Path) -> None:
    [(cron, periodic_id)] = [
        (task.cron, task.periodic_id)
        for task in app.periodic_registry.periodic_tasks.values()
        if task.task.name == "staffsync.defer_due_connections"
    ]
    assert cron == "* * * * *"
    with qdb.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="Europe/Berlin", now=utc_now())
        due = connections.create_connection(
            session, account.id, name="Personio", provider="memory", now=utc_now(), config={"size": 4, "seed": 1}
        ).id
    url = qdb.url.render_as_string(hide_password=False)
    # No job deferred by anyone: the worker's periodic deferrer runs the current minute's slot as it starts.
    assert jobs(qdb) == []
    worker = subprocess.Popen(
        [_staffsync(), "worker", "--concurrency", "1", "--name", "lone"],
        env=_queue_env(url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: any(run.status == "succeeded" for run in runs_of(qdb, due)), seconds=90, process=worker)
    finally:
        worker.terminate()
        _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr  # SIGTERM: a clean stop
    [run] = runs_of(qdb, due)
    assert (run.trigger, run.created) == ("schedule", 4)
    with qdb.engine.connect() as conn:
        slots = conn.execute(
            text("SELECT count(*) FROM procrastinate_periodic_defers WHERE periodic_id = :p"), {"p": periodic_id}
        ).scalar_one()
    assert slots >= 1


def test_serve_on_the_queue_only_defers_and_a_worker_runs_its_sync_now(qdb: Database, tmp_path: Path) -> None:
    url = qdb.url.render_as_string(hide_password=False)
    env = _queue_env(url, tmp_path)

    def cli(*args: str) -> dict[str, str]:
        done = subprocess.run([_staffsync(), *args, "--json"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        parsed: dict[str, str] = json.loads(done.stdout)
        return parsed

    account = cli("accounts", "create", "Acme")
    connection_id = cli(
        "connections", "add", "--account", account["account_id"], "--provider", "memory", "--size", "6"
    )["id"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [_staffsync(), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    answer: dict[str, Any] = {}
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        _wait_for(healthy, seconds=60, process=server)

        def press_sync_now() -> None:
            answer["response"] = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/connections/{connection_id}/syncs",
                headers={"Authorization": f"Bearer {account['api_token']}"},
                json={},
                timeout=60,
            )

        pressing = threading.Thread(target=press_sync_now)
        pressing.start()
        _wait_for(lambda: [row for row in jobs(qdb, "todo") if row.priority == 10], seconds=30, process=server)
        # The connection has been due since it was added and the server has been up all along: it ran nothing.
        assert runs_of(qdb, connection_id) == []
        assert [row.queueing_lock for row in jobs(qdb, "todo")] == [f"sync-now:{connection_id}"]

        _work_the_queue_off(env)
        pressing.join(60)
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    response = answer["response"]
    assert response.status_code in (200, 202), response.text
    [run] = runs_of(qdb, connection_id)
    assert (run.id, run.trigger, run.status) == (response.json()["id"], "api", "succeeded")


def test_a_worker_killed_mid_run_leaves_the_directory_unchanged_and_the_next_worker_syncs_it(
    qdb: Database, tmp_path: Path
) -> None:
    simulator = SimulatorState(api_keys={"kill-test-key"})
    # Four pages of 250 fill the engine's first batch of 1000, which is planned and staged before page five.
    integration = simulator.create_integration(size=1100, seed=3)
    with qdb.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="Europe/Berlin", now=utc_now())
        connection_id = connections.create_connection(
            session,
            account.id,
            name="Kombo",
            provider="kombo",
            now=utc_now(),
            config={"integration_id": integration.id},
        ).id
    url = qdb.url.render_as_string(hide_password=False)
    with serving_in_thread(create_kombo_simulator(simulator)) as base:
        env = _queue_env(url, tmp_path)
        env.update(STAFFSYNC_KOMBO_API_KEY="kill-test-key", STAFFSYNC_KOMBO_BASE_URL=base + "/v1")
        simulator.faults.add(Fault("slow", route="/hris/employees", skip=4, delay=120))
        assert defer_due(qdb, utc_now()) == 1
        doomed = subprocess.Popen(
            [_staffsync(), "worker", "--concurrency", "1", "--name", "doomed"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

        def staged() -> int:
            with qdb.session() as session:
                return len(session.execute(select(models.Change.id)).all())

        try:
            _wait_for(lambda: staged() >= 1000, seconds=90, process=doomed)
        finally:
            doomed.kill()
            doomed.wait(30)
        assert doomed.returncode == -signal.SIGKILL

        [killed] = runs_of(qdb, connection_id)
        assert killed.status == "running"
        with qdb.session() as session:
            assert session.execute(select(models.Employee.id)).all() == []
        assert [row.status for row in jobs(qdb)] == ["doing"]

        # A minute without heartbeats makes the dead worker's job an orphan: let that minute pass.
        with qdb.engine.begin() as conn:
            conn.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '5 minutes'"))
        with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(url))):

            async def end_orphans() -> int:
                async with app.open_async():
                    return await end_stalled_jobs(app)

            assert asyncio.run(end_orphans()) == 1
        # The server frees the dead session's advisory lock once it notices the closed socket.
        deadline = time.monotonic() + 30
        while defer_due(qdb, utc_now()) == 0:
            assert time.monotonic() < deadline, "the killed worker's run was never abandoned"
            time.sleep(0.1)

        simulator.faults.clear()
        _work_the_queue_off(env)

    abandoned, synced = runs_of(qdb, connection_id)
    assert (abandoned.id, abandoned.status, abandoned.error_kind) == (killed.id, "failed", "abandoned")
    assert (synced.status, synced.created) == ("succeeded", 1100)
    with qdb.session() as session:
        assert session.execute(select(models.Change.id).where(models.Change.run_id == killed.id)).all() == []
        assert len(session.execute(select(models.Employee.id)).all()) == 1100


def _work_the_queue_off(env: dict[str, str]) -> None:
    """One `staffsync worker --burst`, which exits once the queue is empty."""
    worker = subprocess.run(
        [_staffsync(), "worker", "--burst", "--concurrency", "1"], env=env, capture_output=True, text=True, timeout=120
    )
    assert worker.returncode == 0, worker.stderr
