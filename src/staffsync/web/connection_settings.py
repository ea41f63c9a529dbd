"""Update settings of a connection (PRODUCT.md §3.3 to 3.5, §4 "Dry run"): the field settings and filters forms.
A submitted proposal is not saved: a dry run plans with it, and a review shows what the next sync would do and
what switching fields off erases. Save stores exactly the reviewed proposal, carried in the review's hidden
fields and validated again."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from staffsync.connectors.base import FilterOptions
from staffsync.domain.fields import CATALOGUE, Diagnostic, FieldSettings, FieldSettingsError
from staffsync.domain.filters import FilterRules
from staffsync.services import connection_setup as setup
from staffsync.services.background_syncs import SyncNotStarted
from staffsync.storage import api_queries, models
from staffsync.storage import connections as connection_store
from staffsync.storage import runs as run_store
from staffsync.storage.runs import ChangeStatus
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import ProposedSettings, utc_now
from staffsync.web.auth import AdminAction, Browser
from staffsync.web.connection_detail import (
    connection_url,
    not_started_words,
    run_url,
    scoped_connection,
    scoped_run,
    sync_connector,
)
from staffsync.web.render import context_of, done, render, templates
from staffsync.web.run_display import ChangeRow, change_rows, plural, span
from staffsync.web.settings_forms import (
    MODE_LABELS,
    FieldRow,
    field_rows,
    field_settings_from_form,
    filter_groups,
    filters_from_form,
    rows_as_sent,
)

router = APIRouter(include_in_schema=False)

PLAN_CHANGES_SHOWN = 50
FILTER_LABELS = {"legal_entities": "Legal entities", "employment_types": "Employment types", "teams": "Teams"}


async def _posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def proposal_from_form(form: FormData) -> ProposedSettings:
    """The settings form, and the review's hidden copy of it, read the same way. Raises FieldSettingsError."""
    return ProposedSettings(field_settings_from_form(form), filters_from_form(form))


def proposal_as_form(proposed: ProposedSettings) -> list[tuple[str, str]]:
    """The hidden fields that carry a proposal from the review to Save, in the settings form's own names."""
    pairs: list[tuple[str, str]] = []
    for spec in CATALOGUE:
        setting = proposed.fields[spec.name]
        pairs.append(("field", spec.name))
        if setting.enabled:
            pairs.append((f"enabled_{spec.name}", "on"))
        pairs.append((f"mode_{spec.name}", setting.mode.value))
    for key, values in proposed.filters.to_mapping().items():
        pairs.extend((key, value) for value in values)
    return pairs


@dataclass(frozen=True, slots=True)
class SettingChange:
    label: str
    before: str
    after: str


def _field_words(settings: FieldSettings, name: str) -> str:
    setting = settings[name]
    return f"Synced · {MODE_LABELS[setting.mode]}" if setting.enabled else "Off"


def setting_changes(
    current: ProposedSettings, proposed: ProposedSettings, options: FilterOptions | None
) -> list[SettingChange]:
    """Each field and filter the proposal changes, before and after, with the source's names for filter values."""
    changes = [
        SettingChange(spec.label, _field_words(current.fields, spec.name), _field_words(proposed.fields, spec.name))
        for spec in CATALOGUE
        if current.fields[spec.name] != proposed.fields[spec.name]
    ]
    before, after = current.filters.to_mapping(), proposed.filters.to_mapping()
    for key, label in FILTER_LABELS.items():
        if before[key] != after[key]:
            names = {option.id: option.name for option in getattr(options, key, ())} if options else {}

            def words(ids: list[str], names: dict[str, str] = names) -> str:
                return ", ".join(names.get(value, value) for value in ids) or "All (no restriction)"

            changes.append(SettingChange(f"Filter: {label}", words(before[key]), words(after[key])))
    return changes


@dataclass(frozen=True, slots=True)
class Purge:
    label: str
    people: int


def purges(
    session: Session, connection: models.Connection, current: FieldSettings, proposed: FieldSettings
) -> list[Purge]:
    """What saving would erase at once: the values of every field the proposal switches off."""
    off = proposed.switched_off(current)
    counts = connection_store.count_purgeable(session, connection.account_id, connection.id, off)
    return [Purge(spec.label, counts.get(spec.name, 0)) for spec in CATALOGUE if spec.name in off]


# --- the form ---------------------------------------------------------------------------------------------


def _read_options(request: Request, connection: models.Connection) -> tuple[FilterOptions | None, str | None]:
    """The filter values the source offers, or why they could not be read; no transaction stays open meanwhile."""
    context = context_of(request)
    try:
        with context.db.transaction() as session:
            connector = setup.open_connector(context.connector_for, session, connection)
        return setup.read_filter_options(connector), None
    except setup.SourceUnavailable as error:
        return None, str(error)


