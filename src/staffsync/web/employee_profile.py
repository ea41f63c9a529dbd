"""One employee's profile page: fields with provenance and locks, hand edits of what no source keeps in
continuous sync, hide / unhide, source records, history, and why the person is in the directory."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from staffsync.domain.fields import FIELDS, FieldSpec
from staffsync.domain.records import normalise_email
from staffsync.domain.values import FieldValue
from staffsync.services.employees import (
    EmailTaken,
    EmployeeNotFound,
    FieldLocked,
    InvalidEdit,
    edit_employee,
    set_flag,
)
from staffsync.services.profile import EmployeeProfile, load_profile
from staffsync.storage import accounts as account_store
from staffsync.storage import api_queries
from staffsync.storage import directory as directory_store
from staffsync.storage.employees import employees_by_email
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web.auth import CSRF_FIELD, AdminAction, Browser, WebError, not_found
from staffsync.web.directory import person_name
from staffsync.web.field_values import (
    ADDRESS_PARTS,
    EMPLOYMENT_STATUS_LABELS,
    EMPLOYMENT_TYPE_LABELS,
    InvalidInput,
    form_of,
    read_form,
    show,
)
from staffsync.web.render import context_of, done, render

router = APIRouter(include_in_schema=False)

ACTIONS = {
    "create": "Created",
    "update": "Updated",
    "link": "Linked to a source record",
    "edit": "Edited by hand",
    "detach": "Detached",
}


def actor_label(actor: str, connection_names: Mapping[str, str], connection_id: str | None) -> str:
    """Who made a change, in words: a sync of a named source, an admin's email, or an API token's name."""
    kind, _, who = actor.partition(":")
    if kind == "sync":
        source = connection_names.get(connection_id or "")
        return f"Sync of {source}" if source else "A sync"
    if kind == "admin":
        return who
    if kind == "api-token":
        return f"API token “{who}”"
    return actor


def _profile_page(
    request: Request,
    user: SignedIn,
    employee_id: str,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    inputs: Mapping[str, Mapping[str, str]] | None = None,
) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        account = account_store.get_account(session, user.account_id)
        assert account is not None
        profile = load_profile(session, account, employee_id, now=utc_now())
        if profile is None:
            raise not_found("employee")
        refs = {
            f.spec.name: directory_store.ref_options(session, account.id, f.spec.name)
            for f in profile.fields
            if f.spec.kind == "ref" and f.editable and user.is_admin
        }
    forms = {
        f.spec.name: dict((inputs or {}).get(f.spec.name) or form_of(f.spec, f.value, emails=profile.people_emails))
        for f in profile.fields
    }
    return render(
        request,
        "directory/profile.html",
        user,
        nav="employees",
        status=status,
        profile=profile,
        employee=profile.employee,
        name=profile.name,
        forms=forms,
        errors=errors or {},
        refs=refs,
        show=show,
        actor_label=actor_label,
        actions=ACTIONS,
        employment_types=EMPLOYMENT_TYPE_LABELS,
        employment_statuses=EMPLOYMENT_STATUS_LABELS,
        address_parts=ADDRESS_PARTS,
    )


@router.get("/employees/{employee_id}")
def profile_page(request: Request, employee_id: str, user: Browser) -> HTMLResponse:
    return _profile_page(request, user, employee_id)


def _set_hidden(request: Request, user: SignedIn, employee_id: str, *, hidden: bool) -> Response:
    with context_of(request).db.transaction() as session:
        employee = api_queries.get_employee(session, user.account_id, employee_id)
        if employee is None:
            raise not_found("employee")
        name = person_name(employee.first_name, employee.last_name, employee.work_email)
        try:
            set_flag(
                session, user.account_id, employee_id, flag="hidden", value=hidden, actor=user.actor, now=utc_now()
            )
        except EmployeeNotFound:
            raise not_found("employee") from None
    message = (
        f"{name} is hidden: out of every workflow and the default lists. The record stays in sync; "
        "unhide it here at any time."
        if hidden
        else f"{name} is visible again and back in every workflow."
    )
    return done(request, user, f"/employees/{employee_id}", message)


@router.post("/employees/{employee_id}/hide")
def hide(request: Request, employee_id: str, user: AdminAction) -> Response:
    return _set_hidden(request, user, employee_id, hidden=True)


@router.post("/employees/{employee_id}/unhide")
def unhide(request: Request, employee_id: str, user: AdminAction) -> Response:
    return _set_hidden(request, user, employee_id, hidden=False)


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != CSRF_FIELD}


@router.post("/employees/{employee_id}/fields/{field}")
def edit_field(
    request: Request,
    employee_id: str,
    field: str,
    user: AdminAction,
    form: dict[str, str] = Depends(_form_fields),  # noqa: B008 - FastAPI's dependency declaration
) -> Response:
    """Saves one field through `edit_employee`, which alone decides whether the field may be edited by hand."""
    spec = FIELDS.get(field)
    if spec is None:
        raise WebError(404, "No such field", f"“{field}” is not a field of the directory.")
    context = context_of(request)
    problem: str | None = None
    profile: EmployeeProfile | None = None
    try:
        with context.db.transaction() as session:
            account = account_store.get_account(session, user.account_id)
            assert account is not None
            profile = load_profile(session, account, employee_id, now=utc_now())
            if profile is None:
                raise not_found("employee")
            value = _typed_value(session, user.account_id, spec, form, profile)
            change = edit_employee(
                session, user.account_id, employee_id, {field: value}, actor=user.actor, now=utc_now()
            )
            manager = value if spec.kind == "employee" else None
            names = {**profile.people, **_names_of(session, user.account_id, manager)}
    except InvalidInput as error:
        problem = str(error)
    except (EmailTaken, InvalidEdit) as error:
        problem = str(error)
    except FieldLocked as locked:
        return done(request, user, f"/employees/{employee_id}#field-{field}", str(locked), kind="error")
    except EmployeeNotFound:
        raise not_found("employee") from None
    if problem is not None:
        return _profile_page(request, user, employee_id, status=422, errors={field: problem}, inputs={field: form})
    if change is None:
        return done(
            request, user, f"/employees/{employee_id}#field-{field}", f"{spec.label} is unchanged.", kind="info"
        )
    assert profile is not None
    old = show(change.fields[0].old, people=names, kind=spec.kind) or "empty"
    new = show(change.fields[0].new, people=names, kind=spec.kind) or "empty"
    return done(
        request,
        user,
        f"/employees/{employee_id}#field-{field}",
        f"{spec.label} of {profile.name} saved: {old} → {new}.",
    )


def _names_of(session: Session, account_id: str, employee_id: FieldValue) -> dict[str, str]:
    if not isinstance(employee_id, str):
        return {}
    return {key: name for key, (name, _) in directory_store.display_names(session, account_id, [employee_id]).items()}


def _typed_value(
    session: Session, account_id: str, spec: FieldSpec, form: Mapping[str, str], profile: EmployeeProfile
) -> FieldValue:
    """The form read as a value. Input of a field that is locked anyway is not judged: the service refuses
    the edit itself, with the lock's reason, whatever was typed."""
    current = profile.field(spec.name)

    def person_by_email(email: str) -> str | None:
        key = normalise_email(email)
        found = employees_by_email(session, account_id, [key]).get(key) if key else None
        return found.id if found is not None else None

    try:
        value = read_form(
            spec,
            form,
            current=current.value,
            refs=directory_store.ref_options(session, account_id, spec.name) if spec.kind == "ref" else (),
            person_by_email=person_by_email,
        )
    except InvalidInput:
        if current.lock is not None:
            return current.value
        raise
    if spec.kind == "employee" and value == profile.employee.id:
        raise InvalidInput("A person cannot be their own manager")
    return value
