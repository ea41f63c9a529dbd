"""The directory's pages: Employees, Onboardings, Offboardings, Detached, and an employee's profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from staffsync.services.directory import list_employees
from staffsync.storage import accounts as account_store
from staffsync.storage.directory import DirectoryView
from staffsync.sync.engine import utc_now
from staffsync.web.auth import Browser
from staffsync.web.render import context_of, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/employees")
def employees_page(
    request: Request,
    user: Browser,
    q: Annotated[str | None, Query(max_length=200)] = None,
    include_hidden: bool = False,
) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        account = account_store.get_account(session, user.account_id)
        assert account is not None
        listing = list_employees(
            session,
            account,
            view=DirectoryView.ACTIVE,
            now=utc_now(),
            text=q,
            include_hidden=include_hidden,
            limit=PAGE_SIZE,
        )
        return render(
            request, "employees.html", user, nav="employees", listing=listing, q=q or "", include_hidden=include_hidden
        )
