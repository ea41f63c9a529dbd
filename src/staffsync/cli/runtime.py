"""What every command needs around its work: the error boundary, the database, the clock and the actor."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from typer.core import TyperCommand

from staffsync.cli.output import CliError, report_error, usage_error
from staffsync.settings import Settings
from staffsync.storage.db import Database


class GuardedCommand(TyperCommand):
    """Turns failures into one line on stderr and an exit code; `staffsync --debug` keeps the traceback.

    Only the command's own work runs in here: usage errors are raised while parsing, before `invoke`,
    and keep Typer's usual message and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as error:
            report_error(error.message)
            raise typer.Exit(error.exit_code) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as error:
            if ctx.find_root().params.get("debug"):
                raise
            first_line = (str(error).strip().splitlines() or [""])[0]
            detail = f": {first_line}" if first_line else ""
            report_error(f"unexpected {type(error).__name__}{detail} (run `staffsync --debug …` for the traceback)")
            raise typer.Exit(1) from None


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problem = error.errors()[0]
        name = "STAFFSYNC_" + "_".join(str(part) for part in problem["loc"]).upper()
        raise usage_error(f"invalid configuration: {name}: {problem['msg']}") from None


@contextmanager
def open_database() -> Iterator[Database]:
    """The configured database, migrated first: a new SQLite file works at the first command, and
    `upgrade` is a no-op on an up-to-date schema."""
    url = load_settings().resolved_database_url
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError) as error:
        raise usage_error(f"STAFFSYNC_DATABASE_URL is not a database URL: {error}") from None
    try:
        db = Database(url, actor=actor())
    except ModuleNotFoundError as error:
        raise usage_error(f"the database driver for {shown} is not installed ({error.name})") from None
    try:
        try:
            db.upgrade()
        except OperationalError as error:
            reason = (str(error.orig).strip().splitlines() or ["no reason given"])[0]
            raise CliError(f"cannot open the database at {shown}: {reason}") from None
        yield db
    finally:
        db.dispose()


def command_group(name: str, help_text: str) -> typer.Typer:
    return typer.Typer(name=name, help=help_text, no_args_is_help=True, pretty_exceptions_show_locals=False)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def actor() -> str:
    """Who resolved a held run, for its audit trail: the operating-system user behind the CLI."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        # Containers often run as a uid with no passwd entry.
        return "cli"
