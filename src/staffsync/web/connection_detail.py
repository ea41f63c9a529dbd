"""The page of one HR source (PRODUCT.md §3.6, §4, §7): its status and Sync now, its runs and what each
changed, held runs to approve or discard, and disconnecting it. Its settings, changed only after a dry run
has shown their effect, are in `connection_settings`, included here.

The live status fragment (`GET …/{id}/status`) is also used by the Employee Sync list: it is always one
`<div id="sync-status-{id}">`, which polls itself every 2 s while a run is going.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from staffsync.api.deps import ApiContext
from staffsync.api.rate_limits import check_sync_start
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import ProviderNotInstalled, UnknownProvider, get_provider
from staffsync.services import connection_setup as setup
from staffsync.services.background_syncs import SyncNotStarted
from staffsync.services.connection_setup import SyncSchedule, sync_schedule
from staffsync.services.disconnect import disconnect
from staffsync.services.erase import erase_scope, erase_source
from staffsync.storage import accounts as account_store
from staffsync.storage import api_queries, models, schedules
from staffsync.storage import connections as connection_store
from staffsync.storage import employees as employee_store
from staffsync.storage import runs as run_store
from staffsync.storage.locks import ConnectionBusy
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import ConnectionDisconnected, utc_now
from staffsync.web.auth import AdminAction, Browser, not_found
from staffsync.web.render import context_of, done, render, templates
from staffsync.web.run_display import TRIGGERS, plural, run_duration, span

router = APIRouter(include_in_schema=False)

BASE = "/settings/employee-sync"
RUNS_PER_PAGE = 20

# Where a connection stands (domain.schedule.ConnectionState), as a badge: words and a colour.
CONNECTION_STATES = {
    "ok": ("Active", "success"),
    "new": ("Not synced yet", "info"),
    "waiting": ("Waiting for the source", "info"),
    "failing": ("Failing", "warning"),
    "quarantined": ("Failing: retried daily", "warning"),
    "awaiting_review": ("Held for review", "warning"),
    "paused": ("Paused", "warning"),
    "broken": ("Broken", "danger"),
    "disconnected": ("Disconnected", ""),
}


def connection_url(connection_id: str, tail: str = "") -> str:
    return f"{BASE}/{connection_id}{tail}"


def run_url(run: models.SyncRun) -> str:
    return connection_url(run.connection_id, f"/runs/{run.id}")


def scoped_connection(session: Session, account_id: str, connection_id: str) -> models.Connection:
    connection = connection_store.get_connection(session, account_id, connection_id)
    if connection is None:
        raise not_found()
    return connection


def scoped_run(session: Session, account_id: str, connection_id: str, run_id: str) -> models.SyncRun:
    run = run_store.get_run(session, account_id, run_id)
    if run is None or run.connection_id != connection_id:
        raise not_found()
    return run


# --- words for the connection -----------------------------------------------------------------------------


def schedule_words(minutes: int) -> str:
    if minutes == 60:
        return "Every hour"
    if minutes % 1440 == 0:
        return "Every day" if minutes == 1440 else f"Every {minutes // 1440} days"
    if minutes % 60 == 0:
        return f"Every {minutes // 60} hours"
    return f"Every {minutes} minutes"


def provider_words(connection: models.Connection) -> str:
    try:
        label = get_provider(connection.provider).label
    except (UnknownProvider, ProviderNotInstalled):
        label = connection.provider
    tool = connection.config.get("tool")
    return f"{label} · {str(tool).replace('_', ' ').title()}" if tool else label


# --- the live status ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the status fragment shows: the run going on now, else the last real run's result."""

    connection_id: str
    schedule: SyncSchedule
    now: dt.datetime
    timezone: str
    disconnected: bool = False

    @property
    def running(self) -> models.SyncRun | None:
        return self.schedule.running

    @property
    def last(self) -> models.SyncRun | None:
        return self.schedule.last_run

    @property
    def running_for(self) -> str:
        assert self.running is not None
        return span((self.now - self.running.started_at).total_seconds())


