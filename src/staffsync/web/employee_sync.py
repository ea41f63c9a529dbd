"""Settings → Employee Sync: the account's HR sources, and the "Add source" wizard (PRODUCT.md §3).

Provider → Authenticate → Select data → Filters → Preview → Launch. Every step after Authenticate
works on a stored connection and saves as it goes, so the wizard can be left and resumed ("Finish
setup" on the list). The Select data and Filters forms are partials (`_field_settings.html`,
`_filters.html`) built and read back by `settings_forms`, which the connection's "Update settings" shares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from staffsync.api.rate_limits import check_preview
from staffsync.connectors.base import FilterOptions
from staffsync.domain.fields import CATALOGUE, Diagnostic, FieldSettingsError
from staffsync.services import connection_setup as setup
from staffsync.services.background_syncs import SyncNotStarted
from staffsync.services.connect import WAITING_FOR_FIRST_SYNC, ConnectFailed, KomboConnectApi, start_kombo_connect
from staffsync.storage import connections as connection_store
from staffsync.storage import models, schedules
from staffsync.storage import runs as run_store
from staffsync.storage.locks import ConnectionBusy
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web import connection_detail as detail
from staffsync.web.auth import AdminAction, Browser, current_user, not_found
from staffsync.web.render import context_of, done, flash, redirect, render, templates

# Re-exported (`x as x`): connection_settings imported these from here before they moved to settings_forms.
from staffsync.web.settings_forms import MODE_LABELS as MODE_LABELS
from staffsync.web.settings_forms import FieldRow as FieldRow
from staffsync.web.settings_forms import field_rows as field_rows
from staffsync.web.settings_forms import field_settings_from_form as field_settings_from_form
from staffsync.web.settings_forms import filter_groups as filter_groups
from staffsync.web.settings_forms import filters_from_form as filters_from_form
from staffsync.web.settings_forms import rows_as_sent as rows_as_sent

router = APIRouter(include_in_schema=False)

BASE = "/settings/employee-sync"
CALLBACK = "/connect/kombo/callback"
PREVIEW_PAGE_SIZE = 25
NAV = "employee-sync"

# Kombo's tool ids (its `integration_tool`) of the HR systems admins ask for most; any other tool Kombo
# supports is picked on Kombo's own page ("Another system").
KOMBO_TOOLS: tuple[tuple[str, str], ...] = (
    ("personio", "Personio"),
    ("hibob", "HiBob"),
    ("bamboohr", "BambooHR"),
    ("workday", "Workday"),
    ("factorial", "Factorial"),
    ("successfactors", "SAP SuccessFactors"),
    ("adpworkforcenow", "ADP Workforce Now"),
    ("ukgpro", "UKG Pro"),
    ("dayforce", "Dayforce"),
    ("rippling", "Rippling"),
    ("deel", "Deel"),
    ("remotecom", "Remote"),
    ("gusto", "Gusto"),
    ("paylocity", "Paylocity"),
    ("oraclehcm", "Oracle HCM"),
    ("sagehr", "Sage HR"),
    ("lucca", "Lucca"),
    ("payfit", "PayFit"),
    ("kenjo", "Kenjo"),
    ("humaans", "Humaans"),
    ("nmbrs", "Nmbrs"),
    ("datevhr", "DATEV HR"),
    ("zohopeople", "Zoho People"),
)
# The registry's other provider, `memory`, is not offered: it would fill a real directory with fictional people
# (and announce their onboardings to webhooks). It stays a tool of `staffsync demo`, the CLI and the API.
TOOL_LABELS: Mapping[str, str] = dict(KOMBO_TOOLS)
OTHER_TOOL = "other"

STEPS = ("Provider", "Authenticate", "Select data", "Filters", "Preview", "Launch")

# --- shared plumbing ---------------------------------------------------------------------------------


async def _posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def step_url(connection_id: str, step: str) -> str:
    return f"{BASE}/{connection_id}/setup/{step}" if step != "preview" else f"{BASE}/{connection_id}/preview?setup=1"


def tool_label(connection: models.Connection) -> str:
    tool = connection.config.get("tool")
    if connection.provider == "kombo":
        return TOOL_LABELS.get(str(tool), str(tool).title()) if tool else "Kombo"
    return connection.provider.title()


def _kombo_connect(request: Request) -> Callable[[], KomboConnectApi] | None:
    factory: Callable[[], KomboConnectApi] | None = getattr(request.app.state, "kombo_connect", None)
    return factory


def _wizard(
    request: Request,
    template: str,
    user: SignedIn,
    *,
    step: int,
    connection: models.Connection | None = None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    return render(
        request,
        template,
        user,
        nav=NAV,
        status=status,
        step=step,
        steps=STEPS,
        connection=connection,
        tool_label=tool_label(connection) if connection is not None else None,
        **values,
    )


# --- the list ----------------------------------------------------------------------------------------

# The connection's state (domain.schedule.ConnectionState) as a badge: words and a colour.
STATE_BADGES: Mapping[str, tuple[str, str]] = {
    "ok": ("Active", "success"),
    "new": ("Active", "success"),
    "waiting": ("Waiting for the source", "info"),
    "failing": ("Failing", "warning"),
    "quarantined": ("Failing: retried daily", "warning"),
    "awaiting_review": ("Held for review", "warning"),
    "paused": ("Paused", "warning"),
    "broken": ("Broken", "danger"),
    "disconnected": ("Disconnected", ""),
}


@dataclass(frozen=True, slots=True)
class SourceCard:
    connection: models.Connection
    tool: str
    state: str
    status: detail.SyncStatus
    # The connection page's live status fragment, rendered: it polls itself while a run is going.
    status_html: str
    next_words: str
    next_due: dt.datetime | None

    @property
    def badge(self) -> tuple[str, str]:
        return STATE_BADGES.get(self.state, (self.state.replace("_", " ").capitalize(), ""))

    @property
    def setup_unfinished(self) -> bool:
        return not self.status.schedule.launched and self.connection.disconnected_at is None


@router.get(BASE)
def sources_page(request: Request, user: Browser) -> HTMLResponse:
    now = utc_now()
    cards = []
    with context_of(request).db.transaction() as session:
        for connection in connection_store.list_connections(session, user.account_id):
            status = detail.sync_status(session, connection, now, user.timezone)
            state = schedules.state_of(session, connection).value
            words, due = detail.next_sync(connection, status, held=state == "awaiting_review")
            fragment = detail.status_fragment(request, status)
            cards.append(
                SourceCard(connection, tool_label(connection), state, status, bytes(fragment.body).decode(), words, due)
            )
    return render(request, "employee_sync/list.html", user, nav=NAV, cards=cards)


# --- step 1: provider --------------------------------------------------------------------------------


@router.get(f"{BASE}/new")
def provider_step(request: Request, user: Browser) -> HTMLResponse:
    return _provider_page(request, user, tool="", name="")


def _provider_page(
    request: Request, user: SignedIn, *, tool: str, name: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    return _wizard(
        request,
        "employee_sync/provider.html",
        user,
        step=1,
        status=status,
        tools=KOMBO_TOOLS,
        other_tool=OTHER_TOOL,
        chosen_tool=tool,
        name=name,
        error=error,
        kombo_ready=_kombo_connect(request) is not None,
    )


@router.post(f"{BASE}/new")
def start_connect(
    request: Request,
    user: AdminAction,
    tool: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Step 2 is rendered here, not redirected to: the connect link exists only in this answer, and a
    redirect to Kombo after a form post would break the page's `form-action 'self'` policy."""
    factory = _kombo_connect(request)
    if tool != OTHER_TOOL and tool not in TOOL_LABELS:
        return _provider_page(request, user, tool="", name=name, error="Choose your HR system.", status=422)
    label = TOOL_LABELS.get(tool, "HR system")
    source_name = name.strip() or label
    if factory is None:
        return _provider_page(
            request,
            user,
            tool=tool,
            name=name,
            status=503,
            error="Kombo is not configured on this installation: set STAFFSYNC_KOMBO_API_KEY and restart staffsync.",
        )
    try:
        with context_of(request).db.transaction() as session:
            started = start_kombo_connect(
                session,
                factory(),
                account_id=user.account_id,
                tool=None if tool == OTHER_TOOL else tool,
                name=source_name,
                admin_email=user.email,
                actor=user.actor,
                now=utc_now(),
            )
    except ConnectFailed as error:
        return _provider_page(request, user, tool=tool, name=name, error=str(error), status=502)
    return _wizard(
        request,
        "employee_sync/authenticate.html",
        user,
        step=2,
        link=_returning_to(started.link, str(request.base_url).rstrip("/") + CALLBACK),
        tool=tool,
        tool_name=label if tool != OTHER_TOOL else None,
        source_name=source_name,
    )


