"""Prometheus metrics: requests by route template and status; the syncs this process ran (runs by status,
durations, people synced); and, read from the database at each scrape, every connection's state, the
backlog of due connections and the runs going on — the same figures whichever process runs the syncs.

Labels never carry ids or personal data: a route is its template (`/api/v1/employees/{id}`), never a path.
Each application (and each worker) has a registry of its own, so several in one process do not collide."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from staffsync.api.routes import RouteTemplate
from staffsync.storage import schedules
from staffsync.storage.db import Database
from staffsync.sync.engine import SyncOutcome, utc_now

log = logging.getLogger(__name__)

UNMATCHED = "unmatched"
# A sync takes from a second (a small incremental fetch) to the better part of an hour (100,000 people).
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
SYNCED_CHANGES = ("created", "updated", "unchanged", "detached")


class SyncMetrics:
    """The syncs run in this process (embedded schedule, worker, Sync now)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter("staffsync_sync_runs_total", "Sync runs by final status", ["status"], registry=registry)
        self.duration = Histogram(
            "staffsync_sync_duration_seconds",
            "Duration of sync runs, from the lock to the recorded outcome",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.employees = Counter(
            "staffsync_employees_synced_total",
            "People that applied sync runs created, updated, left unchanged or detached",
            ["change"],
            registry=registry,
        )

    def observe(self, outcome: SyncOutcome | None, *, duration_s: float, crashed: bool = False) -> None:
        if outcome is None:
            if crashed:
                self.runs.labels("failed").inc()
                self.duration.observe(duration_s)
            return
        self.runs.labels(outcome.status).inc()
        self.duration.observe(duration_s)
        if outcome.status == "succeeded" and not outcome.dry_run:
            for change in SYNCED_CHANGES:
                self.employees.labels(change).inc(outcome.counts.get(change, 0))


class ScheduleCollector(Collector):
    """Read at scrape time from the database, so any process (web, worker) reports the whole installation."""

    def __init__(self, db: Database, now: Callable[[], dt.datetime] = utc_now) -> None:
        self.db = db
        self.now = now

    def describe(self) -> Iterator[Metric]:
        # Described without a database round trip: registering must not query.
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        connections, depth, running = self._families()
        try:
            with self.db.session() as session:
                figures = schedules.overview(session, self.now())
        except Exception:  # a scrape must answer even when the database does not
            log.warning("schedule metrics unavailable: the database did not answer")
            return
        for state, count in figures.states.items():
            connections.add_metric([state], count)
        depth.add_metric([], figures.waiting)
        running.add_metric([], figures.running)
        yield from (connections, depth, running)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "staffsync_connections", "Connections by state (ok, failing, quarantined, paused, …)", labels=["status"]
            ),
            GaugeMetricFamily("staffsync_sync_queue_depth", "Connections due for a sync that is not running yet"),
            GaugeMetricFamily("staffsync_syncs_running", "Sync runs going on now"),
        )


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
        self.syncs = SyncMetrics(self.registry)
        self.sync_runs = self.syncs.runs
        self._watched = False

    def watch_schedule(self, db: Database) -> None:
        """Adds the connection, backlog and running gauges of this installation (once)."""
        if not self._watched:
            self.registry.register(ScheduleCollector(db))
            self._watched = True

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
