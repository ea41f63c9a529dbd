"""`/connections`: HR sources of the caller's account, their field settings, filters and filtering preview."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from staffsync.api.deps import ApiContext, Caller, Context, Reader, Writer
from staffsync.api.errors import ApiError, not_found
from staffsync.api.pagination import Paging
from staffsync.api.rate_limits import RATE_LIMITED_RESPONSE, check_preview
from staffsync.api.routes import links, operation_id
from staffsync.api.schemas import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionUpdate,
    DiagnosticOut,
    FieldSettingOut,
    FieldSettingsIn,
    FieldSettingsOut,
    FilterOptionOut,
    FilterOptionsOut,
    FiltersBody,
    Page,
    PreviewRowOut,
)
from staffsync.connectors.base import ConnectorError, HRConnector
from staffsync.connectors.registry import InvalidConnectorConfig, ProviderNotInstalled, UnknownProvider, get_provider
from staffsync.domain.fields import CATALOGUE, FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.services.disconnect import disconnect
from staffsync.services.erase import erase_source
from staffsync.services.preview import preview
from staffsync.storage import accounts as account_store
from staffsync.storage import connections as connection_store
from staffsync.storage import models, schedules
from staffsync.sync.engine import utc_now

router = APIRouter(prefix="/connections", tags=["connections"], generate_unique_id_function=operation_id)
# What a client does next with a connection it created or found.
CONNECTION_OPERATIONS = (
    "get_connection",
    "update_connection",
    "disconnect_connection",
    "get_fields",
    "put_fields",
    "get_filters",
    "put_filters",
    "get_filter_options",
    "get_preview",
    "start_sync",
    "list_syncs",
)


def scoped_connection(session: Session, caller: Caller, connection_id: str) -> models.Connection:
    connection = connection_store.get_connection(session, caller.account_id, connection_id)
    if connection is None:
        raise not_found("connection", connection_id)
    return connection


def open_connector(context: ApiContext, session: Session, connection: models.Connection) -> HRConnector:
    account = account_store.get_account(session, connection.account_id)
    assert account is not None
    try:
        return context.connector_for(connection, account.timezone)
    except (InvalidConnectorConfig, UnknownProvider, ProviderNotInstalled) as error:
        raise ApiError(422, "connector_unavailable", str(error)) from None


def source_failed(error: ConnectorError) -> ApiError:
    # The source, not the request, failed: a gateway error with the connector's plain-words message.
    return ApiError(502, "source_failed", error.message, {"kind": error.kind.value})


@router.get("", responses={200: {"links": links(*CONNECTION_OPERATIONS, id_from="$response.body#/items/0/id")}})
def list_connections(caller: Reader, context: Context, paging: Paging) -> Page[ConnectionOut]:
    with context.db.transaction() as session:
        rows = connection_store.list_connections(session, caller.account_id)
        items, cursor = paging.window(rows[paging.offset : paging.offset + paging.probe])
        return Page(items=[ConnectionOut.of(row) for row in items], next_cursor=cursor)


@router.post("", status_code=201, responses={201: {"links": links(*CONNECTION_OPERATIONS)}})
def create_connection(body: ConnectionCreate, caller: Writer, context: Context) -> ConnectionOut:
    try:
        provider = get_provider(body.provider)
    except (UnknownProvider, ProviderNotInstalled) as error:
        raise ApiError(422, "unknown_provider", str(error)) from None
    unused = sorted(set(body.config) - provider.config_keys)
    missing = sorted(provider.required_config - set(body.config))
    if unused or missing:
        raise ApiError(
            422,
            "invalid_config",
            f"The {provider.label} provider reads {', '.join(sorted(provider.config_keys)) or 'no settings'}",
            {"unknown": unused, "missing": missing},
        )
    with context.db.transaction(actor=caller.actor) as session:
        connection = connection_store.create_connection(
            session,
            caller.account_id,
            name=body.name.strip(),
            provider=provider.name,
            now=utc_now(),
            config={**provider.config_defaults, **body.config},
            priority=body.priority,
            schedule_minutes=body.schedule_minutes or context.default_schedule_minutes(),
        )
        return ConnectionOut.of(connection)


@router.get("/{id}")
def get_connection(id: str, caller: Reader, context: Context) -> ConnectionOut:
    with context.db.transaction() as session:
        return ConnectionOut.of(scoped_connection(session, caller, id))


@router.patch("/{id}")
def update_connection(id: str, body: ConnectionUpdate, caller: Writer, context: Context) -> ConnectionOut:
    with context.db.transaction(actor=caller.actor) as session:
        connection = scoped_connection(session, caller, id)
        if body.name is not None:
            connection.name = body.name.strip()
        if body.priority is not None:
            connection.priority = body.priority
        if body.schedule_minutes is not None:
            schedules.set_interval(connection, body.schedule_minutes)
        if body.paused is True:
            schedules.pause(session, connection, now=utc_now())
        elif body.paused is False:
            schedules.resume(session, connection, now=utc_now())
        return ConnectionOut.of(connection)


@router.delete("/{id}")
def disconnect_connection(
    id: str,
    caller: Writer,
    context: Context,
    erase: Annotated[
        bool,
        Query(
            description="false (the default) keeps the directory: its people stay, detached. true erases everything "
            "from this source: the people only it fed, their history and events, its runs, its links and the "
            "connection itself; people another source also feeds stay, without this source's values",
        ),
    ] = False,
) -> ConnectionOut:
    """Stops syncing for good; its people stay, detached with the reason "source disconnected" — or, with
    `erase=true`, everything this source brought is deleted (the answer is the connection as it was last,
    status "erased"). 409 sync_running while a run of the connection is going."""
    now = utc_now()
    connection = (
        erase_source(context.db, caller.account_id, id, now=now)
        if erase
        else disconnect(context.db, caller.account_id, id, now=now)
    )
    if connection is None:
        raise not_found("connection", id)
    return ConnectionOut.of(connection)


def _field_settings_out(settings: FieldSettings, purged: frozenset[str] = frozenset()) -> FieldSettingsOut:
    return FieldSettingsOut(
        fields=[
            FieldSettingOut(
                field=spec.name,
                label=spec.label,
                core=spec.core,
                personal=spec.personal,
                enabled=settings[spec.name].enabled,
                mode=settings.mode(spec.name).value,
            )
            for spec in CATALOGUE
        ],
        diagnostics=[DiagnosticOut.of(problem) for problem in settings.diagnostics()],
        purged=sorted(purged),
    )


@router.get("/{id}/fields")
def get_fields(id: str, caller: Reader, context: Context) -> FieldSettingsOut:
    with context.db.transaction() as session:
        return _field_settings_out(connection_store.field_settings_of(scoped_connection(session, caller, id)))


@router.put("/{id}/fields")
def put_fields(id: str, body: FieldSettingsIn, caller: Writer, context: Context) -> FieldSettingsOut:
    """Fields switched off are purged at once, values and history: personal data leaves when the admin says so."""
    with context.db.transaction(actor=caller.actor) as session:
        connection = scoped_connection(session, caller, id)
        settings = FieldSettings.from_mapping(
            {item.field: {"enabled": item.enabled, "mode": item.mode} for item in body.fields}
        )
        purged = connection_store.save_field_settings(session, connection, settings, now=utc_now())
        return _field_settings_out(settings, purged)


@router.get("/{id}/filters")
def get_filters(id: str, caller: Reader, context: Context) -> FiltersBody:
    with context.db.transaction() as session:
        rules = connection_store.filters_of(scoped_connection(session, caller, id))
        return FiltersBody.model_validate(rules.to_mapping())


@router.put("/{id}/filters")
def put_filters(id: str, body: FiltersBody, caller: Writer, context: Context) -> FiltersBody:
    with context.db.transaction(actor=caller.actor) as session:
        connection = scoped_connection(session, caller, id)
        rules = FilterRules.from_mapping(body.model_dump())
        connection_store.save_filters(session, connection, rules, now=utc_now())
        return FiltersBody.model_validate(rules.to_mapping())


@router.get("/{id}/filter-options")
def get_filter_options(id: str, caller: Reader, context: Context) -> FilterOptionsOut:
    """Read from the source itself, so admins pick among the values their HR system really has."""
    with context.db.transaction() as session:
        connector = open_connector(context, session, scoped_connection(session, caller, id))
    try:
        options = connector.filter_options()
    except ConnectorError as error:
        raise source_failed(error) from None

    def listed(values: tuple[object, ...]) -> list[FilterOptionOut]:
        return [FilterOptionOut.model_validate(option, from_attributes=True) for option in values]

    return FilterOptionsOut(
        legal_entities=listed(options.legal_entities),
        employment_types=listed(options.employment_types),
        teams=listed(options.teams),
    )


@router.get("/{id}/preview", responses=RATE_LIMITED_RESPONSE)
def get_preview(
    id: str,
    caller: Reader,
    context: Context,
    paging: Paging,
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="Part of a last name")] = None,
    status: Annotated[Literal["included", "excluded"] | None, Query()] = None,
) -> Page[PreviewRowOut]:
    """Every person the source returns, included or not and why: the very evaluation a sync makes."""
    with context.db.transaction() as session:
        connection = scoped_connection(session, caller, id)
        check_preview(request, caller.account_id)
        connector = open_connector(context, session, connection)
        settings = connection_store.field_settings_of(connection)
        rules = connection_store.filters_of(connection)
    rows = preview(connector, settings, rules, last_name=q, status=status, rows=paging.offset + paging.probe)
    try:
        window = list(itertools.islice(rows, paging.offset, paging.offset + paging.probe))
    except ConnectorError as error:
        raise source_failed(error) from None
    items, cursor = paging.window(window)
    return Page(
        items=[
            PreviewRowOut(
                remote_id=row.remote_id,
                first_name=row.first_name,
                last_name=row.last_name,
                work_email=row.work_email,
                included=row.included,
                reasons=list(row.reasons),
            )
            for row in items
        ],
        next_cursor=cursor,
    )
