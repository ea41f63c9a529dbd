"""`staffsync serve`: the web server and API, with the embedded schedule (syncs and webhook deliveries)."""

from __future__ import annotations

from typing import Annotated

import typer

from staffsync.cli.output import CliError, note
from staffsync.cli.runtime import load_settings, open_database
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import build_connector
from staffsync.settings import Settings
from staffsync.storage import models
from staffsync.storage.db import Database


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web UI and API; with STAFFSYNC_QUEUE=embedded, also run every connection on its schedule."""
    # Imported here: the web stack takes a while to import, and other commands never need it.
    import uvicorn

    from staffsync.api.app import create_app
    from staffsync.connectors.kombo.connect import KomboConnectClient
    from staffsync.crypto import CredentialCipher
    from staffsync.scheduler import EmbeddedScheduler
    from staffsync.webhooks.delivery import WebhookDispatcher

    settings = load_settings()
    if settings.queue != "embedded":
        raise CliError(
            "STAFFSYNC_QUEUE=procrastinate needs `staffsync worker`, which this version does not ship yet; "
            "set STAFFSYNC_QUEUE=embedded"
        )
    with open_database() as db:
        api_key = settings.kombo_api_key
        connect = KomboConnectClient(api_key, server_url=settings.kombo_base_url) if api_key else None
        app = create_app(db, kombo_connect=(lambda: connect) if connect else None, provider_settings=settings)
        dispatcher = WebhookDispatcher(
            db, CredentialCipher.from_settings(settings), allow_private=settings.webhooks_allow_private
        )
        scheduler = EmbeddedScheduler(db, ScheduledConnectors(db, settings), jobs=[dispatcher])
        scheduler.start()
        note(f"Serving on http://{host}:{port} (health: /healthz, API: /api/v1); syncing on schedule. Ctrl-C stops.")
        try:
            uvicorn.run(app, host=host, port=port, log_level="warning")
        finally:
            scheduler.stop()


class ScheduledConnectors:
    """Builds a scheduled connection's connector with the installation settings and its account's time zone."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def __call__(self, connection: models.Connection) -> HRConnector:
        with self.db.session() as session:
            account = session.get(models.Account, connection.account_id)
            timezone = account.timezone if account is not None else "UTC"
        return build_connector(connection, settings=self.settings, timezone=timezone)
