"""`staffsync connections …`: add an HR source to an account without the UI flow, list and show them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session, object_session

from staffsync.cli.output import (
    CliError,
    JsonOption,
    emit_json,
    fields_table,
    note,
    print_table,
    table,
    usage_error,
)
from staffsync.cli.runtime import GuardedCommand, command_group, load_settings, now, open_database
from staffsync.cli.start_up import more_start_up
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import (
    InvalidConnectorConfig,
    ProviderNotInstalled,
    UnknownProvider,
    build_connector,
    get_provider,
)
from staffsync.domain.schedule import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from staffsync.storage import accounts as account_store
from staffsync.storage import connections as connection_store
from staffsync.storage import models, schedules
from staffsync.storage import runs as run_store

app = command_group("connections", "HR sources of an account: what they sync, how, and how they are doing.")

RECENT_RUNS = 5


@app.command("add", cls=GuardedCommand)
def add(
    account: Annotated[str, typer.Option(help="Id of the account the source belongs to.")],
    provider: Annotated[str, typer.Option(help="Provider name, e.g. memory (the built-in demo source).")],
    integration_id: Annotated[
        str | None, typer.Option(help="The provider's id of this customer's integration (Kombo).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name admins recognise, e.g. 'Personio DE'.")] = None,
    priority: Annotated[
        int,
        typer.Option(min=1, max=1000, help="When sources overlap, the lowest number feeds the continuous fields."),
    ] = 1,
    size: Annotated[
        int | None, typer.Option(min=0, help="memory provider: how many people the source returns.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="memory provider: the seed the people are generated from.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Add a connection with the default field settings and no filters."""
    try:
        spec = get_provider(provider)
    except UnknownProvider as error:
        raise usage_error(str(error)) from None
    except ProviderNotInstalled as error:
        raise CliError(str(error)) from None
    given: dict[str, Any] = {
        key: value
        for key, value in {"integration_id": integration_id, "size": size, "seed": seed}.items()
        if value is not None
    }
    unused = sorted(set(given) - spec.config_keys)
    if unused:
        options = ", ".join(f"--{key.replace('_', '-')}" for key in unused)
        raise usage_error(f"{options} does not apply to the {spec.label} provider")
    missing = sorted(spec.required_config - set(given))
    if missing:
        options = ", ".join(f"--{key.replace('_', '-')}" for key in missing)
        raise usage_error(f"the {spec.label} provider needs {options}")
    label = name.strip() if name and name.strip() else " ".join(filter(None, [spec.label, integration_id]))
    # Checked by the settings themselves: five minutes to a week.
    schedule = load_settings().sync_interval_minutes
    with open_database() as db, db.transaction() as session:
        owner = account_store.get_account(session, account)
        if owner is None:
            raise CliError(f"no account {account}")
        connection = connection_store.create_connection(
            session,
            owner.id,
            name=label,
            provider=spec.name,
            now=now(),
            config={**spec.config_defaults, **given},
            priority=priority,
            schedule_minutes=schedule,
        )
        document = connection_document(connection)
    if json_output:
        emit_json(document)
        return
    print_table(fields_table(_summary(connection)))
    note(f"Preview it with `staffsync preview {connection.id}`, then sync with `staffsync sync {connection.id}`.")


@app.command("list", cls=GuardedCommand)
def list_(
    account: Annotated[str, typer.Option(help="Id of the account.")],
    json_output: JsonOption = False,
) -> None:
    """List an account's connections, highest priority first."""
    with open_database() as db, db.transaction() as session:
        if account_store.get_account(session, account) is None:
            raise CliError(f"no account {account}")
        connections = connection_store.list_connections(session, account)
        documents = [connection_document(c) for c in connections]
    if json_output:
        emit_json({"account_id": account, "connections": documents})
        return
    print_table(
        table(
            ["Id", "Name", "Provider", "Priority", "Status", "Last full sync"],
            [[c.id, c.name, c.provider, c.priority, _status(c), c.last_full_sync_at] for c in connections],
        )
    )
    if not connections:
        note(f"No connections yet: add one with `staffsync connections add --account {account} …`.")


@app.command("show", cls=GuardedCommand)
def show(
    connection_id: Annotated[str, typer.Argument(help="Id of the connection.")],
    json_output: JsonOption = False,
) -> None:
    """Show a connection: settings, field modes, filters, safeguards and its last runs."""
    with open_database() as db, db.transaction() as session:
        connection = require_connection(session, connection_id)
        runs = run_store.list_runs(session, connection.account_id, connection.id, limit=RECENT_RUNS)
        document = connection_document(connection)
        document["recent_runs"] = [run_document(run) for run in runs]
    if json_output:
        emit_json(document)
        return
    settings = connection_store.field_settings_of(connection)
    print_table(fields_table(_summary(connection)))
    print_table(
        table(
            ["Field", "Enabled", "Mode"],
            [[name, s.enabled, s.mode.value if s.enabled else None] for name, s in settings.settings.items()],
            title="Fields",
        )
    )
    filters = connection_store.filters_of(connection)
    print_table(
        fields_table(
            [
                ("Legal entities", ", ".join(sorted(filters.legal_entities)) or "all"),
                ("Employment types", ", ".join(sorted(filters.employment_types)) or "all"),
                ("Teams", ", ".join(sorted(filters.teams)) or "all"),
            ],
            title="Filters",
        )
    )
    print_table(fields_table(connection_store.thresholds_of(connection).to_mapping(), title="Safeguards"))
    print_table(
        table(
            ["Run", "Started", "Kind", "Status", "Created", "Updated", "Detached"],
            [
                [
                    run.id,
                    run.started_at,
                    run.kind + (" (dry run)" if run.dry_run else ""),
                    run.status,
                    run.created,
                    run.updated,
                    run.detached,
                ]
                for run in runs
            ],
            title="Recent runs",
        )
    )
    for problem in settings.diagnostics():
        note(f"Warning: {problem.message}")


