"""The web application: health, metrics, the REST API under /api/v1, and the provider connect callback."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text
from starlette.responses import Response

from staffsync.api import connections, employees, lifecycle, policies, syncs, webhooks
from staffsync.api.deps import ApiContext, ConnectorFor, WebhookConfig, webhook_config_from_environment
from staffsync.api.errors import install_error_handlers
from staffsync.api.metrics import ApiMetrics, MetricsMiddleware
from staffsync.api.rate_limits import RateLimits, install_rate_limits
from staffsync.api.routes import route_templates
from staffsync.api.schemas import ErrorEnvelope
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import ProviderSettings, build_connector
from staffsync.services.background_syncs import BackgroundSyncs
from staffsync.services.connect import ConnectFailed, KomboConnectApi, complete_kombo_connect
from staffsync.services.connection_setup import wait_for_launch
from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.web import employee_sync
from staffsync.web.app import install_web

API_PREFIX = "/api/v1"

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Bad request (e.g. a cursor this API did not return)",
        401: "Missing, unknown or revoked API token",
        403: "A viewer token tried to change something",
        404: "No such object in the caller's account",
        409: "Conflict: field_locked, sync_running, approval_conflict, run_not_held, …",
        422: "invalid_request (with details), invalid_field_settings (with the diagnostics), …",
        429: "rate_limited: too many failed tokens from this address, or Sync now / preview too often (Retry-After)",
    }.items()
}


def create_app(
    db: Database,
    *,
    kombo_connect: Callable[[], KomboConnectApi] | None = None,
    provider_settings: ProviderSettings | None = None,
    connector_for: ConnectorFor | None = None,
    webhook_config: WebhookConfig | None = None,
    rate_limits: RateLimits | None = None,
) -> FastAPI:
    """`connector_for` overrides how a stored connection becomes a connector (tests); by default the registry
    builds it with `provider_settings` (read from the environment when not given)."""
    app = FastAPI(title="staffsync", docs_url=None, redoc_url=None, openapi_url=f"{API_PREFIX}/openapi.json")
    metrics = ApiMetrics()
    # The Add source wizard asks Kombo for connect links through the same client as the callback.
    app.state.kombo_connect = kombo_connect
    app.state.api = ApiContext(
        db=db,
        connector_for=connector_for or _registry_connectors(provider_settings),
        metrics=metrics,
        syncs=BackgroundSyncs(db, on_finished=lambda outcome: metrics.sync_runs.labels(outcome.status).inc()),
        webhooks=(lambda: webhook_config) if webhook_config else webhook_config_from_environment,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=lambda: route_templates(app))
    install_error_handlers(app)
    install_rate_limits(app, rate_limits)
    install_web(app)

    api = APIRouter(prefix=API_PREFIX, responses=_ERRORS)
    routers = (connections, syncs, employees, lifecycle, webhooks, policies)
    for router in (module.router for module in routers):
        api.include_router(router)
    app.include_router(api)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any database failure is "not healthy", said without details
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return metrics.exposition()

    @app.get("/connect/kombo/callback", include_in_schema=False)
    def kombo_callback(request: Request, token: str = Query(min_length=1, max_length=512)) -> Response:
        """A signed-in admin goes on in the Add source wizard; a browser without a session (the admin finished
        Kombo's flow elsewhere, or a script) gets a plain page."""
        if kombo_connect is None:
            return _page("Kombo is not configured", "Set STAFFSYNC_KOMBO_API_KEY and try again.", status=503)
        try:
            with db.transaction() as session:
                connection = complete_kombo_connect(
                    session,
                    kombo_connect(),
                    token=token,
                    now=utc_now(),
                    schedule_minutes=app.state.api.default_schedule_minutes(),
                )
                wait_for_launch(session, connection)
                name, connection_id = connection.name, connection.id
        except ConnectFailed as error:
            return employee_sync.connect_failed_in_browser(request, str(error)) or _page(
                "The connection could not be completed", str(error), status=400
            )
        return employee_sync.connected_in_browser(request, connection) or _page(
            f"{name} is connected",
            f"Connection {connection_id} is ready for its first sync: `staffsync sync {connection_id}`.",
            status=200,
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title="staffsync",
                version=app.version,
                description='Every error answers `{"error": {"code", "message", "details"}}`. '
                "Another account's object is a 404, never a 403.",
                routes=app.routes,
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _registry_connectors(settings: ProviderSettings | None) -> ConnectorFor:
    def connector_for(connection: models.Connection, timezone: str) -> HRConnector:
        # Read on first use: the memory provider needs no settings, and tests build apps without an environment.
        from staffsync.settings import get_settings

        return build_connector(connection, settings=settings or get_settings(), timezone=timezone)

    return connector_for


def _page(title: str, message: str, *, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>staffsync</title>"
        f"<main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></main></html>"
    )
    return HTMLResponse(body, status_code=status)
