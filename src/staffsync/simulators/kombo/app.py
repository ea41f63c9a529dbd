"""The ASGI application: Kombo's routes under `/v1`, the control API under `/_control`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from staffsync.simulators.kombo.connect import connect_router
from staffsync.simulators.kombo.control import control_router
from staffsync.simulators.kombo.faults import gateway
from staffsync.simulators.kombo.general import general_router
from staffsync.simulators.kombo.hris import hris_router
from staffsync.simulators.kombo.state import SimulatorState
from staffsync.simulators.kombo.wire import KomboError


class KomboSimulatorApp(FastAPI):
    """FastAPI with the fault gateway in front of everything, Starlette's error middleware included.

    The gateway must see the server's own `send`: to simulate a reset it aborts the connection that
    `send` belongs to, and Starlette's middleware stack would hide it behind wrappers.
    """

    def __init__(self, state: SimulatorState) -> None:
        super().__init__(title="Kombo simulator", docs_url=None, redoc_url=None, openapi_url=None)
        self.simulator_state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.simulator_state
        await gateway(state.faults, state.log, scope, receive, send, super().__call__)


def create_kombo_simulator(state: SimulatorState) -> FastAPI:
    app = KomboSimulatorApp(state)
    app.include_router(general_router(state), prefix="/v1")
    app.include_router(connect_router(state), prefix="/v1")
    app.include_router(hris_router(state), prefix="/v1")
    app.include_router(control_router(state), prefix="/_control")

    @app.exception_handler(KomboError)
    async def kombo_error(request: Request, error: KomboError) -> Response:
        return error.response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        if request.url.path.startswith("/_control"):
            return JSONResponse({"error": problems}, status_code=400)
        return KomboError(400, "PLATFORM.INPUT_INVALID", f"The request is not valid: {problems}").response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if not request.url.path.startswith("/v1/"):
            return JSONResponse({"error": error.detail}, status_code=error.status_code)
        # Unknown routes and methods still answer in Kombo's envelope, so the SDK raises a typed error.
        message = f"{request.method} {request.url.path}: {error.detail}"
        return KomboError(error.status_code, "PLATFORM.INPUT_INVALID", message).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        return KomboError(500, "PLATFORM.UNKNOWN_ERROR", f"Simulator error: {type(error).__name__}: {error}").response()

    return app
