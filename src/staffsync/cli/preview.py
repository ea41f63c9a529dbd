"""`staffsync preview CONNECTION_ID`: every person the source returns, Included or Excluded, and why.

It runs the same evaluation as the sync (services.preview → domain.filters.evaluate), so what it
shows is what the next sync does."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Annotated

import typer

from staffsync.cli.connections import connector_for, require_connection
from staffsync.cli.output import JsonOption, emit_json, print_table, stdout_console, table
from staffsync.cli.runtime import open_database
from staffsync.services.preview import preview
from staffsync.storage import connections as connection_store


class PreviewStatus(StrEnum):
    INCLUDED = "included"
    EXCLUDED = "excluded"


def preview_command(
    connection_id: Annotated[str, typer.Argument(help="Id of the connection.")],
    q: Annotated[str | None, typer.Option("--q", help="Only people whose last name contains this text.")] = None,
    status: Annotated[
        PreviewStatus | None, typer.Option(help="Only the included, or only the excluded people.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show who a connection's filters include and exclude, with the reasons."""
    with open_database() as db, db.transaction() as session:
        connection = require_connection(session, connection_id)
        settings = connection_store.field_settings_of(connection)
        rules = connection_store.filters_of(connection)
        connector = connector_for(connection)
    # Counts cover everyone matching --q, so listing only the excluded still tells how many are in.
    everyone = list(preview(connector, settings, rules, last_name=q))
    counts = Counter(row.status for row in everyone)
    shown = [row for row in everyone if status is None or row.status == status.value]
    totals = {
        "total": len(everyone),
        "included": counts[PreviewStatus.INCLUDED.value],
        "excluded": counts[PreviewStatus.EXCLUDED.value],
    }
    if json_output:
        emit_json(
            {
                "connection_id": connection_id,
                "counts": totals,
                "people": [
                    {
                        "remote_id": row.remote_id,
                        "first_name": row.first_name,
                        "last_name": row.last_name,
                        "work_email": row.work_email,
                        "included": row.included,
                        "status": row.status,
                        "reasons": list(row.reasons),
                    }
                    for row in shown
                ],
            }
        )
        return
    if shown:
        print_table(
            table(
                ["Name", "Remote id", "Status", "Reasons"],
                [
                    [
                        " ".join(part for part in (row.first_name, row.last_name) if part) or None,
                        row.remote_id,
                        row.status.capitalize(),
                        "; ".join(row.reasons) or None,
                    ]
                    for row in shown
                ],
            )
        )
    stdout_console().print(
        f"{totals['total']} people: {totals['included']} included, {totals['excluded']} excluded"
        + (f" ({len(shown)} shown)" if len(shown) != totals["total"] else "")
    )
