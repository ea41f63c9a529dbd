"""`staffsync serve`: the web server and API. With STAFFSYNC_QUEUE=embedded (the default) it also runs the
schedule (syncs and webhook deliveries); with STAFFSYNC_QUEUE=procrastinate it only defers jobs, and
`staffsync worker` processes run them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from staffsync.cli.output import CliError, note, usage_error
from staffsync.cli.runtime import load_settings, open_database
from staffsync.settings import Settings
from staffsync.storage.db import Database


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=64,
            help="Embedded schedule: syncs run at once (default: 2 on SQLite, 4 on PostgreSQL).",
        ),
    ] = None,
) -> None:
    """Serve the web UI and API; with STAFFSYNC_QUEUE=embedded, also run every connection on its schedule."""
    # Imported here: the web stack takes a while to import, and other commands never need it.
    import uvicorn

    from staffsync.api.app import create_app
    from staffsync.api.rate_limits import RateLimits
    from staffsync.connectors.kombo.connect import KomboConnectClient

    settings = load_settings()
    with open_database() as db:
        api_key = settings.kombo_api_key
        connect = KomboConnectClient(api_key, server_url=settings.kombo_base_url) if api_key else None
        limits = RateLimits(
            sync_starts_per_minute=settings.sync_starts_per_minute, previews_per_minute=settings.previews_per_minute
        )
        app = create_app(
            db, kombo_connect=(lambda: connect) if connect else None, provider_settings=settings, rate_limits=limits
        )
        runner = _embedded_schedule if settings.queue == "embedded" else _queued_syncs
        with runner(app, db, settings, concurrency) as mode:
            note(f"Serving on http://{host}:{port} (health: /healthz, API: /api/v1); {mode}. Ctrl-C stops.")
            uvicorn.run(app, host=host, port=port, log_level="warning")


@contextmanager
def _embedded_schedule(app: Any, db: Database, settings: Settings, concurrency: int | None) -> Iterator[str]:
    from staffsync.crypto import CredentialCipher
    from staffsync.scheduler import EmbeddedScheduler
    from staffsync.sync.scheduled_run import RegistryConnectors
    from staffsync.webhooks.delivery import WebhookDispatcher
    from staffsync.webhooks.policy import RetryPolicy

    dispatcher = WebhookDispatcher(
        db,
        CredentialCipher.from_settings(settings),
        allow_private=settings.webhooks_allow_private,
        policy=RetryPolicy.spanning(dt.timedelta(hours=settings.webhooks_retry_hours)),
    )
    scheduler = EmbeddedScheduler(
        db,
        RegistryConnectors(db, settings),
        concurrency=concurrency,
        jobs=[dispatcher],
        metrics=app.state.api.metrics,
    )
    scheduler.start()
    try:
        yield f"syncing on schedule, {scheduler.concurrency} at a time"
    finally:
        scheduler.stop()


@contextmanager
def _queued_syncs(app: Any, db: Database, settings: Settings, concurrency: int | None) -> Iterator[str]:
    from staffsync.services.queued_syncs import QueuedSyncs
    from staffsync.storage.queue_schema import queue_schema_installed
    from staffsync.tasks import queue_app

    if concurrency is not None:
        raise usage_error(
            "--concurrency sets the embedded schedule; with STAFFSYNC_QUEUE=procrastinate, "
            "use `staffsync worker --concurrency`"
        )
    if not db.is_postgresql:
        raise usage_error(
            "STAFFSYNC_QUEUE=procrastinate needs PostgreSQL: set STAFFSYNC_DATABASE_URL=postgresql+psycopg://…"
        )
    if not queue_schema_installed(db):
        raise CliError("the procrastinate queue's tables are missing: run `staffsync db upgrade` first")
    with queue_app(db.url.render_as_string(hide_password=False)) as queue:
        app.state.api.syncs = QueuedSyncs(db, queue)
        app.state.api.metrics.watch_schedule(db)
        yield "syncs run by `staffsync worker` (procrastinate queue)"
