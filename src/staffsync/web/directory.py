"""The directory's lists: Employees, Onboardings, Offboardings and Detached (PRODUCT.md §5), and ignoring an
onboarding. Every list is searchable, filterable and paged by keyset cursor; searching as you type
(htmx) swaps only the results, and the same form works as a plain GET without JavaScript."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from staffsync.services.directory import facets, list_employees
from staffsync.services.employees import EmployeeNotFound, set_flag
from staffsync.storage import accounts as account_store
from staffsync.storage import api_queries
from staffsync.storage import connections as connection_store
from staffsync.storage.directory import DirectoryCursor, DirectoryView
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web.auth import AdminAction, Browser, not_found
from staffsync.web.field_values import employment_type_label
from staffsync.web.render import context_of, done, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
RESULTS_ID = "directory-results"


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    title: str
    subtitle: str


PAGES = {
    DirectoryView.ACTIVE: Page(
        "/employees", "Employees", "Everyone in your directory, kept in step with your HR systems."
    ),
    DirectoryView.ONBOARDINGS: Page(
        "/onboardings",
        "Onboardings",
        "People whose start date is today or later (in your account's time zone). Ignore an onboarding to "
        "hide someone who needs none, such as an external contractor.",
    ),
    DirectoryView.OFFBOARDINGS: Page(
        "/offboardings",
        "Offboardings",
        "Upcoming departures, and people who left in the last 30 days, from continuously synchronised end dates.",
    ),
    DirectoryView.DETACHED: Page(
        "/detached",
        "Detached",
        "People no source feeds any more. They are kept, excluded from every workflow, and listed here for review.",
    ),
}


@dataclass(frozen=True, slots=True)
class ListParams:
    """A list's query string, read leniently: a link that went stale shows the first page, not an error."""

    q: str = ""
    team: str = ""
    legal_entity: str = ""
    employment_type: str = ""
    include_hidden: bool = False
    cursor: DirectoryCursor | None = None
    limit: int = PAGE_SIZE
    # 1-based position of the page's first row, carried along only to say "rows 51 to 100 of 1,234".
    at: int = 1

    @property
    def narrowed(self) -> bool:
        return bool(self.q.strip() or self.team or self.legal_entity or self.employment_type)

    def url(self, path: str, **changes: object) -> str:
        params = replace(self, **changes)  # type: ignore[arg-type]
        query = {
            "q": params.q,
            "team": params.team,
            "legal_entity": params.legal_entity,
            "employment_type": params.employment_type,
            "include_hidden": "true" if params.include_hidden else "",
            "cursor": params.cursor.to_token() if params.cursor else "",
            "limit": str(params.limit) if params.limit != PAGE_SIZE else "",
            "at": str(params.at) if params.cursor else "",
        }
        encoded = urlencode({name: value for name, value in query.items() if value})
        return f"{path}?{encoded}" if encoded else path


def _number(raw: str, *, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(raw), low), high)
    except ValueError:
        return default


def list_params(
    q: Annotated[str, Query(max_length=200)] = "",
    team: Annotated[str, Query(max_length=200)] = "",
    legal_entity: Annotated[str, Query(max_length=200)] = "",
    employment_type: Annotated[str, Query(max_length=32)] = "",
    include_hidden: Annotated[str, Query(max_length=8)] = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
    limit: Annotated[str, Query(max_length=8)] = "",
    at: Annotated[str, Query(max_length=12)] = "",
) -> ListParams:
    after = DirectoryCursor.from_token(cursor) if cursor else None
    return ListParams(
        q=q.strip(),
        team=team,
        legal_entity=legal_entity,
        employment_type=employment_type,
        include_hidden=include_hidden.lower() in {"true", "on", "1", "yes"},
        cursor=after,
        limit=_number(limit, default=PAGE_SIZE, low=1, high=MAX_PAGE_SIZE) if limit else PAGE_SIZE,
        at=_number(at, default=1, low=1, high=10**9) if after and at else 1,
    )