def _returning_to(link: str, callback: str) -> str:
    """Kombo's hosted page is opened as a page of its own (the CSP loads no third-party script, so not
    Kombo's embedded SDK); `redirect_url` tells it where to bring the browser back with the token."""
    parts = urlsplit(link)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("redirect_url", callback)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- step 2's return: Kombo's callback ---------------------------------------------------------------


def connected_in_browser(request: Request, connection: models.Connection) -> Response | None:
    """A signed-in admin of the connection's account continues in the wizard; None for anyone else (the
    callback then answers with its plain page)."""
    user = current_user(request)
    if user is None or user.account_id != connection.account_id:
        return None
    if connection.status == "waiting":
        message = (
            f"{connection.name} is connected. {WAITING_FOR_FIRST_SYNC}: the filters and the preview can read "
            "your people once it is done, usually within minutes. Meanwhile, choose which data to sync."
        )
        return done(request, user, step_url(connection.id, "fields"), message, kind="info")
    message = f"{connection.name} is connected. Now choose which data to sync."
    return done(request, user, step_url(connection.id, "fields"), message)


def connect_failed_in_browser(request: Request, message: str) -> Response | None:
    user = current_user(request)
    if user is None:
        return None
    return _wizard(request, "employee_sync/connect_failed.html", user, step=2, status=400, message=message)


