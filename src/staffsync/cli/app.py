"""The `staffsync` command: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from staffsync.cli import accounts, connections, database, employees, runs, tokens
from staffsync.cli.demo import demo_command
from staffsync.cli.kombo_sim import kombo_sim_command
from staffsync.cli.preview import preview_command
from staffsync.cli.runtime import GuardedCommand
from staffsync.cli.serve import serve_command
from staffsync.cli.sync import sync_command
from staffsync.cli.worker import worker_command

app = typer.Typer(
    name="staffsync",
    help="Keep a company's employee directory in step with its HR systems, safely.",
    no_args_is_help=True,
    # A traceback's local variables can hold credentials and personal data: never print them.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of unexpected errors.")] = False,
) -> None:
    """Keep a company's employee directory in step with its HR systems, safely.

    Commands that print data accept --json: one JSON document on stdout; progress and messages go to
    stderr. Exit codes: 0 success, 1 failed operation, 2 bad usage."""


app.command("demo", cls=GuardedCommand)(demo_command)
app.command("serve", cls=GuardedCommand)(serve_command)
app.command("worker", cls=GuardedCommand)(worker_command)
app.add_typer(database.app)
app.add_typer(accounts.app)
app.add_typer(tokens.app)
app.add_typer(connections.app)
app.command("sync", cls=GuardedCommand)(sync_command)
app.command("preview", cls=GuardedCommand)(preview_command)
app.add_typer(employees.app)
app.add_typer(runs.app)
app.command("kombo-sim", cls=GuardedCommand)(kombo_sim_command)


def main() -> None:
    app(prog_name="staffsync")