def sync_status(
    session: Session, connection: models.Connection, now: dt.datetime, timezone: str | None = None
) -> SyncStatus:
    """`timezone`: the account's, for exact times in tooltips; looked up when not given."""
    if timezone is None:
        account = account_store.get_account(session, connection.account_id)
        timezone = account.timezone if account is not None else "UTC"
    return SyncStatus(
        connection.id,
        sync_schedule(session, connection),
        now,
        timezone,
        disconnected=connection.disconnected_at is not None,
    )


def status_fragment(
    request: Request, status: SyncStatus, *, polled: bool = False, notice: str | None = None
) -> Response:
    """Rendered outside the page layout, so it never takes the flash messages meant for the next page."""
    response = templates.TemplateResponse(
        request,
        "connection/_status.html",
        {"sync": status, "notice": notice, "duration": run_duration, "triggers": TRIGGERS},
    )
    if polled and status.running is None:
        # The run the page was watching has ended: pages listening for this refresh their runs and counts.
        response.headers["HX-Trigger"] = "sync-finished"
    return response


@router.get("/settings/employee-sync/{id}/status")
def status(
    request: Request, id: str, user: Browser, polled: Annotated[bool, Query(alias="running")] = False
) -> Response:
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        fresh = sync_status(session, connection, utc_now(), user.timezone)
        return status_fragment(request, fresh, polled=polled)