# --- step 3: select data -----------------------------------------------------------------------------


@router.get(BASE + "/{id}/setup")
def resume_setup(request: Request, id: str, user: Browser) -> Response:
    with context_of(request).db.transaction() as session:
        detail.scoped_connection(session, user.account_id, id)
    return redirect(step_url(id, "fields"))


@router.get(BASE + "/{id}/setup/fields")
def fields_step(request: Request, id: str, user: Browser) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        settings = connection_store.field_settings_of(connection)
    return _fields_page(request, user, connection, field_rows(settings), settings.diagnostics())


def _fields_page(
    request: Request,
    user: SignedIn,
    connection: models.Connection,
    rows: list[FieldRow],
    diagnostics: list[Diagnostic],
    *,
    status: int = 200,
) -> HTMLResponse:
    return _wizard(
        request,
        "employee_sync/fields.html",
        user,
        step=3,
        connection=connection,
        status=status,
        fields=rows,
        diagnostics=diagnostics,
        check_url=f"{BASE}/{connection.id}/setup/fields/check",
        mode_labels=MODE_LABELS,
    )


@router.post(BASE + "/{id}/setup/fields")
def save_fields(request: Request, id: str, user: AdminAction, form: PostedForm) -> Response:
    with context_of(request).db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        try:
            settings = field_settings_from_form(form)
        except FieldSettingsError as error:
            # The form as sent, so the admin sees what was refused next to why.
            rows = rows_as_sent(form, connection_store.field_settings_of(connection))
            return _fields_page(request, user, connection, rows, list(error.problems), status=422)
        purged = connection_store.save_field_settings(session, connection, settings, now=utc_now())
        launched = setup.sync_schedule(session, connection).launched
    for problem in settings.diagnostics():
        flash(request, user, problem.message, kind="warning")
    message = "Data selection saved."
    if purged and launched:
        labels = ", ".join(spec.label for spec in CATALOGUE if spec.name in purged)
        message += f" The stored values of {labels} were deleted from the directory."
    return done(request, user, step_url(id, "filters"), message)


@router.post(BASE + "/{id}/setup/fields/check")
def check_fields(request: Request, id: str, user: AdminAction, form: PostedForm) -> HTMLResponse:
    """The warnings of the settings being edited, before they are saved. It changes nothing, but like every
    post it carries the CSRF token; only admins edit the form that asks."""
    with context_of(request).db.transaction() as session:
        detail.scoped_connection(session, user.account_id, id)
    try:
        diagnostics = field_settings_from_form(form).diagnostics()
    except FieldSettingsError as error:
        diagnostics = list(error.problems)
    return templates.TemplateResponse(request, "employee_sync/_field_diagnostics.html", {"diagnostics": diagnostics})


# --- step 4: filters ---------------------------------------------------------------------------------


@router.get(BASE + "/{id}/setup/filters")
def filters_step(request: Request, id: str, user: Browser) -> HTMLResponse:
    context = context_of(request)
    problem: str | None = None
    options: FilterOptions | None = None
    with context.db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        rules = connection_store.filters_of(connection)
        try:
            connector = setup.open_connector(context.connector_for, session, connection)
        except setup.SourceUnavailable as error:
            problem = str(error)
    if problem is None:
        try:
            options = setup.read_filter_options(connector)
        except setup.SourceUnavailable as error:
            problem = str(error)
    return _wizard(
        request,
        "employee_sync/filters.html",
        user,
        step=4,
        connection=connection,
        groups=filter_groups(options, rules),
        source_problem=problem,
    )


@router.post(BASE + "/{id}/setup/filters")
def save_filters(request: Request, id: str, user: AdminAction, form: PostedForm) -> Response:
    with context_of(request).db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        rules = filters_from_form(form)
        connection_store.save_filters(session, connection, rules, now=utc_now())
    message = "Filters saved." if not rules.restricts_nothing else "Filters saved: everyone in the source is included."
    return done(request, user, step_url(id, "preview"), message + " Check who is included before you launch.")


# --- step 5: preview (also a page of its own) --------------------------------------------------------


