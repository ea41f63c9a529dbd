"""`staffsync sync CONNECTION_ID`: one sync now, with a progress bar on stderr and a summary on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from staffsync.cli.connections import connector_for, require_connection
from staffsync.cli.output import CliError, JsonOption, emit_json, fields_table, note, print_table, stderr_console
from staffsync.cli.runtime import open_database
from staffsync.storage.directory import count_run_issues
from staffsync.storage.locks import ConnectionBusy
from staffsync.sync.engine import RunStatus, SyncOutcome, run_sync

COUNTS = ("created", "updated", "unchanged", "excluded", "detached", "rejected")


def sync_command(
    connection_id: Annotated[str, typer.Argument(help="Id of the connection to sync.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan the whole sync and show its counts, apply nothing.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Fetch everyone, not only what changed since the last sync: only a full fetch detaches "
            "people the source no longer returns.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Run one sync of a connection now."""
    with open_database() as db:
        with db.transaction() as session:
            connection = require_connection(session, connection_id)
            if connection.disconnected_at is not None:
                raise CliError(f"connection {connection.id} ({connection.name}) is disconnected: it no longer syncs")
            account_id, name = connection.account_id, connection.name
            connector = connector_for(connection)
        try:
            with progress_bar(f"Syncing {name}") as advance:
                outcome = run_sync(
                    db,
                    connection_id,
                    account_id=account_id,
                    connector=connector,
                    dry_run=dry_run,
                    # Without --full the engine decides: incremental when it can, full once a day.
                    full=True if full else None,
                    trigger="manual",
                    progress=advance,
                )
        except ConnectionBusy as error:
            raise CliError(str(error)) from None
        with db.transaction() as session:
            issues = count_run_issues(session, account_id, outcome.run_id)
    report_outcome(outcome, connection_id=connection_id, issues=issues, json_output=json_output)
    if outcome.status == RunStatus.FAILED:
        raise CliError(f"the sync failed: {outcome.error}")


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int], None]]:
    """Fed by the engine once per planned batch; a source does not say up front how many people it has,
    so the bar pulses and counts. Only on a terminal, and gone once the run ends: in a log or a CI job
    a bar is noise, and a failure must stay one line. Off a terminal, rich is not even imported: the hourly
    sync run by cron or a scheduler starts that much sooner."""
    console = stderr_console() if sys.stderr.isatty() else None
    if console is None or not console.is_terminal:
        yield lambda count: None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} people"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)
        yield lambda count: progress.advance(task, count)


def outcome_document(outcome: SyncOutcome, *, connection_id: str, issues: int) -> dict[str, Any]:
    return {
        "run_id": outcome.run_id,
        "connection_id": connection_id,
        "status": outcome.status,
        "kind": outcome.kind,
        "dry_run": outcome.dry_run,
        "counts": {name: outcome.counts.get(name, 0) for name in ("fetched", *COUNTS)},
        "hold_reasons": list(outcome.hold_reasons),
        "issues": issues,
        "error": outcome.error,
    }


def report_outcome(outcome: SyncOutcome, *, connection_id: str, issues: int, json_output: bool) -> None:
    if json_output:
        emit_json(outcome_document(outcome, connection_id=connection_id, issues=issues))
        return
    kind = outcome.kind + (", dry run: nothing applied" if outcome.dry_run else "")
    rows: list[tuple[str, object]] = [
        ("Run", outcome.run_id),
        ("Status", f"{outcome.status} ({kind})"),
        *((name.capitalize(), outcome.counts.get(name, 0)) for name in COUNTS),
        ("Issues", issues),
    ]
    rows.extend(("Held because", reason) for reason in outcome.hold_reasons)
    print_table(fields_table(rows))
    if outcome.status == RunStatus.HELD:
        note(
            f"Nothing was applied. Review the plan, then `staffsync runs approve {outcome.run_id}` "
            f"or `staffsync runs discard {outcome.run_id}`."
        )
