"""`staffsync accounts …`: create a customer account with its first admin and an API token."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from staffsync.cli.output import JsonOption, emit_json, fields_table, note, print_table, usage_error
from staffsync.cli.runtime import GuardedCommand, command_group, now, open_database
from staffsync.storage import accounts as account_store

app = command_group("accounts", "Customer accounts: each one's people, sources and admins are its own.")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@app.command("create", cls=GuardedCommand)
def create(
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
    timezone: Annotated[
        str,
        typer.Option(help="IANA time zone of the account (e.g. Europe/Berlin): it decides what 'today' is."),
    ] = "UTC",
    admin_email: Annotated[
        str | None,
        typer.Option(help="Sign-in email of the first admin [default: admin@<account-name>.example]."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create an account; print its id, the admin's one-time password and an API token."""
    name = name.strip()
    if not name:
        raise usage_error("the account name is empty")
    _check_timezone(timezone)
    email = (admin_email or _default_admin_email(name)).strip()
    if not _EMAIL.match(email):
        raise usage_error(f"{email!r} is not an email address")
    moment = now()
    with open_database() as db, db.transaction() as session:
        account = account_store.create_account(session, name, timezone=timezone, now=moment)
        admin, password = account_store.create_admin(session, account.id, email, role="admin", now=moment)
        token, secret = account_store.create_token(
            session, account.id, "created by `staffsync accounts create`", role="admin", now=moment
        )
    result = {
        "account_id": account.id,
        "name": account.name,
        "timezone": account.timezone,
        "admin_email": admin.email,
        "admin_password": password,
        "api_token": secret,
        "api_token_id": token.id,
    }
    if json_output:
        emit_json(result)
        return
    print_table(
        fields_table(
            [
                ("Account id", account.id),
                ("Name", account.name),
                ("Time zone", account.timezone),
                ("Admin email", admin.email),
                ("Admin password", password),
                ("API token", secret),
            ]
        )
    )
    note("The password and the API token are shown only this once: store them now.")


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise usage_error(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin, America/New_York or UTC"
        ) from None


def _default_admin_email(account_name: str) -> str:
    # `.example` is reserved (RFC 2606): a made-up address can never reach a real mailbox.
    ascii_name = unicodedata.normalize("NFKD", account_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "staffsync"
    return f"admin@{slug}.example"
