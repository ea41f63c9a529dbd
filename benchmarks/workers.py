#!/usr/bin/env python3
"""Scheduled-sync throughput of `staffsync worker` (STAFFSYNC_QUEUE=procrastinate): one worker vs two.

    .venv/bin/python benchmarks/workers.py --connections 60 --employees 200 --workers 1,2

For each worker count: a fresh PostgreSQL database at 127.0.0.1:5432 (migrated, queue schema installed,
dropped at the end), N accounts with a Kombo connection each, each its own integration of the in-process
Kombo simulator, all due at once; their jobs are deferred as the periodic task would, then K
`staffsync worker --burst` processes work the queue off and exit. Reported: connections synced per
minute, from the first run's start to the last run's end (the work), and over the whole wall time
(process start-up included); the CPU seconds per connection the workers (user + system, from the kernel's
accounting of the children) and the simulator (this process) spent; and the machine's load average when
each measurement began, as the figures on a shared machine depend on what else runs. The simulator
serves every worker from this process, on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from staffsync.simulators.kombo import SimulatorState, create_kombo_simulator, serving_in_thread
from staffsync.storage import accounts, connections, models
from staffsync.storage.db import Database
from staffsync.storage.queue_schema import install_queue_schema
from staffsync.tasks import app, conninfo, defer_syncs, due_for_queue

API_KEY = "bench-workers-key"


@dataclass(frozen=True)
class Result:
    workers: int
    concurrency: int
    connections: int
    succeeded: int
    work_s: float
    wall_s: float
    workers_cpu_s: float
    simulator_cpu_s: float
    load_before: float

    @property
    def per_minute_work(self) -> float:
        return self.succeeded / self.work_s * 60

    @property
    def per_minute_wall(self) -> float:
        return self.succeeded / self.wall_s * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=60)
    parser.add_argument("--employees", type=int, default=200, help="people per simulated integration")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    parser.add_argument("--concurrency", type=int, default=2, help="syncs per worker at once")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/")
    args = parser.parse_args()

    state = SimulatorState(api_keys={API_KEY})
    integrations = [state.create_integration(size=args.employees, seed=n).id for n in range(args.connections)]
    results = []
    with serving_in_thread(create_kombo_simulator(state)) as base:
        for count in (int(part) for part in args.workers.split(",")):
            results.append(
                measure(args.server, base + "/v1", integrations, workers=count, concurrency=args.concurrency)
            )
    print(
        f"\n{args.connections} connections × {args.employees} people, simulator in-process; "
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        "| workers | syncs at once each | synced | work (s) | conn./min (work) | wall (s) | conn./min (wall) "
        "| worker CPU s/conn. | simulator CPU s/conn. | load avg before |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.workers} | {r.concurrency} | {r.succeeded}/{r.connections} | {r.work_s:.1f} | "
            f"{r.per_minute_work:.0f} | {r.wall_s:.1f} | {r.per_minute_wall:.0f} | "
            f"{r.workers_cpu_s / r.connections:.2f} | {r.simulator_cpu_s / r.connections:.2f} | {r.load_before:.1f} |"
        )


def measure(server: str, kombo_base: str, integrations: list[str], *, workers: int, concurrency: int) -> Result:
    server_url = make_url(server)
    name = f"bench_workers_{workers}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        db.upgrade()
        install_queue_schema(db)
        now = dt.datetime.now(dt.UTC)
        with db.transaction() as session:
            for n, integration_id in enumerate(integrations):
                # An account each, as in an installation of many customers: the simulated companies share
                # names and emails, which one account would merge into the same people.
                account = accounts.create_account(session, f"Bench {n}", timezone="Europe/Berlin", now=now)
                connections.create_connection(
                    session,
                    account.id,
                    name=f"Source {n}",
                    provider="kombo",
                    now=now,
                    config={"integration_id": integration_id},
                )
        asyncio.run(_defer(db, url))
        env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
        with tempfile.TemporaryDirectory() as data_dir:
            env.update(
                STAFFSYNC_QUEUE="procrastinate",
                STAFFSYNC_DATABASE_URL=url,
                STAFFSYNC_DATA_DIR=data_dir,
                STAFFSYNC_KOMBO_API_KEY=API_KEY,
                STAFFSYNC_KOMBO_BASE_URL=kombo_base,
            )
            staffsync = str(Path(sys.executable).with_name("staffsync"))
            load_before = os.getloadavg()[0]
            # The workers are this process's only children while they run: their accounting is theirs.
            children_before, self_before = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
            started = time.perf_counter()
            processes = [
                subprocess.Popen(
                    [staffsync, "worker", "--burst", "--concurrency", str(concurrency), "--name", f"bench{n}"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for n in range(workers)
            ]
            for process in processes:
                _, stderr = process.communicate()
                if process.returncode != 0:
                    raise SystemExit(f"a worker failed:\n{stderr}")
            wall = time.perf_counter() - started
            workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - children_before
            simulator_cpu = _cpu(resource.RUSAGE_SELF) - self_before
        with db.session() as session:
            first, last, succeeded = session.execute(
                select(
                    func.min(models.SyncRun.started_at),
                    func.max(models.SyncRun.finished_at),
                    func.count().filter(models.SyncRun.status == "succeeded"),
                )
            ).one()
            failures = session.execute(
                select(models.SyncRun.error_message, func.count())
                .where(models.SyncRun.status != "succeeded")
                .group_by(models.SyncRun.error_message)
            ).all()
        if first is None or last is None:
            raise SystemExit(f"{workers} worker(s) recorded no run")
        for message, count in failures:
            print(f"  {workers} worker(s): {count} run(s) did not succeed: {message}", file=sys.stderr)
        return Result(
            workers,
            concurrency,
            len(integrations),
            succeeded,
            (last - first).total_seconds(),
            wall,
            workers_cpu,
            simulator_cpu,
            load_before,
        )
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


async def _defer(db: Database, url: str) -> None:
    import procrastinate

    with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(url))):
        async with app.open_async():
            await defer_syncs(app, due_for_queue(db, dt.datetime.now(dt.UTC)))


if __name__ == "__main__":
    main()
