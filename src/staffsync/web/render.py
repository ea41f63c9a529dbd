"""Rendering pages: one Jinja2 environment, the layout's context (who is signed in, the navigation, the
CSRF token, flash messages), and the post-redirect-get answer every form action ends with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from staffsync.api.deps import ApiContext
from staffsync.storage import web_sessions
from staffsync.storage.web_sessions import SignedIn

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES))


def _local_time(value: dt.datetime | None, timezone: str = "UTC", fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(timezone)).strftime(fmt)


def _relative(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """ "3 min ago" / "in 42 min": what an admin scanning a list wants, the exact time goes in a title."""
    if value is None:
        return "—"
    now = now or dt.datetime.now(dt.UTC)
    seconds = (value - now).total_seconds()
    future, seconds = seconds > 0, abs(seconds)
    if seconds < 45:
        return "in a few seconds" if future else "just now"
    for limit, size, unit in ((3600, 60, "min"), (86400, 3600, "h"), (86400 * 60, 86400, "d")):
        if seconds < limit:
            amount = f"{round(seconds / size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return value.strftime("%d %b %Y")


def _date(value: dt.date | None) -> str:
    return "—" if value is None else value.strftime("%d %b %Y")


templates.env.filters["local_time"] = _local_time
templates.env.filters["relative"] = _relative
templates.env.filters["date"] = _date


def context_of(request: Request) -> ApiContext:
    context = request.app.state.api
    assert isinstance(context, ApiContext)
    return context


def render(
    request: Request,
    template: str,
    user: SignedIn | None,
    *,
    status: int = 200,
    nav: str | None = None,
    **values: Any,
) -> HTMLResponse:
    """A full page, or, for htmx requests that target a fragment, the same template (templates decide)."""
    flashes: list[dict[str, Any]] = []
    if user is not None:
        with context_of(request).db.transaction() as session:
            flashes = web_sessions.pop_flashes(session, user.session_id)
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "csrf_token": user.csrf_token if user else "",
            "flashes": flashes,
            "nav": nav,
            "now": dt.datetime.now(dt.UTC),
            "is_htmx": request.headers.get("HX-Request") == "true",
            **values,
        },
        status_code=status,
    )


def flash(request: Request, user: SignedIn, text: str, kind: str = "success") -> None:
    with context_of(request).db.transaction() as session:
        web_sessions.add_flash(session, user.session_id, kind, text)


def redirect(url: str) -> RedirectResponse:
    """303: the browser follows with a GET, so a reload never re-submits the form."""
    return RedirectResponse(url, status_code=303)


def done(request: Request, user: SignedIn, url: str, text: str, kind: str = "success") -> RedirectResponse:
    """The end of every form action: a flash message that says what happened, then the page to see it on."""
    flash(request, user, text, kind)
    return redirect(url)
