"""`staffsync runs approve|discard RUN_ID`: resolve a run the safeguards held."""

from __future__ import annotations

from typing import Annotated, Protocol

import typer

from staffsync.cli.output import CliError, JsonOption, note
from staffsync.cli.runtime import GuardedCommand, actor, command_group, open_database
from staffsync.cli.sync import report_outcome
from staffsync.storage.db import Database
from staffsync.storage.directory import count_run_issues, find_run
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.apply import ApprovalConflict
from staffsync.sync.engine import RunNotHeld, SyncOutcome, approve_run, discard_run

app = command_group("runs", "Sync runs: resolve the ones held by a safeguard.")

RunId = Annotated[str, typer.Argument(help="Id of the held run.")]


class Resolution(Protocol):
    def __call__(self, db: Database, run_id: str, *, account_id: str, actor: str) -> SyncOutcome: ...


@app.command("approve", cls=GuardedCommand)
def approve(run_id: RunId, json_output: JsonOption = False) -> None:
    """Apply exactly the held plan, unless its people changed since it was made."""
    _resolve(run_id, approve_run, json_output=json_output)


@app.command("discard", cls=GuardedCommand)
def discard(run_id: RunId, json_output: JsonOption = False) -> None:
    """Drop the held plan: nothing of it is applied; the next sync plans afresh."""
    _resolve(run_id, discard_run, json_output=json_output)


def _resolve(run_id: str, resolution: Resolution, *, json_output: bool) -> None:
    with open_database() as db:
        connection_id, account_id = _locate(db, run_id)
        try:
            outcome = resolution(db, run_id, account_id=account_id, actor=actor())
        except (ApprovalConflict, RunNotHeld, ConnectionBusy) as error:
            raise CliError(str(error)) from None
        with db.transaction() as session:
            issues = count_run_issues(session, account_id, run_id)
    report_outcome(outcome, connection_id=connection_id, issues=issues, json_output=json_output)
    if not json_output and resolution is discard_run:
        note("The held plan was discarded: nothing of it was applied.")


def _locate(db: Database, run_id: str) -> tuple[str, str]:
    with db.transaction() as session:
        run = find_run(session, run_id)
        if run is None:
            raise CliError(f"no sync run {run_id}")
        return run.connection_id, run.account_id
