"""Sync runs: start one (in the background), list a connection's runs, read a run and its changes,
and resolve a held run."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from staffsync.api.connections import open_connector, scoped_connection
from staffsync.api.deps import ApiContext, Caller, Context, Reader, Writer
from staffsync.api.errors import ApiError, not_found
from staffsync.api.pagination import Paging
from staffsync.api.rate_limits import RATE_LIMITED_RESPONSE, check_sync_start
from staffsync.api.routes import links, operation_id
from staffsync.api.schemas import ChangeOut, Page, RunOut, SyncRequest
from staffsync.services.background_syncs import SyncNotStarted
from staffsync.storage import api_queries
from staffsync.storage import runs as run_store
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.engine import ConnectionDisconnected, RunStatus, approve_run, discard_run

router = APIRouter(tags=["syncs"], generate_unique_id_function=operation_id)
RUN_OPERATIONS = ("get_sync", "list_sync_changes", "approve_sync", "discard_sync")


@router.post(
    "/connections/{id}/syncs",
    status_code=202,
    responses={
        200: {"model": RunOut, "links": links(*RUN_OPERATIONS)},
        202: {"links": links(*RUN_OPERATIONS)},
        **RATE_LIMITED_RESPONSE,
    },
)
def start_sync(
    id: str, body: SyncRequest, caller: Writer, context: Context, request: Request, response: Response
) -> RunOut:
    """202 with the run while it runs; 200 when it already finished by the time the answer is written.
    `full: false` lets the schedule decide (incremental where the source supports it)."""
    with context.db.transaction(actor=caller.actor) as session:
        connection = scoped_connection(session, caller, id)
        if connection.disconnected_at is not None:
            raise ConnectionDisconnected(f"Connection {connection.name} is disconnected: it no longer syncs")
        check_sync_start(request, caller.account_id, id)
        connector = open_connector(context, session, connection)
    try:
        run_id = context.syncs.start(
            id,
            account_id=caller.account_id,
            connector=connector,
            dry_run=body.dry_run,
            full=True if body.full else None,
            trigger="api",
        )
    except SyncNotStarted as error:
        # The run never began: no run row is ours to return, only the reason.
        if isinstance(error.cause, ConnectionBusy | ConnectionDisconnected):
            raise error.cause from None
        if isinstance(error.cause, LookupError):
            raise not_found("connection", id) from None
        status = 500 if error.cause is not None else 503
        raise ApiError(status, "sync_not_started", str(error)) from None
    with context.db.transaction(actor=caller.actor) as session:
        run = run_store.get_run(session, caller.account_id, run_id)
        assert run is not None
        if run.status != RunStatus.RUNNING:
            response.status_code = 200
        return RunOut.of(run)


@router.get(
    "/connections/{id}/syncs", responses={200: {"links": links(*RUN_OPERATIONS, id_from="$response.body#/items/0/id")}}
)
def list_syncs(id: str, caller: Reader, context: Context, paging: Paging) -> Page[RunOut]:
    with context.db.transaction() as session:
        scoped_connection(session, caller, id)
        rows = api_queries.page_runs(session, caller.account_id, id, offset=paging.offset, limit=paging.probe)
        items, cursor = paging.window(rows)
        return Page(items=[RunOut.of(row) for row in items], next_cursor=cursor)


@router.get("/syncs/{id}")
def get_sync(id: str, caller: Reader, context: Context) -> RunOut:
    with context.db.transaction() as session:
        run = run_store.get_run(session, caller.account_id, id)
        if run is None:
            raise not_found("sync run", id)
        return RunOut.of(run)


@router.get("/syncs/{id}/changes")
def list_sync_changes(id: str, caller: Reader, context: Context, paging: Paging) -> Page[ChangeOut]:
    with context.db.transaction() as session:
        if run_store.get_run(session, caller.account_id, id) is None:
            raise not_found("sync run", id)
        rows = api_queries.page_run_changes(session, caller.account_id, id, offset=paging.offset, limit=paging.probe)
        items, cursor = paging.window(rows)
        return Page(items=[ChangeOut.of(row) for row in items], next_cursor=cursor)


def _resolved(context: ApiContext, caller: Caller, run_id: str) -> RunOut:
    with context.db.transaction() as session:
        run = run_store.get_run(session, caller.account_id, run_id)
        if run is None:
            raise not_found("sync run", run_id)
        context.metrics.sync_runs.labels(run.status).inc()
        return RunOut.of(run)


def _require_run(context: ApiContext, caller: Caller, run_id: str) -> None:
    with context.db.transaction() as session:
        if run_store.get_run(session, caller.account_id, run_id) is None:
            raise not_found("sync run", run_id)


@router.post("/syncs/{id}/approve")
def approve_sync(id: str, caller: Writer, context: Context) -> RunOut:
    """Applies exactly the held plan; 409 approval_conflict when its people changed since it was made."""
    _require_run(context, caller, id)
    approve_run(context.db, id, account_id=caller.account_id, actor=caller.actor)
    return _resolved(context, caller, id)


@router.post("/syncs/{id}/discard")
def discard_sync(id: str, caller: Writer, context: Context) -> RunOut:
    _require_run(context, caller, id)
    discard_run(context.db, id, account_id=caller.account_id, actor=caller.actor)
    return _resolved(context, caller, id)
