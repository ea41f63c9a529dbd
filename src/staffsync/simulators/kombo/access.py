"""Who may call what: the API key, the integration header, and the integration's state.

Order matters and follows Kombo: a bad key is 401 before anything else, an unknown or missing
`X-Integration-Id` is 404, and only then does the integration's state (setup not finished,
disabled) decide, with the state's `setup_error_status` (409 by default).
"""

from __future__ import annotations

from starlette.requests import Request

from staffsync.simulators.kombo.integration import Integration
from staffsync.simulators.kombo.state import SimulatorState
from staffsync.simulators.kombo.wire import KomboError


def authenticate(state: SimulatorState, request: Request) -> None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or key.strip() not in state.api_keys:
        raise KomboError(401, "PLATFORM.AUTHENTICATION_INVALID", "The API key is missing or not valid.")


def named_integration(state: SimulatorState, integration_id: str) -> Integration:
    integration = state.integration(integration_id)
    if integration is None:
        raise KomboError(404, "PLATFORM.INTEGRATION_NOT_FOUND", f"No integration {integration_id!r} exists.")
    return integration


def header_integration(state: SimulatorState, request: Request) -> Integration:
    """The integration of `X-Integration-Id`, after the key check; queued syncs that came due run first."""
    authenticate(state, request)
    integration_id = request.headers.get("x-integration-id", "").strip()
    if not integration_id:
        raise KomboError(404, "PLATFORM.INTEGRATION_NOT_FOUND", "The X-Integration-Id header is missing.")
    integration = named_integration(state, integration_id)
    integration.run_due_syncs()
    return integration


def readable_integration(state: SimulatorState, request: Request) -> Integration:
    """An integration whose data may be read: setup completed and not disabled."""
    integration = header_integration(state, request)
    status = state.settings.setup_error_status
    if integration.setup_status == "INCOMPLETE":
        raise KomboError(status, "INTEGRATION.SETUP_INCOMPLETE", "The integration setup has not been finished yet.")
    if integration.setup_status == "FINAL_SYNC_PENDING":
        raise KomboError(status, "INTEGRATION.SETUP_SYNC_PENDING", "The initial sync after connection is running.")
    if not integration.enabled:
        raise KomboError(status, "INTEGRATION.INACTIVE", "The integration is disabled.")
    return integration
