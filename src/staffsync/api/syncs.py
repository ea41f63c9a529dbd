"""Sync runs: start one (in the background), list a connection's runs, read a run and its changes,
and resolve a held run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import APIRouter, Response

from staffsync.api.connections import open_connector, scoped_connection
from staffsync.api.deps import ApiContext, Caller, Context, Reader, Writer
from staffsync.api.errors import ApiError, not_found
from staffsync.api.pagination import Paging
from staffsync.api.schemas import ChangeOut, Page, RunOut, SyncRequest
from staffsync.connectors.base import HRConnector
from staffsync.storage import api_queries
from staffsync.storage import runs as run_store
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.engine import ConnectionDisconnected, RunStatus, approve_run, discard_run, run_sync

router = APIRouter(tags=["syncs"])

# How long POST /syncs waits for the background run to exist; it is recorded before the first fetch.
START_TIMEOUT_S = 30.0


@dataclass
class _StartSignal:
    """Set once the run's record exists (its id is known), or once the run could not start at all."""

    started: threading.Event = field(default_factory=threading.Event)
    run_id: str | None = None
    error: BaseException | None = None

    def run_started(self, run_id: str) -> None:
        self.run_id = run_id
        self.started.set()


def _run_in_background(
    context: ApiContext, caller: Caller, connection_id: str, connector: HRConnector, body: SyncRequest
) -> _StartSignal:
    signal = _StartSignal()

    def work() -> None:
        try:
            outcome = run_sync(
                context.db,
                connection_id,
                account_id=caller.account_id,
                connector=connector,
                dry_run=body.dry_run,
                full=True if body.full else None,
                trigger="api",
                on_started=signal.run_started,
            )
            context.metrics.sync_runs.labels(outcome.status).inc()
        except BaseException as error:  # handed to the waiting request, which answers with it
            signal.error = error
        finally:
            signal.started.set()

    thread = threading.Thread(target=work, name=f"api-sync-{connection_id}", daemon=True)
    context.sync_threads[:] = [t for t in context.sync_threads if t.is_alive()]
    context.sync_threads.append(thread)
    thread.start()
    return signal


@router.post("/connections/{id}/syncs", status_code=202, responses={200: {"model": RunOut}})
def start_sync(id: str, body: SyncRequest, caller: Writer, context: Context, response: Response) -> RunOut:
    """202 with the run while it runs; 200 when it already finished by the time the answer is written.
    `full: false` lets the schedule decide (incremental where the source supports it)."""
    with context.db.transaction() as session:
        connection = scoped_connection(session, caller, id)
        if connection.disconnected_at is not None:
            raise ConnectionDisconnected(f"Connection {connection.name} is disconnected: it no longer syncs")
        connector = open_connector(context, session, connection)
    signal = _run_in_background(context, caller, id, connector, body)
    if not signal.started.wait(START_TIMEOUT_S):
        raise ApiError(503, "sync_not_started", "The sync did not start in time; see the connection's runs")
    if signal.run_id is None:
        # The run never began: no run row is ours to return, only the reason.
        if isinstance(signal.error, ConnectionBusy | ConnectionDisconnected):
            raise signal.error
        if isinstance(signal.error, LookupError):
            raise not_found("connection", id)
        raise ApiError(500, "sync_not_started", "The sync could not start")
    with context.db.transaction() as session:
        run = run_store.get_run(session, caller.account_id, signal.run_id)
        assert run is not None
        if run.status != RunStatus.RUNNING:
            response.status_code = 200
        return RunOut.of(run)


@router.get("/connections/{id}/syncs")
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