Params = Annotated[ListParams, Depends(list_params)]


def _list_page(request: Request, user: SignedIn, view: DirectoryView, params: ListParams) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        account = account_store.get_account(session, user.account_id)
        assert account is not None
        listing = list_employees(
            session,
            account,
            view=view,
            now=utc_now(),
            text=params.q or None,
            include_hidden=params.include_hidden,
            limit=params.limit,
            team=params.team or None,
            legal_entity=params.legal_entity or None,
            employment_type=params.employment_type or None,
            after=params.cursor,
        )
        options = facets(session, account)
        sources = {c.id: c.name for c in connection_store.list_connections(session, account.id)}
    page = PAGES[view]
    shown = len(listing.page.employees)
    next_cursor = listing.page.next_cursor
    values: dict[str, Any] = {
        "view": view.value,
        "page": page,
        "listing": listing,
        "params": params,
        "facets": options,
        "sources": sources,
        "type_label": employment_type_label,
        "days_until": _days_until,
        "first": params.at,
        "last": params.at + shown - 1,
        "next_url": params.url(page.path, cursor=next_cursor, at=params.at + shown) if next_cursor else None,
        "first_url": params.url(page.path, cursor=None) if params.cursor else None,
        "clear_url": ListParams(include_hidden=params.include_hidden, limit=params.limit).url(page.path),
        "results_id": RESULTS_ID,
    }
    htmx_swap = request.headers.get("HX-Target") == RESULTS_ID and not request.headers.get("HX-History-Restore-Request")
    template = "directory/_results.html" if htmx_swap else "directory/list.html"
    nav = "employees" if view is DirectoryView.ACTIVE else view.value
    response = render(request, template, user, nav=nav, **values)
    if htmx_swap:
        # htmx would push every form field, empty ones included: the address bar gets the tidy URL instead.
        response.headers["HX-Push-Url"] = params.url(page.path)
    return response


def _days_until(day: dt.date | None, today: dt.date) -> int | None:
    return None if day is None else (day - today).days


@router.get("/employees")
def employees_page(request: Request, user: Browser, params: Params) -> HTMLResponse:
    return _list_page(request, user, DirectoryView.ACTIVE, params)


@router.get("/onboardings")
def onboardings_page(request: Request, user: Browser, params: Params) -> HTMLResponse:
    return _list_page(request, user, DirectoryView.ONBOARDINGS, params)


@router.get("/offboardings")
def offboardings_page(request: Request, user: Browser, params: Params) -> HTMLResponse:
    return _list_page(request, user, DirectoryView.OFFBOARDINGS, params)


@router.get("/detached")
def detached_page(request: Request, user: Browser, params: Params) -> HTMLResponse:
    return _list_page(request, user, DirectoryView.DETACHED, params)


@router.post("/onboardings/{employee_id}/ignore")
def ignore_onboarding(
    request: Request,
    employee_id: str,
    user: AdminAction,
    back: Annotated[str, Form(max_length=16)] = "onboardings",
) -> Response:
    """Hides the person without deleting them (help page: "Handle external employees")."""
    with context_of(request).db.transaction() as session:
        employee = api_queries.get_employee(session, user.account_id, employee_id)
        if employee is None:
            raise not_found("employee")
        name = person_name(employee.first_name, employee.last_name, employee.work_email)
        try:
            set_flag(
                session,
                user.account_id,
                employee_id,
                flag="onboarding_ignored",
                value=True,
                actor=user.actor,
                now=utc_now(),
            )
        except EmployeeNotFound:
            raise not_found("employee") from None
    return done(
        request,
        user,
        f"/employees/{employee_id}" if back == "profile" else "/onboardings",
        f"{name}'s onboarding is ignored: {name} is hidden from workflows and the default lists, not deleted. "
        "Unhide from the profile to bring them back.",
    )


def person_name(first: str | None, last: str | None, email: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or email or "This person"
