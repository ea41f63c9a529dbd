"""`staffsync tokens …`: API tokens of an account — created and shown once, listed, revoked."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from staffsync.cli.output import CliError, JsonOption, emit_json, fields_table, note, print_table, table
from staffsync.cli.runtime import GuardedCommand, command_group, now, open_database
from staffsync.storage import accounts as account_store

app = command_group("tokens", "API tokens: `Authorization: Bearer <token>` for /api/v1; stored only hashed.")


@app.command("create", cls=GuardedCommand)
def create(
    account: Annotated[str, typer.Option("--account", help="Account id.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for: shown in history and events.")],
    role: Annotated[Literal["admin", "viewer"], typer.Option("--role", help="viewer may only read.")] = "admin",
    json_output: JsonOption = False,
) -> None:
    """Create a token; it is printed this once, and only its hash is kept."""
    with open_database() as db, db.transaction() as session:
        if account_store.get_account(session, account) is None:
            raise CliError(f"no account {account}")
        token, secret = account_store.create_token(session, account, name.strip() or "unnamed", role=role, now=now())
        result = {"id": token.id, "name": token.name, "role": token.role, "prefix": token.prefix, "token": secret}
    if json_output:
        emit_json(result)
        return
    print_table(fields_table([(key.capitalize(), value) for key, value in result.items()]))
    note("The token is shown only this once: store it now.")


@app.command("list", cls=GuardedCommand)
def list_(
    account: Annotated[str, typer.Option("--account", help="Account id.")],
    json_output: JsonOption = False,
) -> None:
    """An account's tokens: name, role, visible prefix, last use, revocation. Never the token itself."""
    with open_database() as db, db.transaction() as session:
        rows = [
            {
                "id": token.id,
                "name": token.name,
                "role": token.role,
                "prefix": token.prefix,
                "created_at": token.created_at,
                "last_used_at": token.last_used_at,
                "revoked_at": token.revoked_at,
            }
            for token in account_store.list_tokens(session, account)
        ]
    if json_output:
        emit_json(rows)
        return
    columns = ("id", "name", "role", "prefix", "last_used_at", "revoked_at")
    print_table(table(columns, [[row[column] for column in columns] for row in rows]))


@app.command("revoke", cls=GuardedCommand)
def revoke(
    token_id: Annotated[str, typer.Argument(help="Id of the token to revoke.")],
    json_output: JsonOption = False,
) -> None:
    """Revoke a token at once: requests with it get 401 from now on."""
    with open_database() as db, db.transaction() as session:
        found = account_store.find_token_by_id(session, token_id)
        if found is None:
            raise CliError(f"no API token {token_id}")
        token = account_store.revoke_token(session, found.account_id, token_id, now=now())
        assert token is not None
        result = {"id": token.id, "name": token.name, "revoked_at": token.revoked_at}
    if json_output:
        emit_json(result)
        return
    note(f"Token {result['name']} ({token_id}) is revoked.")
