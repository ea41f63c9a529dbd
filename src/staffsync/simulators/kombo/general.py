"""Kombo's general endpoints: key check, integration details and lifecycle, force-sync, passthrough."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response

from staffsync.simulators.kombo.access import authenticate, header_integration, named_integration
from staffsync.simulators.kombo.ids import kombo_id
from staffsync.simulators.kombo.integration import Integration
from staffsync.simulators.kombo.state import SimulatorState
from staffsync.simulators.kombo.wire import KomboError, input_invalid, iso, success

# The read models and fields the simulator serves, as integration details list them.
_READ_MODELS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "hris_employees": (
        "Employees",
        (
            "first_name",
            "last_name",
            "work_email",
            "personal_email",
            "mobile_phone_number",
            "job_title",
            "employee_number",
            "employment_status",
            "employment_type",
            "start_date",
            "termination_date",
            "home_address",
            "manager_id",
            "legal_entity_id",
            "work_location_id",
            "weekly_hours",
        ),
    ),
    "hris_employments": ("Employments", ("job_title", "pay_rate", "pay_period", "pay_frequency", "effective_date")),
    "hris_teams": ("Groups", ("name", "type", "parent_id")),
    "hris_legal_entities": ("Legal entities", ("name", "address")),
    "hris_locations": ("Work locations", ("name", "type", "address")),
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ForceSyncBody(_Body):
    type: Literal["FULL", "DELTA"] = "FULL"


class EnabledBody(_Body):
    value: bool


class RelinkBody(_Body):
    language: str | None = None
    scope_config_id: str | None = None
    link_type: Literal["EMBEDDED", "MAGIC_LINK"] = "EMBEDDED"


class SetupLinkBody(_Body):
    link_type: Literal["EMBEDDED", "MAGIC_LINK"]
    language: str | None = None


def _availability() -> dict[str, Any]:
    return {
        "is_available": True,
        "coverage_status": "SUPPORTED",
        "scope_config_setting": "ENABLED",
        "opted_out_by_customer": False,
    }


def integration_details(integration: Integration) -> dict[str, Any]:
    tool = integration.tool
    return {
        "id": integration.id,
        "tool": {
            "id": tool,
            "label": tool.capitalize(),
            "internal_label": None,
            # `.example` hosts: simulated data must never point at anything real.
            "logo_url": f"https://assets.kombo.example/tools/{tool}/logo.svg",
            "icon_url": f"https://assets.kombo.example/tools/{tool}/icon.svg",
        },
        "category": "HRIS",
        "status": "ACTIVE" if integration.enabled else "INACTIVE",
        "setup_status": integration.setup_status,
        "end_user": {
            "organization_name": integration.organization_name,
            "creator_email": integration.end_user_email,
            "origin_id": integration.origin_id,
        },
        "scope_config": {"id": kombo_id(integration.id, "scope_config", "default"), "name": "Default scope"},
        "data_expired_at": None,
        "created_at": iso(integration.created_at),
        "beta": False,
        "read_models": [
            {
                "id": model_id,
                "label": label,
                **_availability(),
                "fields": [{"id": name, **_availability()} for name in fields],
            }
            for model_id, (label, fields) in _READ_MODELS.items()
        ],
        "write_actions": [],
    }


def general_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    def owned(request: Request, integration_id: str) -> Integration:
        authenticate(state, request)
        return named_integration(state, integration_id)

    @router.get("/check-api-key")
    async def check_api_key(request: Request) -> Response:
        authenticate(state, request)
        return success({"environment_id": state.environment_id})

    @router.post("/force-sync")
    async def force_sync(request: Request, body: ForceSyncBody | None = None) -> Response:
        with state.lock:
            integration = header_integration(state, request)
            queued, already = integration.force_sync((body or ForceSyncBody()).type)
        return success({"already_queued": already, "sync_id": queued.id, "type": queued.type})

    @router.get("/integrations/{integration_id}")
    async def get_integration(request: Request, integration_id: str) -> Response:
        with state.lock:
            integration = owned(request, integration_id)
            integration.run_due_syncs()
            return success(integration_details(integration))

    @router.delete("/integrations/{integration_id}")
    async def delete_integration(request: Request, integration_id: str) -> Response:
        with state.lock:
            owned(request, integration_id)
            state.remove_integration(integration_id)
        return success({})

    @router.put("/integrations/{integration_id}/enabled")
    async def set_enabled(request: Request, integration_id: str, body: EnabledBody) -> Response:
        with state.lock:
            owned(request, integration_id).enabled = body.value
        return success({})

    @router.post("/integrations/{integration_id}/relink")
    async def relink(request: Request, integration_id: str, body: RelinkBody | None = None) -> Response:
        with state.lock:
            integration = owned(request, integration_id)
            link = state.issue_link(
                "relink",
                link_type=(body or RelinkBody()).link_type,
                end_user_email=integration.end_user_email,
                organization_name=integration.organization_name,
                origin_id=integration.origin_id,
                tool=integration.tool,
                redirect_url=state.settings.connect_redirect_url,
                integration_id=integration.id,
            )
        return success({"link": f"{request.base_url}v1/connect/{link.token}"})

    @router.post("/integrations/{integration_id}/setup-link")
    async def setup_link(request: Request, integration_id: str, body: SetupLinkBody) -> Response:
        with state.lock:
            integration = owned(request, integration_id)
            if not integration.filtering_enabled:
                raise input_invalid(
                    "No setup step (employee filtering, field mapping) is enabled for this integration."
                )
            link = state.issue_link(
                "setup",
                link_type=body.link_type,
                end_user_email=integration.end_user_email,
                organization_name=integration.organization_name,
                origin_id=integration.origin_id,
                tool=integration.tool,
                redirect_url=state.settings.connect_redirect_url,
                integration_id=integration.id,
            )
        return success({"link": f"{request.base_url}v1/connect/{link.token}"})

    @router.post("/passthrough/{tool}/{api}")
    async def passthrough(request: Request, tool: str, api: str, body: Annotated[dict[str, Any], Body()]) -> Response:
        with state.lock:
            integration = header_integration(state, request)
        if tool != integration.tool:
            raise KomboError(400, "PLATFORM.INPUT_INVALID", f"This integration is {integration.tool}, not {tool}.")
        path = str(body.get("path", ""))
        # An echo: the simulator has no HR tool behind it, so it says what it would have sent.
        return success(
            {
                "url": f"https://api.{tool}.example/{api}/{path.lstrip('/')}",
                "status": 200,
                "headers": {"content-type": "application/json"},
                "data": {"method": body.get("method"), "params": body.get("params"), "data": body.get("data")},
            },
            warnings=[{"message": "Simulated passthrough: nothing was sent to an HR system."}],
        )

    return router
