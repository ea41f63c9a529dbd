"""How every command speaks: data on stdout (a rich table, or one JSON document with `--json`),
progress, notes and errors on stderr, so `staffsync … --json | jq` always reads clean JSON.

rich is imported only by what draws a table or a bar: a scripted `--json` call does not load it here."""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

EXIT_FAILED = 1
EXIT_USAGE = 2

# Piped output is read by scripts and people scrolling logs: folding it at 80 columns helps neither.
_PIPED_WIDTH = 200

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead of a table.")]


class CliError(Exception):
    """A failure said in one line: the command stops with `exit_code` and no traceback."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    return CliError(message, exit_code=EXIT_USAGE)


def report_error(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)


def stdout_console() -> Console:
    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else _PIPED_WIDTH
    return Console(file=sys.stdout, highlight=False, width=width)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False)


def emit_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def note(message: str) -> None:
    """A remark for the person at the terminal (a hint, a diagnostic): never part of the data. Plain
    and unwrapped, so that a log keeps each remark on one line."""
    typer.echo(message, err=True)


def cell(value: object) -> Text:
    """Source data goes in as plain text: a name like "[red]" must print as written, not as markup."""
    from rich.text import Text

    if value is None:
        return Text("—", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, dt.datetime):
        return Text(value.isoformat(timespec="seconds"))
    if isinstance(value, dt.date):
        return Text(value.isoformat())
    return Text(str(value))


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None) -> Table:
    from rich.table import Table

    result = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*(cell(value) for value in row))
    return result


def fields_table(pairs: Mapping[str, object] | Sequence[tuple[str, object]], *, title: str | None = None) -> Table:
    """One object, one row per attribute: for `show` commands and summaries."""
    from rich.table import Table
    from rich.text import Text

    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    result = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    result.add_column(style="bold")
    result.add_column(overflow="fold")
    for name, value in items:
        result.add_row(Text(name), cell(value))
    return result


def print_table(renderable: Table) -> None:
    stdout_console().print(renderable)
