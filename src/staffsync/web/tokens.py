"""Settings → API tokens: the account's tokens listed, created (the secret shown once) and revoked.

Admins create and revoke; viewers see the list. A revoked token is refused by the API from the next request on,
since the API looks tokens up among the unrevoked ones only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from staffsync.storage import accounts as account_store
from staffsync.storage import models
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web.auth import AdminAction, Browser, WebError, not_found
from staffsync.web.render import context_of, done, render

router = APIRouter(include_in_schema=False)

PAGE = "/settings/api-tokens"
ROLES = {
    "admin": "Admin — reads and changes connections, syncs and employees",
    "viewer": "Viewer — reads only",
}
NAME_MAX = 200


@router.get(PAGE)
def tokens_page(request: Request, user: Browser) -> HTMLResponse:
    return _page(request, user)


@router.post(PAGE)
def create_token(
    request: Request,
    user: AdminAction,
    name: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=50)] = "viewer",
) -> HTMLResponse:
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the token a name that says what uses it, e.g. “Okta provisioning”."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Keep the name under {NAME_MAX} characters."
    if role not in ROLES:
        errors["role"] = "Choose admin or viewer."
    if errors:
        return _page(request, user, status=422, form={"name": name, "role": role}, errors=errors)
    with context_of(request).db.transaction() as session:
        token, secret = account_store.create_token(session, user.account_id, name, role=role, now=utc_now())
        created = {"id": token.id, "name": token.name, "role": token.role, "secret": secret}
    # Answered here instead of redirecting: the secret must reach the admin once and never be stored in clear,
    # not even in the session's flash messages. The page is no-store, so the back button does not keep it.
    return _page(request, user, status=201, created=created)


@router.get(PAGE + "/{token_id}/revoke")
def revoke_confirmation(request: Request, user: Browser, token_id: str) -> HTMLResponse:
    if not user.is_admin:
        raise WebError(403, "Read-only access", "Your role is viewer: only admins can revoke API tokens.")
    with context_of(request).db.transaction() as session:
        token = _token_of(session, user, token_id)
        return render(request, "tokens/revoke.html", user, nav="api-tokens", token=token)


@router.post(PAGE + "/{token_id}/revoke")
def revoke_token(request: Request, user: AdminAction, token_id: str) -> Response:
    with context_of(request).db.transaction() as session:
        token = _token_of(session, user, token_id)
        already = token.revoked_at is not None
        account_store.revoke_token(session, user.account_id, token.id, now=utc_now())
        name = token.name
    if already:
        return done(request, user, PAGE, f"“{name}” was already revoked.", kind="info")
    return done(request, user, PAGE, f"“{name}” is revoked: requests with it are refused from now on.")


def _token_of(session: Session, user: SignedIn, token_id: str) -> models.ApiToken:
    """The signed-in account's token, or the same 404 whether it does not exist or is another account's."""
    token = next((t for t in account_store.list_tokens(session, user.account_id) if t.id == token_id), None)
    if token is None:
        raise not_found("API token")
    return token


def _page(
    request: Request,
    user: SignedIn,
    *,
    status: int = 200,
    created: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        tokens = account_store.list_tokens(session, user.account_id)
        # Newest first, and the ones still in use before the revoked ones: what an admin looks for.
        tokens.sort(key=lambda token: token.created_at, reverse=True)
        tokens.sort(key=lambda token: token.revoked_at is not None)
        return render(
            request,
            "tokens/index.html",
            user,
            status=status,
            nav="api-tokens",
            tokens=tokens,
            roles=ROLES,
            created=created,
            form=form or {"name": "", "role": "viewer"},
            errors=errors or {},
            api_base=str(request.base_url).rstrip("/") + "/api/v1",
        )
