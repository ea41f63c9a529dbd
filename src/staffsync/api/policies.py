"""`/policies` (IT policies: preview who gains and loses, then save), an employee's assignments, and `/audit`
(the read-only trail of configuration changes)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from staffsync.api.deps import Context, Reader, Writer
from staffsync.api.errors import ApiError, not_found
from staffsync.api.pagination import Paging
from staffsync.api.policy_schemas import (
    AssignmentHolder,
    AssignmentOut,
    AuditEntryOut,
    PolicyBody,
    PolicyOut,
    PolicyPreviewOut,
    PolicyPreviewRequest,
)
from staffsync.api.routes import links, operation_id
from staffsync.api.schemas import Page
from staffsync.domain.policies import Policy, PolicyError
from staffsync.services import policies
from staffsync.storage import audit, models
from staffsync.storage.api_queries import get_employee
from staffsync.sync.engine import utc_now

router = APIRouter(tags=["policies"], generate_unique_id_function=operation_id)
POLICY_OPERATIONS = ("get_policy", "replace_policy", "delete_policy", "list_policy_holders")


def _draft(body: PolicyBody, policy_id: str | None) -> Policy:
    try:
        return policies.draft(
            policy_id=policy_id,
            name=body.name,
            conditions=[c.model_dump() for c in body.conditions],
            application=body.application,
            role=body.role,
            enabled=body.enabled,
        )
    except PolicyError as error:
        raise ApiError(422, "invalid_policy", str(error), error.problems) from None


def _holders(session: Session, account_id: str, policy_ids: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(models.PolicyAssignment.policy_id, func.count())
        .where(models.PolicyAssignment.account_id == account_id, models.PolicyAssignment.policy_id.in_(policy_ids))
        .group_by(models.PolicyAssignment.policy_id)
    )
    return {policy_id: count for policy_id, count in rows}


@router.get("/policies", responses={200: {"links": links(*POLICY_OPERATIONS, id_from="$response.body#/items/0/id")}})
def list_policies(caller: Reader, context: Context, paging: Paging) -> Page[PolicyOut]:
    with context.db.transaction() as session:
        rows = policies.list_policies(session, caller.account_id)
        items, cursor = paging.window(rows[paging.offset : paging.offset + paging.probe])
        counts = _holders(session, caller.account_id, [row.id for row in items])
        return Page(items=[PolicyOut.of(row, counts.get(row.id, 0)) for row in items], next_cursor=cursor)


@router.post("/policies/preview")
def preview_policy(body: PolicyPreviewRequest, caller: Reader, context: Context) -> PolicyPreviewOut:
    """Who would gain and who would lose the assignment if this policy were saved; nothing is written."""
    with context.db.transaction() as session:
        if body.id is not None:
            try:
                policies.get_policy(session, caller.account_id, body.id)
            except policies.PolicyNotFound:
                raise not_found("policy", body.id) from None
        draft = _draft(body, body.id)
        return PolicyPreviewOut.of(policies.preview_policy(session, caller.account_id, draft, now=utc_now()))


@router.post("/policies", status_code=201, responses={201: {"links": links(*POLICY_OPERATIONS)}})
def create_policy(body: PolicyBody, caller: Writer, context: Context) -> PolicyOut:
    with context.db.transaction(actor=caller.actor) as session:
        row = policies.save_policy(session, caller.account_id, _draft(body, None), now=utc_now())
        return PolicyOut.of(row, _holders(session, caller.account_id, [row.id]).get(row.id, 0))


@router.get("/policies/{id}")
def get_policy(id: str, caller: Reader, context: Context) -> PolicyOut:
    with context.db.transaction() as session:
        try:
            row = policies.get_policy(session, caller.account_id, id)
        except policies.PolicyNotFound:
            raise not_found("policy", id) from None
        return PolicyOut.of(row, _holders(session, caller.account_id, [row.id]).get(row.id, 0))


@router.put("/policies/{id}")
def replace_policy(id: str, body: PolicyBody, caller: Writer, context: Context) -> PolicyOut:
    """Saves the policy as given and re-assigns at once (`policy.assignment.added/removed` events)."""
    with context.db.transaction(actor=caller.actor) as session:
        try:
            policies.get_policy(session, caller.account_id, id)
            row = policies.save_policy(session, caller.account_id, _draft(body, id), now=utc_now())
        except policies.PolicyNotFound:
            raise not_found("policy", id) from None
        return PolicyOut.of(row, _holders(session, caller.account_id, [row.id]).get(row.id, 0))


@router.delete("/policies/{id}", status_code=204)
def delete_policy(id: str, caller: Writer, context: Context) -> Response:
    with context.db.transaction(actor=caller.actor) as session:
        try:
            policies.delete_policy(session, caller.account_id, id, now=utc_now())
        except policies.PolicyNotFound:
            raise not_found("policy", id) from None
    return Response(status_code=204)


@router.get(
    "/policies/{id}/holders",
    responses={
        200: {
            "links": links("get_employee", "list_employee_assignments", id_from="$response.body#/items/0/employee_id")
        }
    },
)
def list_policy_holders(id: str, caller: Reader, context: Context, paging: Paging) -> Page[AssignmentHolder]:
    with context.db.transaction() as session:
        try:
            policies.get_policy(session, caller.account_id, id)
        except policies.PolicyNotFound:
            raise not_found("policy", id) from None
        rows = session.execute(
            select(
                models.Employee.id, models.Employee.first_name, models.Employee.last_name, models.Employee.work_email
            )
            .join(models.PolicyAssignment, models.PolicyAssignment.employee_id == models.Employee.id)
            .where(models.PolicyAssignment.account_id == caller.account_id, models.PolicyAssignment.policy_id == id)
            .order_by(models.Employee.last_name, models.Employee.first_name, models.Employee.id)
            .offset(paging.offset)
            .limit(paging.probe)
        ).all()
        items, cursor = paging.window(rows)
        return Page(
            items=[
                AssignmentHolder(
                    employee_id=row.id,
                    name=" ".join(p for p in (row.first_name, row.last_name) if p),
                    work_email=row.work_email,
                )
                for row in items
            ],
            next_cursor=cursor,
        )


@router.get("/employees/{id}/assignments")
def list_employee_assignments(id: str, caller: Reader, context: Context) -> list[AssignmentOut]:
    with context.db.transaction() as session:
        if get_employee(session, caller.account_id, id) is None:
            raise not_found("employee", id)
        return [
            AssignmentOut(policy_id=row.id, policy=row.name, application=row.application, role=row.role)
            for row in policies.assignments_of(session, caller.account_id, id)
        ]


@router.get("/audit", tags=["audit"])
def list_audit_entries(
    caller: Reader,
    context: Context,
    paging: Paging,
    object_type: Annotated[
        Literal["connection", "webhook", "api_token", "admin_user", "policy", "sync_run"] | None, Query()
    ] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[AuditEntryOut]:
    """Newest first. Read-only: the trail has no endpoint to change or delete an entry."""
    with context.db.transaction() as session:
        rows = audit.list_entries(
            session,
            caller.account_id,
            object_type=object_type,
            object_id=object_id,
            offset=paging.offset,
            limit=paging.probe,
        )
        items, cursor = paging.window(rows)
        return Page(items=[AuditEntryOut.of(row) for row in items], next_cursor=cursor)
