"""The web application: health, metrics-free for now, and the provider connect callback."""

from __future__ import annotations

import html
from collections.abc import Callable

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from staffsync.services.connect import ConnectFailed, KomboConnectApi, complete_kombo_connect
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now


def create_app(db: Database, *, kombo_connect: Callable[[], KomboConnectApi] | None = None) -> FastAPI:
    app = FastAPI(title="staffsync", docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any database failure is "not healthy", said without details
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/connect/kombo/callback", include_in_schema=False)
    def kombo_callback(token: str = Query(min_length=1, max_length=512)) -> HTMLResponse:
        if kombo_connect is None:
            return _page("Kombo is not configured", "Set STAFFSYNC_KOMBO_API_KEY and try again.", status=503)
        try:
            with db.transaction() as session:
                connection = complete_kombo_connect(session, kombo_connect(), token=token, now=utc_now())
                name, connection_id = connection.name, connection.id
        except ConnectFailed as error:
            return _page("The connection could not be completed", str(error), status=400)
        return _page(
            f"{name} is connected",
            f"Connection {connection_id} is ready for its first sync: `staffsync sync {connection_id}`.",
            status=200,
        )

    return app


def _page(title: str, message: str, *, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>staffsync</title>"
        f"<main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></main></html>"
    )
    return HTMLResponse(body, status_code=status)
