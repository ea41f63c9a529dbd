"""Kombo Connect: the link, the hosted page, and the one-time token exchange.

Real Kombo hands the link to a frontend SDK (`showKomboConnect(link)`) whose promise resolves with a
token. The simulator's page is a plain HTML form instead; submitting it creates the integration and a
one-time token, then redirects (303) to `<redirect_url>?token=<token>`. The redirect URL is, first
found: a `redirect_url` query parameter of the page or form, a `redirect_url` key in the create-link
body or query, the state's `connect_redirect_url`. Without one, the page shows the token (also in a
`data-token` attribute). The backend then calls `GET /v1/connect/integration-by-token/{token}`, once.

Relink and setup links (from `/v1/integrations/{id}/relink|setup-link`) use the same page: a relink
issues a new token for the existing integration; a setup link confirms the employee filter, which
moves an INCOMPLETE integration to FINAL_SYNC_PENDING and queues the sync that completes it.
"""

from __future__ import annotations

import html
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from staffsync.simulators.kombo.access import authenticate
from staffsync.simulators.kombo.state import ConnectLink, SimulatorState
from staffsync.simulators.kombo.wire import input_invalid, success

_TOOLS = ("personio", "hibob", "bamboohr", "workday", "factorial", "sandbox")


class CreateLinkBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    end_user_email: str
    end_user_organization_name: str
    end_user_origin_id: str | None = None
    remote_environment: str | None = None
    integration_category: Literal["HRIS", "ATS", "ASSESSMENT", "LMS"] = "HRIS"
    integration_tool: str | None = None
    language: Literal["en", "de", "fr", "it", "es"] | None = "en"
    scope_config_id: str | None = None
    enable_filtering: bool = False
    enable_field_mapping: bool = False
    enable_static_ips: bool = False
    link_type: Literal["EMBEDDED", "MAGIC_LINK"] = "EMBEDDED"
    # Not Kombo's: where the simulated page sends the browser with the token.
    redirect_url: str | None = None


def with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("token", token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} · Kombo Connect (simulated)</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status)


def _form(link: ConnectLink, redirect_url: str | None) -> str:
    if link.kind == "connect" and link.tool is None:
        options = "".join(f'<option value="{tool}">{tool}</option>' for tool in _TOOLS)
        tool_field = f'<label>HR system <select name="tool">{options}</select></label>'
    else:
        tool_field = f'<input type="hidden" name="tool" value="{html.escape(link.tool or "")}">'
    redirect_field = (
        f'<input type="hidden" name="redirect_url" value="{html.escape(redirect_url)}">' if redirect_url else ""
    )
    action = {"connect": "Connect", "relink": "Reconnect", "setup": "Confirm employee filter"}[link.kind]
    return (
        f"<p>{html.escape(link.organization_name)} · {html.escape(link.end_user_email or '')}</p>"
        f'<form method="post" action="{html.escape(link.token)}">{tool_field}{redirect_field}'
        f'<button type="submit" name="action" value="connect">{action}</button></form>'
    )


def connect_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    def open_link(token: str) -> ConnectLink | HTMLResponse:
        link = state.links.get(token)
        if link is None:
            return _page("Link not found", "<p>This connection link does not exist.</p>", status=404)
        if link.used or link.expires_at < state.clock.now():
            return _page("Link expired", "<p>Ask for a new connection link.</p>", status=410)
        return link

    @router.post("/connect/create-link")
    async def create_link(request: Request, body: CreateLinkBody) -> Response:
        authenticate(state, request)
        if body.integration_category != "HRIS":
            raise input_invalid("The simulator only offers HRIS integrations.")
        link = state.issue_link(
            "connect",
            link_type=body.link_type,
            end_user_email=body.end_user_email,
            organization_name=body.end_user_organization_name,
            origin_id=body.end_user_origin_id,
            tool=body.integration_tool,
            enable_filtering=body.enable_filtering,
            redirect_url=body.redirect_url or request.query_params.get("redirect_url"),
        )
        return success({"link": f"{request.base_url}v1/connect/{link.token}"})

    @router.get("/connect/integration-by-token/{token}")
    async def integration_by_token(request: Request, token: str) -> Response:
        authenticate(state, request)
        integration = state.redeem_token(token)
        if integration is None:
            raise input_invalid("The token is unknown, expired or already used.")
        return success(
            {
                "tool": integration.tool,
                "id": integration.id,
                "end_user_origin_id": integration.origin_id,
                "end_user_organization_name": integration.organization_name,
                "end_user_email": integration.end_user_email,
                "setup_status": integration.setup_status,
            }
        )

    @router.get("/connect/{token}", response_class=HTMLResponse)
    async def connect_page(request: Request, token: str) -> Response:
        with state.lock:
            link = open_link(token)
        if isinstance(link, HTMLResponse):
            return link
        redirect_url = request.query_params.get("redirect_url") or link.redirect_url
        return _page("Connect your HR system", _form(link, redirect_url))

    @router.post("/connect/{token}", response_class=HTMLResponse)
    async def submit(request: Request, token: str) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        with state.lock:
            link = open_link(token)
            if isinstance(link, HTMLResponse):
                return link
            link.used = True
            integration = state.integration(link.integration_id or "")
            if link.kind == "connect":
                settings = state.settings
                integration = state.create_integration(
                    tool=form.get("tool") or link.tool or settings.default_tool,
                    setup_status="INCOMPLETE" if link.enable_filtering else settings.initial_setup_status,
                    organization_name=link.organization_name,
                    end_user_email=link.end_user_email,
                    origin_id=link.origin_id,
                    filtering_enabled=link.enable_filtering,
                )
            elif integration is None:
                return _page("Integration gone", "<p>The integration of this link was deleted.</p>", status=410)
            elif link.kind == "setup" and integration.setup_status == "INCOMPLETE":
                integration.start_final_sync()
            exchange = state.issue_token(integration.id)
        redirect_url = (
            request.query_params.get("redirect_url") or form.get("redirect_url") or link.redirect_url
        ) or state.settings.connect_redirect_url
        if redirect_url:
            return RedirectResponse(with_token(redirect_url, exchange), status_code=303)
        return _page(
            "Connected",
            f'<p>Your token: <code id="token" data-token="{html.escape(exchange)}">{html.escape(exchange)}</code></p>',
        )

    return router
