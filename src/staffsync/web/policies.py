"""Settings → IT policies: the list, and a policy's page where every change is previewed (who gains, who loses)
before it is saved. Saving a form whose preview was not shown, or that changed since, shows the preview first."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from staffsync.domain.policies import POLICY_FIELDS, Operator, Policy, PolicyError
from staffsync.services import policies
from staffsync.storage import models
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web.auth import AdminAction, Browser, CsrfChecked, WebError, not_found
from staffsync.web.render import context_of, done, render

router = APIRouter(include_in_schema=False)

PAGE = "/settings/policies"
BLANK_CONDITION_ROWS = 2
MAX_CONDITION_ROWS = 20
OPERATORS = {
    Operator.EQUALS.value: "is",
    Operator.IN.value: "is one of",
    Operator.CONTAINS.value: "contains",
    Operator.STARTS_WITH.value: "starts with",
}


@router.get(PAGE)
def policies_page(request: Request, user: Browser) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        rows = policies.list_policies(session, user.account_id)
        holders = _holders(session, user.account_id)
        described = {row.id: policies.to_domain(row) for row in rows}
        return render(
            request,
            "policies/list.html",
            user,
            nav="policies",
            rows=rows,
            holders=holders,
            described=described,
        )


@router.get(PAGE + "/new")
def new_policy_page(request: Request, user: Browser) -> HTMLResponse:
    return _editor(request, user, form=_empty_form())


@router.get(PAGE + "/{policy_id}")
def policy_page(request: Request, user: Browser, policy_id: str) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        row = _policy_of(session, user, policy_id)
        form = _form_of(row)
        members = _members(session, user.account_id, row.id)
    return _editor(request, user, form=form, policy_id=policy_id, members=members)


@router.post(PAGE + "/preview")
async def preview_policy(request: Request, user: CsrfChecked) -> HTMLResponse:
    """Any signed-in role may preview: it changes nothing."""
    form = _read_form(await request.form())
    return _previewed(request, user, form)


@router.post(PAGE + "/save")
async def save_policy(request: Request, user: AdminAction) -> Response:
    form = _read_form(await request.form())
    draft, problems = _draft(form)
    if draft is None or form["previewed"] != _fingerprint(draft):
        # Never saved blind: the admin sees who gains and who loses, then saves exactly that.
        return _previewed(request, user, form, problems=problems, notice=not problems)
    with context_of(request).db.transaction() as session:
        if form["existing"]:
            _policy_of(session, user, draft.id)
        before = len(_members(session, user.account_id, draft.id))
        try:
            policies.save_policy(session, user.account_id, draft, now=utc_now())
        except policies.PolicyNotFound:
            raise WebError(404, "Policy not found", "This policy belongs to another account.") from None
        after = len(_members(session, user.account_id, draft.id))
    verb = "updated" if form["existing"] else "created"
    return done(
        request,
        user,
        f"{PAGE}/{draft.id}",
        f"Policy “{draft.name}” {verb}: {after} {_people(after)} hold {draft.assignment.label()} (before: {before}).",
    )


@router.get(PAGE + "/{policy_id}/delete")
def delete_confirmation(request: Request, user: Browser, policy_id: str) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        row = _policy_of(session, user, policy_id)
        members = _members(session, user.account_id, row.id)
        return render(request, "policies/delete.html", user, nav="policies", row=row, members=members)


@router.post(PAGE + "/{policy_id}/delete")
def delete_policy(request: Request, user: AdminAction, policy_id: str) -> Response:
    with context_of(request).db.transaction() as session:
        row = _policy_of(session, user, policy_id)
        name, count = row.name, len(_members(session, user.account_id, row.id))
        policies.delete_policy(session, user.account_id, policy_id, now=utc_now())
    return done(request, user, PAGE, f"Policy “{name}” deleted: {count} {_people(count)} lost its assignment.")


# ---- the editor ----


def _previewed(
    request: Request,
    user: SignedIn,
    form: dict[str, Any],
    *,
    problems: list[str] | None = None,
    notice: bool = False,
) -> HTMLResponse:
    draft, found = _draft(form)
    problems = problems or found
    preview = None
    if draft is not None:
        with context_of(request).db.transaction() as session:
            if form["existing"]:
                _policy_of(session, user, draft.id)
            preview = policies.preview_policy(session, user.account_id, draft, now=utc_now())
        form["previewed"] = _fingerprint(draft)
    return _editor(
        request,
        user,
        form=form,
        policy_id=form["policy_id"] if form["existing"] else None,
        preview=preview,
        problems=problems,
        notice=notice,
        status=422 if problems else 200,
    )


def _editor(
    request: Request,
    user: SignedIn,
    *,
    form: dict[str, Any],
    policy_id: str | None = None,
    members: list[policies.PersonRef] | None = None,
    preview: policies.PolicyPreview | None = None,
    problems: list[str] | None = None,
    notice: bool = False,
    status: int = 200,
) -> HTMLResponse:
    rows = list(form["conditions"])
    rows += [{"field": "", "operator": "equals", "values": ""}] * BLANK_CONDITION_ROWS
    return render(
        request,
        "policies/edit.html",
        user,
        status=status,
        nav="policies",
        form=form,
        condition_rows=rows[:MAX_CONDITION_ROWS],
        policy_id=policy_id,
        members=members,
        preview=preview,
        problems=problems or [],
        notice=notice,
        fields=POLICY_FIELDS,
        operators=OPERATORS,
    )


def _empty_form() -> dict[str, Any]:
    return {
        "policy_id": "",
        "existing": False,
        "name": "",
        "application": "",
        "role": "",
        "enabled": True,
        "conditions": [],
        "previewed": "",
    }


def _form_of(row: models.Policy) -> dict[str, Any]:
    return {
        "policy_id": row.id,
        "existing": True,
        "name": row.name,
        "application": row.application,
        "role": row.role or "",
        "enabled": row.enabled,
        "conditions": [
            {"field": c["field"], "operator": c["operator"], "values": ", ".join(c["values"])} for c in row.conditions
        ],
        "previewed": "",
    }


def _read_form(data: FormData) -> dict[str, Any]:
    def text(name: str, limit: int = 500) -> str:
        value = data.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    conditions = []
    for index in range(MAX_CONDITION_ROWS):
        field, values = text(f"condition_field_{index}"), text(f"condition_values_{index}", 5000)
        if not field and not values:
            continue
        conditions.append({"field": field, "operator": text(f"condition_operator_{index}"), "values": values})
    return {
        "policy_id": text("policy_id", 36),
        "existing": text("existing") == "1",
        "name": text("name"),
        "application": text("application"),
        "role": text("role"),
        "enabled": data.get("enabled") == "on",
        "conditions": conditions,
        "previewed": text("previewed", 64),
    }


def _draft(form: dict[str, Any]) -> tuple[Policy | None, list[str]]:
    conditions = []
    for row in form["conditions"]:
        # Only "is one of" reads a list: a job title like "Head of Sales, EMEA" stays one value.
        raw = row["values"]
        values = [v.strip() for v in raw.split(",")] if row["operator"] == Operator.IN.value else [raw]
        conditions.append({"field": row["field"], "operator": row["operator"], "values": values})
    try:
        draft = policies.draft(
            policy_id=form["policy_id"] or None,
            name=form["name"],
            conditions=conditions,
            application=form["application"],
            role=form["role"] or None,
            enabled=form["enabled"],
        )
    except PolicyError as error:
        return None, error.problems
    # A new policy keeps the id of its first preview, so that saving is about the very policy previewed.
    form["policy_id"] = draft.id
    return draft, []


def _fingerprint(policy: Policy) -> str:
    content = {
        "id": policy.id,
        "name": policy.name,
        "conditions": [c.to_mapping() for c in policy.conditions],
        "application": policy.assignment.application,
        "role": policy.assignment.role,
        "enabled": policy.enabled,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _policy_of(session: Session, user: SignedIn, policy_id: str) -> models.Policy:
    try:
        return policies.get_policy(session, user.account_id, policy_id)
    except policies.PolicyNotFound:
        raise not_found("policy") from None


def _holders(session: Session, account_id: str) -> dict[str, int]:
    rows = session.execute(
        select(models.PolicyAssignment.policy_id, func.count())
        .where(models.PolicyAssignment.account_id == account_id)
        .group_by(models.PolicyAssignment.policy_id)
    )
    return {policy_id: count for policy_id, count in rows}


def _members(session: Session, account_id: str, policy_id: str) -> list[policies.PersonRef]:
    employee = models.Employee
    rows = session.execute(
        select(employee.id, employee.first_name, employee.last_name, employee.work_email)
        .join(models.PolicyAssignment, models.PolicyAssignment.employee_id == employee.id)
        .where(models.PolicyAssignment.account_id == account_id, models.PolicyAssignment.policy_id == policy_id)
        .order_by(employee.last_name, employee.first_name, employee.id)
    )
    return [
        policies.PersonRef(row.id, " ".join(p for p in (row.first_name, row.last_name) if p), row.work_email)
        for row in rows
    ]


def _people(count: int) -> str:
    return "person" if count == 1 else "people"
