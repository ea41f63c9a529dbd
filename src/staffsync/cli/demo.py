"""`staffsync demo`: everything local, no configuration — a demo company, its HR source, a first sync.

Run again, it reuses the demo account of the same database and syncs it once more, so the second run
shows what an unchanged source does: nothing.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.engine import make_url

from staffsync.cli.connections import connector_for
from staffsync.cli.output import CliError, JsonOption, emit_json, fields_table, note, print_table
from staffsync.cli.runtime import load_settings, now, open_database
from staffsync.cli.sync import outcome_document, progress_bar, report_outcome
from staffsync.services.directory import list_employees
from staffsync.storage import accounts, connections, models
from staffsync.storage.directory import DirectoryView, count_run_issues
from staffsync.sync.engine import RunStatus, run_sync

DEMO_ACCOUNT = "Acme demo"
DEMO_ADMIN = "admin@acme-demo.example"
DEMO_SOURCE = "Demo HR (in-memory)"


def demo_command(
    employees: Annotated[
        int, typer.Option("--employees", min=1, max=200_000, help="How many people the demo HR system holds.")
    ] = 300,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the generated people.")] = 42,
    json_output: JsonOption = False,
) -> None:
    """Everything local: data dir, SQLite database, a demo account and admin, a seeded HR source, first sync."""
    settings = load_settings()
    with open_database() as db:
        with db.transaction() as session:
            account = (
                session.execute(
                    select(models.Account)
                    .where(models.Account.name == DEMO_ACCOUNT)
                    .order_by(models.Account.created_at)
                )
                .scalars()
                .first()
            )
            credentials: dict[str, str] = {}
            if account is None:
                moment = now()
                account = accounts.create_account(session, DEMO_ACCOUNT, timezone="Europe/Berlin", now=moment)
                admin, password = accounts.create_admin(session, account.id, DEMO_ADMIN, role="admin", now=moment)
                _, token = accounts.create_token(session, account.id, "demo", role="admin", now=moment)
                connection = connections.create_connection(
                    session,
                    account.id,
                    name=DEMO_SOURCE,
                    provider="memory",
                    now=moment,
                    config={"size": employees, "seed": seed},
                )
                credentials = {"admin_email": admin.email, "admin_password": password, "api_token": token}
            else:
                found = connections.list_connections(session, account.id)
                if not found:
                    raise CliError(f"the demo account {account.id} has no connection left; remove {settings.data_dir}")
                connection = found[0]
            account_id, connection_id = account.id, connection.id
            connector = connector_for(connection)
        with progress_bar(f"First sync of {DEMO_SOURCE}") as advance:
            outcome = run_sync(
                db, connection_id, account_id=account_id, connector=connector, trigger="demo", progress=advance
            )
        with db.transaction() as session:
            issues = count_run_issues(session, account_id, outcome.run_id)
            account = session.get(models.Account, account_id)
            assert account is not None
            views = {
                view.value: list_employees(session, account, view=view, now=now(), limit=0).page.total
                for view in DirectoryView
            }
    if json_output:
        emit_json(
            {
                "account_id": account_id,
                "connection_id": connection_id,
                "database_url": _shown_url(settings.resolved_database_url),
                **credentials,
                "run": outcome_document(outcome, connection_id=connection_id, issues=issues),
                "directory": views,
            }
        )
    else:
        if credentials:
            print_table(
                fields_table(
                    [
                        ("Account", account_id),
                        ("Admin", credentials["admin_email"]),
                        ("One-time password", credentials["admin_password"]),
                        ("API token", credentials["api_token"]),
                    ],
                    title="Demo account (shown once: keep it)",
                )
            )
        report_outcome(outcome, connection_id=connection_id, issues=issues, json_output=False)
        print_table(fields_table([(name.capitalize(), total) for name, total in views.items()], title="Directory"))
        note(
            f"Explore: `staffsync employees list --account {account_id} --view onboardings`, "
            f"`staffsync preview {connection_id} --status excluded`, `staffsync connections show {connection_id}`."
        )
    if outcome.status == RunStatus.FAILED:
        raise CliError(f"the demo sync failed: {outcome.error}")


def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
