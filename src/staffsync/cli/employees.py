"""`staffsync employees list`: the directory's lists (active, onboardings, offboardings, detached)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from staffsync.cli.output import CliError, JsonOption, emit_json, note, print_table, table
from staffsync.cli.runtime import GuardedCommand, command_group, now, open_database
from staffsync.domain.lifecycle import lifecycle_status
from staffsync.services.directory import DirectoryListing, list_employees
from staffsync.storage import accounts as account_store
from staffsync.storage import models
from staffsync.storage.directory import DirectoryView

app = command_group("employees", "The directory: who is here, who is arriving, who is leaving.")

DEFAULT_LIMIT = 1000


@app.command("list", cls=GuardedCommand)
def list_(
    account: Annotated[str, typer.Option(help="Id of the account.")],
    q: Annotated[str | None, typer.Option("--q", help="Search names, work email, team and legal entity.")] = None,
    include_hidden: Annotated[
        bool, typer.Option("--include-hidden", help="Also list people hidden from workflows.")
    ] = False,
    view: Annotated[
        DirectoryView,
        typer.Option(
            help="active: everyone not detached; onboardings: start today or later; offboardings: "
            "leaving, or left in the last 30 days; detached: no longer fed by any source."
        ),
    ] = DirectoryView.ACTIVE,
    limit: Annotated[int, typer.Option(min=1, help="List at most this many people.")] = DEFAULT_LIMIT,
    json_output: JsonOption = False,
) -> None:
    """List an account's employees."""
    with open_database() as db, db.transaction() as session:
        owner = account_store.get_account(session, account)
        if owner is None:
            raise CliError(f"no account {account}")
        listing = list_employees(
            session, owner, view=view, now=now(), text=q, include_hidden=include_hidden, limit=limit
        )
    people = [employee_document(e, listing) for e in listing.page.employees]
    if json_output:
        emit_json(
            {
                "account_id": account,
                "view": listing.view.value,
                "today": listing.today,
                "total": listing.page.total,
                "employees": people,
                "diagnostics": [
                    {
                        "connection_id": d.connection_id,
                        "connection_name": d.connection_name,
                        "code": d.code,
                        "message": d.message,
                    }
                    for d in listing.diagnostics
                ],
            }
        )
        return
    for diagnostic in listing.diagnostics:
        note(f"Connection '{diagnostic.connection_name}' ({diagnostic.connection_id}): {diagnostic.message}")
    if not people:
        note(f"Nobody in the {view.value} view" + (f" matches {q!r}." if q else "."))
        return
    columns = ["Name", "Work email", "Team", "Legal entity", "Start", "End", "Status", "Flags"]
    if view is DirectoryView.DETACHED:
        columns.append("Detached because")
    print_table(
        table(
            columns,
            [
                [
                    " ".join(part for part in (p["first_name"], p["last_name"]) if part) or None,
                    p["work_email"],
                    p["team"],
                    p["legal_entity"],
                    p["start_date"],
                    p["end_date"],
                    p["lifecycle"],
                    ", ".join(_flags(p)) or None,
                    *([p["detach_reason"]] if view is DirectoryView.DETACHED else []),
                ]
                for p in people
            ],
        )
    )
    if listing.page.total > len(people):
        note(f"Showing {len(people)} of {listing.page.total}: narrow with --q or raise --limit.")


def employee_document(employee: models.Employee, listing: DirectoryListing) -> dict[str, Any]:
    employment_type = employee.employment_type or {}
    return {
        "id": employee.id,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "work_email": employee.work_email,
        "job_title": employee.job_title,
        "team": employee.team_name,
        "legal_entity": employee.legal_entity_name,
        "employment_type": employment_type.get("type"),
        "employment_status": employee.employment_status,
        "start_date": employee.start_date,
        "end_date": employee.end_date,
        "lifecycle": lifecycle_status(employee.start_date, employee.end_date, today=listing.today).value,
        "hidden": employee.hidden,
        "onboarding_ignored": employee.onboarding_ignored,
        "detached_at": employee.detached_at,
        "detach_reason": employee.detach_reason,
        "primary_connection_id": employee.primary_connection_id,
    }


def _flags(person: dict[str, Any]) -> list[str]:
    return [
        label
        for label, on in (
            ("hidden", person["hidden"]),
            ("onboarding ignored", person["onboarding_ignored"]),
            ("detached", person["detached_at"] is not None),
        )
        if on
    ]
