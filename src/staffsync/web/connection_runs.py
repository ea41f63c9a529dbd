"""One run of a connection: its summary and counts, its error in plain words, its rejected records, its
changes person by person; and a held run's Approve and Discard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from staffsync.storage import api_queries
from staffsync.storage import runs as run_store
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.apply import ApprovalConflict
from staffsync.sync.engine import RunNotHeld, approve_run, discard_run, utc_now
from staffsync.web.auth import AdminAction, Browser
from staffsync.web.connection_detail import connection_url, run_url, scoped_connection, scoped_run, sync_status
from staffsync.web.render import context_of, done, render
from staffsync.web.run_display import (
    ISSUE_CODES,
    TRIGGERS,
    ChangeRow,
    change_rows,
    counts_words,
    names_of,
    plural,
    run_duration,
)

router = APIRouter(include_in_schema=False)

CHANGES_PER_PAGE = 50
ISSUES_SHOWN = 200


def _run_changes(session: Session, account_id: str, run_id: str, start: int) -> tuple[list[ChangeRow], bool]:
    window = api_queries.page_run_changes(session, account_id, run_id, offset=start, limit=CHANGES_PER_PAGE + 1)
    return change_rows(session, account_id, window[:CHANGES_PER_PAGE]), len(window) > CHANGES_PER_PAGE


@router.get("/settings/employee-sync/{id}/runs/{run_id}")
def run_page(
    request: Request,
    id: str,
    run_id: str,
    user: Browser,
    start: Annotated[int, Query(alias="from", ge=0)] = 0,
) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        connection = scoped_connection(session, user.account_id, id)
        run = scoped_run(session, user.account_id, id, run_id)
        changes, more = _run_changes(session, user.account_id, run.id, start)
        issues = run_store.run_issues(session, user.account_id, run.id, limit=ISSUES_SHOWN + 1)
        return render(
            request,
            "connection/run.html",
            user,
            nav="employee-sync",
            connection=connection,
            run=run,
            sync=sync_status(session, connection, utc_now(), user.timezone),
            changes=changes,
            start=start,
            more=more,
            page_size=CHANGES_PER_PAGE,
            issues=issues[:ISSUES_SHOWN],
            more_issues=len(issues) > ISSUES_SHOWN,
            issue_codes=ISSUE_CODES,
            duration=run_duration,
            triggers=TRIGGERS,
            base=connection_url(id),
            url=run_url(run),
        )


@router.post("/settings/employee-sync/{id}/runs/{run_id}/approve")
def approve(request: Request, id: str, run_id: str, user: AdminAction) -> Response:
    """Applies exactly the held plan, or nothing when any of its people changed since it was made."""
    context = context_of(request)
    with context.db.transaction() as session:
        run = scoped_run(session, user.account_id, id, run_id)
        name = scoped_connection(session, user.account_id, id).name
        url = run_url(run)
    try:
        outcome = approve_run(context.db, run_id, account_id=user.account_id, actor=user.actor)
    except ApprovalConflict as error:
        with context.db.transaction() as session:
            who = names_of(session, user.account_id, error.employee_ids)
        return done(
            request,
            user,
            url,
            f"Nothing was applied: {plural(len(error.employee_ids), 'person', 'people')} of this plan changed "
            f"after it was made ({who}). Discard it and sync again for a fresh plan.",
            kind="error",
        )
    except RunNotHeld:
        return done(request, user, url, "This run is no longer held: it was already resolved.", kind="info")
    except ConnectionBusy:
        return done(
            request, user, url, f"A sync of {name} is running: approve again once it has finished.", kind="error"
        )
    context.metrics.sync_runs.labels(outcome.status).inc()
    return done(request, user, url, f"Approved: the held plan was applied ({counts_words(outcome.counts)}).")


@router.post("/settings/employee-sync/{id}/runs/{run_id}/discard")
def discard(request: Request, id: str, run_id: str, user: AdminAction) -> Response:
    context = context_of(request)
    with context.db.transaction() as session:
        url = run_url(scoped_run(session, user.account_id, id, run_id))
    try:
        outcome = discard_run(context.db, run_id, account_id=user.account_id, actor=user.actor)
    except RunNotHeld:
        return done(request, user, url, "This run is no longer held: it was already resolved.", kind="info")
    context.metrics.sync_runs.labels(outcome.status).inc()
    return done(request, user, url, "Discarded: nothing of this run was applied.")
