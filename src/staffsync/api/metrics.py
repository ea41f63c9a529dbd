"""Prometheus metrics of one application: requests by route template and status, sync runs by status.

Labels never carry ids or personal data: a route is its template (`/api/v1/employees/{id}`), never a path.
Each application has a registry of its own, so several apps (tests) in one process do not collide."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from staffsync.api.routes import RouteTemplate

UNMATCHED = "unmatched"


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "staffsync_http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "staffsync_http_request_duration_seconds",
            "HTTP request duration by route template",
            ["route"],
            registry=self.registry,
        )
        self.sync_runs = Counter(
            "staffsync_sync_runs_total",
            "Sync runs started or resolved through the API, by final status",
            ["status"],
            registry=self.registry,
        )

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI, so it sees the status of every response, the error envelopes included."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, routes: Callable[[], list[RouteTemplate]]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self._table: list[RouteTemplate] | None = None

    def template(self, scope: Scope) -> str:
        """The route's path template, matched as the router matches it; a method mismatch still names the route."""
        if self._table is None:  # routes are all registered by the first request
            self._table = self.routes()
        path, method = scope["path"], scope["method"]
        partial: str | None = None
        for route in self._table:
            if route.pattern.match(path):
                if method in route.methods or (method == "HEAD" and "GET" in route.methods):
                    return route.path
                partial = partial or route.path
        return partial or UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        template = self.template(scope)
        try:
            await self.app(scope, receive, observe)
        finally:
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - started)
