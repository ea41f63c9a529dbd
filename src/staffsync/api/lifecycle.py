"""`/onboardings` and `/offboardings`: the lifecycle lists of PRODUCT.md §5, and ignoring an onboarding."""

from __future__ import annotations

from fastapi import APIRouter

from staffsync.api.deps import Context, Reader, Writer
from staffsync.api.employees import directory_page, employee_links, set_employee_flag
from staffsync.api.pagination import DirectoryPaging
from staffsync.api.routes import operation_id
from staffsync.api.schemas import EmployeeOut, EmployeePage
from staffsync.storage.directory import DirectoryView

router = APIRouter(tags=["lifecycle"], generate_unique_id_function=operation_id)
FIRST_PERSON = "$response.body#/items/0/id"


@router.get("/onboardings", operation_id="list_onboardings", responses={200: {"links": employee_links(FIRST_PERSON)}})
def onboardings(
    caller: Reader, context: Context, paging: DirectoryPaging, include_hidden: bool = False
) -> EmployeePage:
    """People starting today or later (the account's time zone), not ignored."""
    return directory_page(context, caller, paging, view=DirectoryView.ONBOARDINGS, include_hidden=include_hidden)


@router.post("/onboardings/{employee_id}/ignore")
def ignore_onboarding(employee_id: str, caller: Writer, context: Context) -> EmployeeOut:
    """Ignoring an onboarding hides the person; the record stays."""
    return set_employee_flag(context, caller, employee_id, flag="onboarding_ignored", value=True)


@router.get("/offboardings", operation_id="list_offboardings", responses={200: {"links": employee_links(FIRST_PERSON)}})
def offboardings(
    caller: Reader, context: Context, paging: DirectoryPaging, include_hidden: bool = False
) -> EmployeePage:
    """Upcoming departures and those of the last 30 days, from continuously synced end dates only; a diagnostic
    names each connection whose end date is not, since its departures cannot be listed."""
    return directory_page(context, caller, paging, view=DirectoryView.OFFBOARDINGS, include_hidden=include_hidden)