@router.get(BASE + "/{id}/preview")
def preview_page(
    request: Request,
    id: str,
    user: Browser,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[Literal["", "included", "excluded"], Query()] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    setup_mode: Annotated[bool, Query(alias="setup")] = False,
) -> HTMLResponse:
    context = context_of(request)
    page: setup.PreviewPage | None = None
    problem: str | None = None
    with context.db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        check_preview(request, user.account_id)
        settings = connection_store.field_settings_of(connection)
        rules = connection_store.filters_of(connection)
        try:
            connector = setup.open_connector(context.connector_for, session, connection)
        except setup.SourceUnavailable as error:
            problem = str(error)
    if problem is None:
        try:
            page = setup.preview_page(
                connector,
                settings,
                rules,
                setup.PreviewQuery(last_name=q, status=status or None),
                offset=offset,
                limit=PREVIEW_PAGE_SIZE,
            )
        except setup.SourceUnavailable as error:
            problem = str(error)

    def page_url(at: int) -> str:
        params = {"q": q, "status": status, "offset": str(at), "setup": "1" if setup_mode else ""}
        return f"{BASE}/{id}/preview?" + urlencode({k: v for k, v in params.items() if v and v != "0"})

    values: dict[str, Any] = {
        "page": page,
        "source_problem": problem,
        "q": q,
        "wanted_status": status,
        "setup_mode": setup_mode,
        "rules": rules,
        "next_url": page_url(offset + PREVIEW_PAGE_SIZE) if page is not None and page.has_next else None,
        "prev_url": page_url(max(offset - PREVIEW_PAGE_SIZE, 0)) if offset > 0 else None,
        "page_size": PREVIEW_PAGE_SIZE,
    }
    if request.headers.get("HX-Target") == "preview-results":
        return templates.TemplateResponse(
            request,
            "employee_sync/_preview_swap.html",
            {**values, "connection": connection, "user": user, "csrf_token": user.csrf_token},
        )
    return _wizard(request, "employee_sync/preview.html", user, step=5, connection=connection, **values)


# --- step 6: launch ----------------------------------------------------------------------------------


@router.get(BASE + "/{id}/setup/launch")
def launch_step(
    request: Request, id: str, user: Browser, run: Annotated[str | None, Query(max_length=64)] = None
) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        settings = connection_store.field_settings_of(connection)
        rules = connection_store.filters_of(connection)
        shown = _scoped_run(session, connection, run) if run else None
        schedule = setup.sync_schedule(session, connection)
        if shown is None:
            shown = schedule.running or schedule.last_run
    return _wizard(
        request,
        "employee_sync/launch.html",
        user,
        step=6,
        connection=connection,
        run=shown,
        counts=run_store.run_counts(shown) if shown is not None else None,
        synced_fields=sorted(settings.enabled_fields(), key=[s.name for s in CATALOGUE].index),
        field_labels={spec.name: spec.label for spec in CATALOGUE},
        groups=filter_groups(None, rules),
        rules=rules,
        diagnostics=settings.diagnostics(),
    )


def _scoped_run(session: Session, connection: models.Connection, run_id: str) -> models.SyncRun:
    found = run_store.get_run(session, connection.account_id, run_id)
    if found is None or found.connection_id != connection.id:
        raise not_found()
    return found


@router.post(BASE + "/{id}/setup/launch")
def launch(request: Request, id: str, user: AdminAction) -> Response:
    context = context_of(request)
    here = step_url(id, "launch")
    with context.db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        name = connection.name
        problem, connector = detail.sync_connector(context, session, connection)
    if connector is None:
        return done(request, user, here, problem or f"{name} cannot sync", kind="error")
    try:
        run_id = context.syncs.start(id, account_id=user.account_id, connector=connector, trigger="ui")
    except SyncNotStarted as error:
        if isinstance(error.cause, ConnectionBusy):
            return done(request, user, here, f"A sync of {name} is already running: its progress is below.", "info")
        return done(request, user, here, detail.not_started_words(error, name), kind="error")
    return done(request, user, f"{here}?run={run_id}", f"The first sync of {name} has started.")


@router.get(BASE + "/{id}/setup/runs/{run_id}")
def run_progress(request: Request, id: str, run_id: str, user: Browser) -> HTMLResponse:
    """The progress card alone, polled by the launch page until the run ends."""
    with context_of(request).db.transaction() as session:
        connection = detail.scoped_connection(session, user.account_id, id)
        shown = _scoped_run(session, connection, run_id)
    return templates.TemplateResponse(
        request,
        "employee_sync/_run_progress.html",
        {
            "connection": connection,
            "run": shown,
            "counts": run_store.run_counts(shown),
            "now": utc_now(),
            "user": user,
            "csrf_token": user.csrf_token,
        },
    )