@app.command("pause", cls=GuardedCommand)
def pause(
    connection_id: Annotated[str, typer.Argument(help="Id of the connection.")],
    json_output: JsonOption = False,
) -> None:
    """Stop syncing a connection on its schedule (`staffsync sync` still runs it by hand)."""
    with open_database() as db, db.transaction() as session:
        connection = require_connection(session, connection_id)
        schedules.pause(session, connection, now=now())
        document = connection_document(connection)
    if json_output:
        emit_json(document)
        return
    note(f"Connection {connection_id} is paused: the schedule will not sync it until `staffsync connections resume`.")


@app.command("resume", cls=GuardedCommand)
def resume(
    connection_id: Annotated[str, typer.Argument(help="Id of the connection.")],
    json_output: JsonOption = False,
) -> None:
    """Put a paused connection back on its schedule; it is due at once."""
    with open_database() as db, db.transaction() as session:
        connection = require_connection(session, connection_id)
        schedules.resume(session, connection, now=now())
        document = connection_document(connection)
        state = schedules.state_of(session, connection)
    if json_output:
        emit_json(document)
        return
    if connection.next_sync_at is None:
        note(f"Connection {connection_id} is resumed, but still waits for an admin ({state.value.replace('_', ' ')}).")
    else:
        note(f"Connection {connection_id} is back on its schedule and syncs within a minute.")


@app.command("schedule", cls=GuardedCommand)
def schedule(
    connection_id: Annotated[str, typer.Argument(help="Id of the connection.")],
    every: Annotated[
        int,
        typer.Option(
            "--every", min=MIN_INTERVAL_MINUTES, max=MAX_INTERVAL_MINUTES, help="Minutes between scheduled syncs."
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Change how often a connection syncs on its schedule."""
    with open_database() as db, db.transaction() as session:
        connection = require_connection(session, connection_id)
        schedules.set_interval(connection, every)
        document = connection_document(connection)
    if json_output:
        emit_json(document)
        return
    print_table(fields_table(_summary(connection)))


def require_connection(session: Session, connection_id: str) -> models.Connection:
    """Commands given a connection id alone look it up unscoped, then scope every later call to its
    account."""
    connection = connection_store.find_connection(session, connection_id)
    if connection is None:
        raise CliError(f"no connection {connection_id}")
    return connection


def connector_for(connection: models.Connection) -> HRConnector:
    """Called with a connection its session still holds: the account's time zone is read through it."""
    session = object_session(connection)
    account = account_store.get_account(session, connection.account_id) if session is not None else None
    timezone = account.timezone if account is not None else "UTC"
    try:
        # The first connector of a provider imports its SDK: start-up work, however late.
        with more_start_up():
            return build_connector(connection, settings=load_settings(), timezone=timezone)
    except (UnknownProvider, ProviderNotInstalled, InvalidConnectorConfig) as error:
        raise CliError(f"connection {connection.id} ({connection.name}): {error}") from None


def connection_document(connection: models.Connection) -> dict[str, Any]:
    """Everything about a connection but its credentials, which never leave the database."""
    settings = connection_store.field_settings_of(connection)
    return {
        "id": connection.id,
        "account_id": connection.account_id,
        "name": connection.name,
        "provider": connection.provider,
        "config": dict(connection.config),
        "priority": connection.priority,
        "schedule_minutes": connection.schedule_minutes,
        "status": connection.status,
        "status_message": connection.status_message,
        "created_at": connection.created_at,
        "last_full_sync_at": connection.last_full_sync_at,
        "watermark": connection.watermark,
        "disconnected_at": connection.disconnected_at,
        "paused": connection.paused_at is not None,
        "next_sync_at": connection.next_sync_at,
        "consecutive_failures": connection.consecutive_failures,
        "failing_since": connection.failing_since,
        "field_settings": settings.to_mapping(),
        "filters": connection_store.filters_of(connection).to_mapping(),
        "thresholds": connection_store.thresholds_of(connection).to_mapping(),
        "diagnostics": [
            {"code": d.code, "field": d.field, "severity": d.severity, "message": d.message}
            for d in settings.diagnostics()
        ],
    }


def run_document(run: models.SyncRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "connection_id": run.connection_id,
        "trigger": run.trigger,
        "kind": run.kind,
        "dry_run": run.dry_run,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": run_store.run_counts(run),
        "hold_reasons": list(run.hold_reasons),
        "error": run.error_message,
    }


def _summary(connection: models.Connection) -> list[tuple[str, object]]:
    config = ", ".join(f"{key}={value}" for key, value in sorted(connection.config.items()))
    return [
        ("Connection id", connection.id),
        ("Account id", connection.account_id),
        ("Name", connection.name),
        ("Provider", connection.provider),
        ("Config", config or None),
        ("Priority", connection.priority),
        ("Schedule", f"every {connection.schedule_minutes} minutes" + (" (paused)" if connection.paused_at else "")),
        ("Next sync", connection.next_sync_at or "not scheduled"),
        ("Status", _status(connection)),
        ("Last full sync", connection.last_full_sync_at),
    ]


def _status(connection: models.Connection) -> str:
    if connection.disconnected_at is not None:
        return "disconnected"
    if connection.failing_since is not None and connection.status_message:
        return f"failing since {connection.failing_since:%Y-%m-%d %H:%M} UTC: {connection.status_message}"
    if connection.status_message:
        return f"{connection.status}: {connection.status_message}"
    return connection.status
