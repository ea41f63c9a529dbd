"""Signing in and out of the web UI, and the dependencies every page starts from.

- `Browser`: any signed-in user (admin or viewer) may read.
- `AdminAction`: a form post (or htmx request) that changes something: it needs a valid CSRF token and
  the admin role. A viewer gets a 403 page, a missing or wrong token a 403 page that says so.
- `CsrfChecked`: a post any signed-in role may send because it changes nothing (an htmx preview): it still
  needs the CSRF token, so every non-GET page route carries one (tests/web/test_csrf.py walks them all).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from staffsync.api.rate_limits import check_token_failures, client_key, count_token_failure, rate_limits_of
from staffsync.storage import web_sessions
from staffsync.storage.audit import ACTING
from staffsync.storage.web_sessions import SESSION_LIFETIME, SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web.render import context_of, redirect, render

# `__Host-`: browsers take this cookie only when it is Secure, for Path=/ and without a Domain, so no sibling
# subdomain (or a man in the middle on plain HTTP) can plant or overwrite it (session fixation, ASVS 3.4.4).
SESSION_COOKIE = "__Host-staffsync_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
HOME = "/employees"
# `Sec-Fetch-Site` values of a request a page of another origin made (absent from non-browser clients).
CROSS_SITE = frozenset({"cross-site", "same-site"})

router = APIRouter(include_in_schema=False)


class WebError(Exception):
    """An answer as a page: a title and a sentence that says what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def not_found(what: str = "page") -> WebError:
    """The same answer whether the object does not exist or belongs to another account: ids are not probed."""
    return WebError(
        404, f"{what.capitalize()} not found", f"This {what} does not exist, or belongs to another account."
    )


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def current_user(request: Request) -> SignedIn | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    with context_of(request).db.transaction() as session:
        return web_sessions.resume_session(session, secret, now=utc_now())


def signed_in(request: Request) -> SignedIn:
    user = current_user(request)
    if user is None:
        raise LoginRequired(
            _same_site_path(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        )
    return user


Browser = Annotated[SignedIn, Depends(signed_in)]


async def _csrf_token_sent(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_checked(request: Request, user: Browser) -> SignedIn:
    """A post that any signed-in role may send (a preview that changes nothing): still only from our own pages."""
    sent = await _csrf_token_sent(request)
    if not sent or not hmac.compare_digest(sent, user.csrf_token):
        raise WebError(
            403,
            "This form has expired",
            "The security token of the form was missing or out of date, so nothing was changed. "
            "Reload the page and try again.",
        )
    return user


CsrfChecked = Annotated[SignedIn, Depends(csrf_checked)]


async def admin_action(user: CsrfChecked) -> AsyncIterator[SignedIn]:
    if not user.is_admin:
        raise WebError(403, "Read-only access", "Your role is viewer: you can look at everything but not change it.")
    # Every transaction of this request records the admin in the audit trail. Set here, in the request's own
    # task, so that the handler's thread (which starts from a copy of this context) sees it.
    token = ACTING.set(user.actor)
    try:
        yield user
    finally:
        ACTING.reset(token)


AdminAction = Annotated[SignedIn, Depends(admin_action)]


def _same_site_path(target: str | None) -> str:
    """Only a local path is a place to go back to after sign-in: never another site (open redirect)."""
    if not target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target


def _set_session_cookie(response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        # Path=/, Secure and no Domain are what the `__Host-` prefix demands: a browser drops the cookie otherwise.
        path="/",
        domain=None,
        secure=True,
        httponly=True,
        # Lax, not Strict: coming back from the HR provider's hosted connect flow is a cross-site
        # top-level navigation that must arrive signed in.
        samesite="lax",
    )


@router.get("/login")
def login_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    if current_user(request) is not None:
        return redirect(_same_site_path(next))
    return render(request, "login.html", None, next=_same_site_path(next), email="", error=None)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    if request.headers.get("Sec-Fetch-Site") in CROSS_SITE:
        # Login CSRF: the form has no session, hence no CSRF token, yet a foreign page posting an attacker's own
        # credentials would sign the victim into the attacker's account. Browsers say where a post comes from.
        raise WebError(
            403,
            "Sign in on staffsync itself",
            "This sign-in form was sent from another website, so it was refused. Open staffsync and sign in there.",
        )
    # Per address (one client guessing many accounts) and per email (many addresses guessing one account).
    throttle = rate_limits_of(request).sign_in_failures
    address, account = client_key(request), f"email:{email.strip().lower()}"
    wait = throttle.retry_after(address, account)
    if wait:
        minutes = max(1, round(wait / 60))
        response = render(
            request,
            "login.html",
            None,
            status=429,
            next=_same_site_path(next),
            email=email,
            error=f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    with context_of(request).db.transaction() as session:
        user = web_sessions.authenticate_admin(session, email, password)
        secret = web_sessions.start_session(session, user, now=utc_now()) if user else None
    if secret is None:
        throttle.count(address, account)
        return render(
            request,
            "login.html",
            None,
            status=401,
            next=_same_site_path(next),
            email=email,
            error="That email and password do not match an admin of staffsync.",
        )
    # The owner proved who they are: their email's failures go. The address's stay, or signing into an account
    # of one's own between guesses would reset the count of guesses at everybody else's.
    throttle.forget(account)
    signed_in_response = redirect(_same_site_path(next))
    _set_session_cookie(signed_in_response, secret)
    return signed_in_response


@router.get("/login/link")
def sign_in_link(request: Request, token: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
    """A single-use link (printed by `staffsync demo`) that signs its admin in and forgets itself. Bad links count
    with bad API tokens against the address (both are bearer secrets): a guesser is throttled before the lookup."""
    check_token_failures(request)
    now = utc_now()
    with context_of(request).db.transaction() as session:
        user = web_sessions.redeem_sign_in_link(session, token, now=now)
        secret = web_sessions.start_session(session, user, now=now) if user else None
    if secret is None:
        count_token_failure(request)
        return render(
            request,
            "login.html",
            None,
            status=400,
            next=HOME,
            email="",
            error="That sign-in link was already used or has expired. Sign in with your password.",
        )
    response = redirect(HOME)
    _set_session_cookie(response, secret)
    return response


@router.post("/logout")
def logout(request: Request, user: CsrfChecked) -> Response:
    with context_of(request).db.transaction() as session:
        web_sessions.end_session(session, user.session_id)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


def login_redirect(error: LoginRequired) -> RedirectResponse:
    return redirect(f"/login?next={quote(error.next_url, safe='/')}")


def error_page(request: Request, error: WebError) -> HTMLResponse:
    return render(
        request, "error.html", current_user(request), status=error.status, title=error.title, message=error.message
    )
