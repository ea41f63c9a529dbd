"""`staffsync worker`: runs sync jobs from the procrastinate queue (STAFFSYNC_QUEUE=procrastinate, PostgreSQL).

Start as many as the installation needs, on as many machines: every worker also takes its turn deferring
the due connections each minute, so none of them is special."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from staffsync.cli.output import CliError, note, usage_error
from staffsync.cli.runtime import load_settings, open_database


def worker_command(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Syncs this worker runs at once, each in a thread.")
    ] = 2,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once the queue is empty instead of waiting for more jobs.")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", min=1, max=65535, help="Serve this worker's Prometheus metrics on this port."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name in logs (default: host and process id).")] = None,
) -> None:
    """Run sync jobs from the procrastinate queue until stopped (Ctrl-C or SIGTERM let running syncs finish)."""
    import os

    from prometheus_client import CollectorRegistry, start_http_server

    from staffsync.api.metrics import ScheduleCollector, SyncMetrics
    from staffsync.storage.queue_schema import queue_schema_installed
    from staffsync.tasks import WorkerRuntime, run_worker

    settings = load_settings()
    if settings.queue != "procrastinate":
        raise usage_error(
            "staffsync worker runs the jobs of the procrastinate queue: set STAFFSYNC_QUEUE=procrastinate "
            "(with a PostgreSQL STAFFSYNC_DATABASE_URL); the embedded schedule runs inside `staffsync serve`"
        )
    with open_database() as db:
        if not db.is_postgresql:
            raise usage_error(
                "the procrastinate queue needs PostgreSQL: set STAFFSYNC_DATABASE_URL=postgresql+psycopg://…"
            )
        if not queue_schema_installed(db):
            raise CliError("the procrastinate queue's tables are missing: run `staffsync db upgrade` first")
        metrics = None
        if metrics_port is not None:
            registry = CollectorRegistry()
            metrics = SyncMetrics(registry)
            registry.register(ScheduleCollector(db))
            start_http_server(metrics_port, registry=registry)
        worker_name = name or f"{socket.gethostname()}:{os.getpid()}"
        note(
            f"Worker {worker_name}: running sync jobs, {concurrency} at a time"
            + (f", metrics on :{metrics_port}/metrics" if metrics_port else "")
            + (". Exits when the queue is empty." if burst else ". Ctrl-C stops.")
        )
        run_worker(WorkerRuntime(db, settings, metrics), concurrency=concurrency, wait=not burst, name=worker_name)