def _settings_form(
    request: Request,
    user: SignedIn,
    connection: models.Connection,
    *,
    rows: list[FieldRow],
    diagnostics: list[Diagnostic],
    rules: FilterRules,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    options, source_problem = _read_options(request, connection)
    base = connection_url(connection.id)
    return render(
        request,
        "connection/settings.html",
        user,
        nav="employee-sync",
        status=status,
        connection=connection,
        fields=rows,
        diagnostics=diagnostics,
        check_url=f"{base}/setup/fields/check",
        groups=filter_groups(options, rules),
        source_problem=source_problem,
        problem=problem,
        base=base,
    )


@router.get("/settings/employee-sync/{id}/settings")
def settings_page(request: Request, id: str, user: Browser) -> Response:
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        settings = connection_store.field_settings_of(connection)
        rules = connection_store.filters_of(connection)
    if connection.disconnected_at is not None:
        return done(
            request,
            user,
            connection_url(id),
            f"{connection.name} is disconnected: its settings no longer apply.",
            kind="info",
        )
    return _settings_form(
        request, user, connection, rows=field_rows(settings), diagnostics=settings.diagnostics(), rules=rules
    )


# --- the review: a dry run with the proposal -------------------------------------------------------------


def _refused(
    request: Request, user: SignedIn, connection: models.Connection, form: FormData, error: FieldSettingsError
) -> Response:
    """The form as the admin sent it, next to what was wrong with it."""
    rows = rows_as_sent(form, connection_store.field_settings_of(connection))
    return _settings_form(
        request,
        user,
        connection,
        rows=rows,
        diagnostics=list(error.problems),
        rules=filters_from_form(form),
        status=422,
    )


def _disconnected(request: Request, user: SignedIn, connection: models.Connection) -> Response:
    message = f"{connection.name} is disconnected: its settings no longer apply."
    return done(request, user, connection_url(connection.id), message, kind="info")


@router.post("/settings/employee-sync/{id}/settings/review")
def review(request: Request, id: str, user: AdminAction, form: PostedForm) -> Response:
    """Saves nothing: starts a dry run with the proposal and shows its plan as it arrives."""
    context = context_of(request)
    with context.db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        current = ProposedSettings(
            connection_store.field_settings_of(connection), connection_store.filters_of(connection)
        )
        problem, connector = sync_connector(context, session, connection)
    if connection.disconnected_at is not None:
        return _disconnected(request, user, connection)
    try:
        proposed = proposal_from_form(form)
    except FieldSettingsError as error:
        return _refused(request, user, connection, form, error)
    if proposed == current:
        message = "Nothing to review: these are the saved settings."
        return done(request, user, f"{connection_url(id)}/settings", message, kind="info")
    if connector is not None:
        try:
            run_id = context.syncs.start(
                id, account_id=user.account_id, connector=connector, dry_run=True, trigger="settings", proposed=proposed
            )
        except SyncNotStarted as error:
            problem = not_started_words(error, connection.name)
    if problem is not None:
        return _settings_form(
            request,
            user,
            connection,
            rows=field_rows(proposed.fields),
            diagnostics=proposed.fields.diagnostics(),
            rules=proposed.filters,
            problem=problem,
            status=409,
        )
    options, _ = _read_options(request, connection)
    with context.db.transaction() as session:
        erased = purges(session, connection, current.fields, proposed.fields)
        plan = plan_view(session, scoped_run(session, user.account_id, id, run_id))
    return render(
        request,
        "connection/review.html",
        user,
        nav="employee-sync",
        connection=connection,
        changes=setting_changes(current, proposed, options),
        purges=erased,
        diagnostics=proposed.fields.diagnostics(),
        hidden=proposal_as_form(proposed),
        plan=plan,
        plural=plural,
        base=connection_url(id),
    )


@dataclass(frozen=True, slots=True)
class PlanView:
    """A dry run's plan as the review shows it: its counts, the fields it changes, the first people."""

    run: models.SyncRun
    url: str
    running_for: str
    fields: list[tuple[str, int]]
    changes: list[ChangeRow]
    more: bool


def plan_view(session: Session, run: models.SyncRun) -> PlanView:
    fields: Counter[str] = Counter()
    changes: list[ChangeRow] = []
    more = False
    if run.status != "running":
        labels = {spec.name: spec.label for spec in CATALOGUE}
        for change in run_store.iter_run_changes(session, run.account_id, run.id, ChangeStatus.SIMULATED):
            if change.action.value in ("update", "link"):
                fields.update(labels[item.field] for item in change.fields)
        window = api_queries.page_run_changes(session, run.account_id, run.id, offset=0, limit=PLAN_CHANGES_SHOWN + 1)
        changes, more = (
            change_rows(session, run.account_id, window[:PLAN_CHANGES_SHOWN]),
            len(window) > PLAN_CHANGES_SHOWN,
        )
    return PlanView(
        run, run_url(run), span((utc_now() - run.started_at).total_seconds()), fields.most_common(), changes, more
    )


@router.get("/settings/employee-sync/{id}/runs/{run_id}/plan")
def plan_fragment(request: Request, id: str, run_id: str, user: Browser) -> HTMLResponse:
    """The review's live part: polls itself while the dry run goes on, then shows the plan."""
    with context_of(request).db.transaction() as session:
        scoped_connection(session, user.account_id, id)
        plan = plan_view(session, scoped_run(session, user.account_id, id, run_id))
        return templates.TemplateResponse(
            request, "connection/_plan.html", {"plan": plan, "user": user, "plural": plural}
        )


# --- saving exactly the proposal ----------------------------------------------------------------------------


@router.post("/settings/employee-sync/{id}/settings")
def save_settings(request: Request, id: str, user: AdminAction, form: PostedForm) -> Response:
    """Stores the proposal the review showed, validated again: a hidden field is as untrusted as any other."""
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
    if connection.disconnected_at is not None:
        return _disconnected(request, user, connection)
    try:
        proposed = proposal_from_form(form)
    except FieldSettingsError as error:
        return _refused(request, user, connection, form, error)
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        current = connection_store.field_settings_of(connection)
        erased = purges(session, connection, current, proposed.fields)
        now = utc_now()
        connection_store.save_field_settings(session, connection, proposed.fields, now=now)
        connection_store.save_filters(session, connection, proposed.filters, now=now)
    message = f"Settings of {connection.name} saved: the next sync applies them."
    if erased:
        message += (
            " Erased: "
            + "; ".join(f"{purge.label} of {plural(purge.people, 'person', 'people')}" for purge in erased)
            + "."
        )
    return done(request, user, connection_url(id), message)