@router.post("/settings/employee-sync/{id}/sync")
def sync_now(
    request: Request,
    id: str,
    user: AdminAction,
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Starts a sync in the background. A form post ends on the connection page (or `next`, a page of
    Employee Sync) with a flash; an htmx post gets the status fragment back, saying what happened."""
    context = context_of(request)
    # Only a page of Employee Sync is a place to return to: never another site (open redirect).
    local = next is not None and next.startswith(BASE) and "//" not in next and "\\" not in next
    back = next if next is not None and local else connection_url(id)
    with context.db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        check_sync_start(request, user.account_id, id)
        name = connection.name
        problem, connector = sync_connector(context, session, connection)
    if connector is not None:
        try:
            context.syncs.start(id, account_id=user.account_id, connector=connector, trigger="ui")
            problem = None
        except SyncNotStarted as error:
            problem = not_started_words(error, name)
    message, kind = (problem, "error") if problem else (f"Sync of {name} started", "success")
    if request.headers.get("HX-Request") == "true":
        with context.db.transaction() as session:
            connection = scoped_connection(session, user.account_id, id)
            fresh = sync_status(session, connection, utc_now(), user.timezone)
        return status_fragment(request, fresh, notice=problem)
    return done(request, user, back, message, kind=kind)


def sync_connector(
    context: ApiContext, session: Session, connection: models.Connection
) -> tuple[str | None, HRConnector | None]:
    """The connector to sync with, or why the connection cannot sync, in words for a flash message."""
    if connection.disconnected_at is not None:
        return f"{connection.name} is disconnected: it no longer syncs", None
    try:
        return None, setup.open_connector(context.connector_for, session, connection)
    except setup.SourceUnavailable as error:
        return str(error), None


def not_started_words(error: SyncNotStarted, name: str) -> str:
    if isinstance(error.cause, ConnectionBusy):
        return f"A sync of {name} is already running: wait for it to finish"
    if isinstance(error.cause, ConnectionDisconnected):
        return f"{name} is disconnected: it no longer syncs"
    if isinstance(error.cause, LookupError):
        raise not_found()
    return f"The sync of {name} could not start: {error}"


# --- the connection page -----------------------------------------------------------------------------


def next_sync(connection: models.Connection, status: SyncStatus, *, held: bool) -> tuple[str, dt.datetime | None]:
    """When the schedule runs this connection next: the moment, or in words why there is none."""
    due = status.schedule.next_due
    if connection.disconnected_at is not None:
        return "Never: the source is disconnected", None
    if connection.status == "broken":
        return "Paused until the connection is fixed", None
    if connection.paused_at is not None:
        return "Paused: syncs resume when an admin resumes them", None
    if status.running is not None and not status.running.dry_run:
        return "After the run going on now", None
    if due is None and held:
        return "Paused until the held run is approved or discarded", None
    if due is None:
        return ("Not scheduled", None) if status.schedule.launched else ("After the first sync", None)
    return ("Due now", None) if due <= status.now else ("", due)


@router.get("/settings/employee-sync/{id}")
def connection_page(
    request: Request, id: str, user: Browser, start: Annotated[int, Query(alias="from", ge=0)] = 0
) -> HTMLResponse:
    now = utc_now()
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        status = sync_status(session, connection, now, user.timezone)
        window = api_queries.page_runs(session, user.account_id, id, offset=start, limit=RUNS_PER_PAGE + 1)
        runs = window[:RUNS_PER_PAGE]
        held = run_store.held_runs(session, user.account_id, id)
        state = schedules.state_of(session, connection).value
        next_words, next_due = next_sync(connection, status, held=bool(held))
        return render(
            request,
            "connection/detail.html",
            user,
            nav="employee-sync",
            connection=connection,
            provider=provider_words(connection),
            state=CONNECTION_STATES.get(state, (state.replace("_", " ").capitalize(), "")),
            sync=status,
            held=held,
            runs=runs,
            start=start,
            more=len(window) > RUNS_PER_PAGE,
            page_size=RUNS_PER_PAGE,
            next_words=next_words,
            next_due=next_due,
            schedule=schedule_words(connection.schedule_minutes),
            duration=run_duration,
            triggers=TRIGGERS,
            base=connection_url(id),
        )


# --- disconnecting ------------------------------------------------------------------------------------------


@router.get("/settings/employee-sync/{id}/disconnect")
def disconnect_page(request: Request, id: str, user: Browser) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        linked = employee_store.count_active_links(session, user.account_id, id)
        scope = erase_scope(session, user.account_id, id)
        return render(
            request,
            "connection/disconnect.html",
            user,
            nav="employee-sync",
            connection=connection,
            linked=linked,
            linked_ever=scope.linked,
            only_here=scope.only_here,
            base=connection_url(id),
        )


@router.post("/settings/employee-sync/{id}/disconnect")
def disconnect_connection(
    request: Request,
    id: str,
    user: AdminAction,
    choice: Annotated[str, Form()] = "keep",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    context = context_of(request)
    with context.db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        name, already = connection.name, connection.disconnected_at is not None
        linked = employee_store.count_active_links(session, user.account_id, id)
    if choice == "erase":
        return _erase(request, user, id, name, confirm)
    if already:
        return done(request, user, connection_url(id), f"{name} was already disconnected.", kind="info")
    try:
        disconnect(context.db, user.account_id, id, now=utc_now())
    except ConnectionBusy:
        return done(
            request,
            user,
            connection_url(id),
            f"A sync of {name} is running: disconnect again once it has finished.",
            kind="error",
        )
    return done(
        request,
        user,
        connection_url(id),
        f"{name} is disconnected: it no longer syncs. Its {plural(linked, 'linked person', 'linked people')} "
        "stay in the directory; those no other source feeds are detached.",
    )


def _erase(request: Request, user: SignedIn, id: str, name: str, confirm: str) -> Response:
    if confirm.strip() != name:
        return done(
            request,
            user,
            connection_url(id, "/disconnect"),
            f"Nothing was erased: type the source's name, {name}, to confirm.",
            kind="error",
        )
    try:
        erase_source(context_of(request).db, user.account_id, id, now=utc_now())
    except ConnectionBusy:
        return done(
            request,
            user,
            connection_url(id),
            f"A sync of {name} is running: erase again once it has finished.",
            kind="error",
        )
    return done(request, user, BASE, f"{name} is deleted, with everything it brought into the directory.")
