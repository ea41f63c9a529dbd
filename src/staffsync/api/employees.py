"""`/employees`: the directory, one person's profile, hand edits, hiding, and history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from staffsync.api.deps import ApiContext, Caller, Context, Reader, Writer
from staffsync.api.errors import ApiError, not_found
from staffsync.api.pagination import DirectoryPageRequest, DirectoryPaging, Paging
from staffsync.api.routes import links, operation_id
from staffsync.api.schemas import ChangeOut, ConnectionDiagnosticOut, EmployeeEdit, EmployeeOut, EmployeePage, Page
from staffsync.domain.fields import FIELDS, value_from_json
from staffsync.domain.values import FieldValue
from staffsync.services.directory import list_employees
from staffsync.services.employees import edit_employee, set_flag
from staffsync.storage import accounts as account_store
from staffsync.storage import api_queries
from staffsync.storage import runs as run_store
from staffsync.storage.directory import DirectoryView, fits_view
from staffsync.sync.engine import utc_now

router = APIRouter(tags=["employees"], generate_unique_id_function=operation_id)
EMPLOYEE_OPERATIONS = (
    "get_employee",
    "edit_employee",
    "hide_employee",
    "unhide_employee",
    "list_employee_history",
    "list_employee_assignments",
)


def employee_links(id_from: str) -> dict[str, dict[str, Any]]:
    """From a list of people to what can be done with one of them (the first, in a page)."""
    return links(*EMPLOYEE_OPERATIONS, id_from=id_from) | links(
        "ignore_onboarding", id_from=id_from, parameter="employee_id"
    )


def directory_page(
    context: ApiContext,
    caller: Caller,
    paging: DirectoryPageRequest,
    *,
    view: DirectoryView,
    text: str | None = None,
    include_hidden: bool = False,
) -> EmployeePage:
    """One page of a directory list (active, onboardings, offboardings, detached), with its diagnostics."""
    if paging.after is not None and not fits_view(view, paging.after):
        # A cursor of another list would start this one from the top, and a client would page round in circles.
        raise ApiError(400, "invalid_cursor", "The cursor is not one this list returned")
    with context.db.transaction() as session:
        account = account_store.get_account(session, caller.account_id)
        assert account is not None
        listing = list_employees(
            session,
            account,
            view=view,
            now=utc_now(),
            text=text,
            include_hidden=include_hidden,
            limit=paging.limit,
            after=paging.after,
        )
        following = listing.page.next_cursor
        return EmployeePage(
            items=[EmployeeOut.of(row) for row in listing.page.employees],
            next_cursor=following.to_token() if following else None,
            view=listing.view.value,
            today=listing.today,
            total=listing.page.total,
            diagnostics=[
                ConnectionDiagnosticOut(
                    connection_id=d.connection_id, connection_name=d.connection_name, code=d.code, message=d.message
                )
                for d in listing.diagnostics
            ],
        )


@router.get(
    "/employees",
    operation_id="list_employees",
    responses={200: {"links": employee_links("$response.body#/items/0/id")}},
)
def list_directory(
    caller: Reader,
    context: Context,
    paging: DirectoryPaging,
    q: Annotated[str | None, Query(max_length=200, description="Name, email, team or legal entity")] = None,
    include_hidden: bool = False,
    view: DirectoryView = DirectoryView.ACTIVE,
) -> EmployeePage:
    return directory_page(context, caller, paging, view=view, text=q, include_hidden=include_hidden)


@router.get("/employees/{id}")
def get_employee(id: str, caller: Reader, context: Context) -> EmployeeOut:
    with context.db.transaction() as session:
        employee = api_queries.get_employee(session, caller.account_id, id)
        if employee is None:
            raise not_found("employee", id)
        return EmployeeOut.of(employee)


def _decoded(fields: dict[str, Any]) -> dict[str, FieldValue]:
    unknown = sorted(name for name in fields if name not in FIELDS)
    if unknown:
        raise ApiError(422, "invalid_request", "Unknown fields", {"unknown_fields": unknown})
    decoded: dict[str, FieldValue] = {}
    bad: list[str] = []
    for name, raw in fields.items():
        try:
            decoded[name] = value_from_json(name, raw)
        except (ValueError, TypeError, KeyError, AttributeError):
            bad.append(name)
    if bad:
        raise ApiError(422, "invalid_request", "Values not of the field's form", {"invalid_fields": sorted(bad)})
    return decoded


@router.patch("/employees/{id}", operation_id="edit_employee")
def edit(id: str, body: EmployeeEdit, caller: Writer, context: Context) -> EmployeeOut:
    """Only fields no source keeps in continuous sync: any other answers 409 field_locked, naming the source."""
    values = _decoded(body.fields)
    with context.db.transaction(actor=caller.actor) as session:
        edit_employee(session, caller.account_id, id, values, actor=caller.actor, now=utc_now())
        employee = api_queries.get_employee(session, caller.account_id, id)
        assert employee is not None
        return EmployeeOut.of(employee)


def set_employee_flag(context: ApiContext, caller: Caller, employee_id: str, *, flag: str, value: bool) -> EmployeeOut:
    with context.db.transaction(actor=caller.actor) as session:
        set_flag(session, caller.account_id, employee_id, flag=flag, value=value, actor=caller.actor, now=utc_now())
        employee = api_queries.get_employee(session, caller.account_id, employee_id)
        assert employee is not None
        return EmployeeOut.of(employee)


@router.post("/employees/{id}/hide", operation_id="hide_employee")
def hide(id: str, caller: Writer, context: Context) -> EmployeeOut:
    """Out of every workflow and the default lists; the record keeps syncing."""
    return set_employee_flag(context, caller, id, flag="hidden", value=True)


@router.post("/employees/{id}/unhide", operation_id="unhide_employee")
def unhide(id: str, caller: Writer, context: Context) -> EmployeeOut:
    return set_employee_flag(context, caller, id, flag="hidden", value=False)


@router.get("/employees/{id}/history", operation_id="list_employee_history")
def history(id: str, caller: Reader, context: Context, paging: Paging) -> Page[ChangeOut]:
    """Applied changes, newest first: sync changes and hand edits alike."""
    with context.db.transaction() as session:
        if api_queries.get_employee(session, caller.account_id, id) is None:
            raise not_found("employee", id)
        rows = run_store.employee_history(session, caller.account_id, id, offset=paging.offset, limit=paging.probe)
        items, cursor = paging.window(rows)
        return Page(items=[ChangeOut.of(row) for row in items], next_cursor=cursor)
