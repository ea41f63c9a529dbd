"""The web UI mounted on the application: static assets, security headers, error pages, and the pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from staffsync.api.errors import http_error_envelope
from staffsync.web import (
    audit,
    auth,
    connection_detail,
    connection_runs,
    connection_settings,
    directory,
    employee_profile,
    employee_sync,
    policies,
    tokens,
    webhooks,
)
from staffsync.web.auth import HOME, LoginRequired, WebError
from staffsync.web.render import STATIC, redirect

# No inline script or style anywhere: htmx is a file, its indicator styles are in app.css.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

PAGE_ROUTERS = (
    auth.router,
    directory.router,
    employee_profile.router,
    employee_sync.router,
    connection_detail.router,
    connection_runs.router,
    connection_settings.router,
    tokens.router,
    policies.router,
    webhooks.router,
    audit.router,
)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.headers.get("content-type", "").startswith("text/html"):
            # Pages carry personal data and a CSRF token: never kept by a shared cache or the back button.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def install_web(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in PAGE_ROUTERS:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return redirect(HOME)

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, error: LoginRequired) -> Response:
        if request.headers.get("HX-Request") == "true":
            # htmx would swap the sign-in page into a fragment: ask it to navigate the whole page instead.
            return Response(status_code=204, headers={"HX-Redirect": auth.login_redirect(error).headers["location"]})
        return auth.login_redirect(error)

    @app.exception_handler(WebError)
    def _web_error(request: Request, error: WebError) -> HTMLResponse:
        return auth.error_page(request, error)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or error.status_code != 404:
            return http_error_envelope(error)
        return auth.error_page(request, auth.not_found())
