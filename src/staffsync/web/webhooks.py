"""Settings → Webhooks: subscriber endpoints, their signing secrets (shown once, rotated without downtime),
the delivery log with each attempt's outcome, replays of failed deliveries, and re-enabling a disabled one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from staffsync.domain.events import EVENT_TYPES
from staffsync.storage import models
from staffsync.storage import webhooks as webhook_store
from staffsync.storage.web_sessions import SignedIn
from staffsync.sync.engine import utc_now
from staffsync.web.auth import AdminAction, Browser, not_found
from staffsync.web.render import context_of, done, render
from staffsync.webhooks import endpoints
from staffsync.webhooks.endpoints import UnknownEventType, WebhookNotFound
from staffsync.webhooks.secrets import active_entries
from staffsync.webhooks.targets import TargetRefused

router = APIRouter(include_in_schema=False)

PAGE = "/settings/webhooks"
DELIVERIES_SHOWN = 100
DeliveryStatus = Literal["pending", "succeeded", "failed"]


@router.get(PAGE)
def webhooks_page(request: Request, user: Browser) -> HTMLResponse:
    return _list_page(request, user)


@router.post(PAGE)
def create_webhook(
    request: Request,
    user: AdminAction,
    url: Annotated[str, Form(max_length=2048)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    event_types: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    config = context_of(request).webhooks()
    url, description, types = url.strip(), description.strip(), list(event_types or [])
    form = {"url": url, "description": description, "event_types": types}
    try:
        with context_of(request).db.transaction() as session:
            created = endpoints.create_endpoint(
                session,
                user.account_id,
                url=url,
                cipher=config.cipher,
                now=utc_now(),
                allow_private=config.allow_private,
                description=description,
                event_types=types,
                resolve=config.resolve,
            )
            shown = {"id": created.endpoint.id, "url": created.endpoint.url, "secret": created.secret}
    except (TargetRefused, UnknownEventType) as error:
        return _list_page(request, user, status=422, form=form, error=str(error))
    # Answered here, not redirected: the secret reaches the admin once and is stored only encrypted.
    return _list_page(request, user, status=201, created=shown)


@router.get(PAGE + "/{webhook_id}")
def webhook_page(
    request: Request,
    user: Browser,
    webhook_id: str,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> HTMLResponse:
    return _detail_page(request, user, webhook_id, status=status)


@router.post(PAGE + "/{webhook_id}")
def update_webhook(
    request: Request,
    user: AdminAction,
    webhook_id: str,
    url: Annotated[str, Form(max_length=2048)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    event_types: Annotated[list[str] | None, Form()] = None,
) -> Response:
    config = context_of(request).webhooks()
    try:
        with context_of(request).db.transaction() as session:
            endpoints.update_endpoint(
                session,
                user.account_id,
                webhook_id,
                allow_private=config.allow_private,
                url=url.strip(),
                description=description.strip(),
                event_types=event_types or [],
                resolve=config.resolve,
            )
    except WebhookNotFound:
        raise not_found("webhook") from None
    except (TargetRefused, UnknownEventType) as error:
        return _detail_page(request, user, webhook_id, status_code=422, error=str(error))
    return done(request, user, f"{PAGE}/{webhook_id}", "Webhook saved.")


@router.post(PAGE + "/{webhook_id}/rotate-secret")
def rotate_secret(request: Request, user: AdminAction, webhook_id: str) -> HTMLResponse:
    config = context_of(request).webhooks()
    try:
        with context_of(request).db.transaction() as session:
            secret = endpoints.rotate_secret(session, user.account_id, webhook_id, cipher=config.cipher, now=utc_now())
    except WebhookNotFound:
        raise not_found("webhook") from None
    return _detail_page(request, user, webhook_id, new_secret=secret)


@router.post(PAGE + "/{webhook_id}/enable")
def enable_webhook(request: Request, user: AdminAction, webhook_id: str) -> Response:
    try:
        with context_of(request).db.transaction() as session:
            endpoints.enable_endpoint(session, user.account_id, webhook_id)
    except WebhookNotFound:
        raise not_found("webhook") from None
    return done(request, user, f"{PAGE}/{webhook_id}", "Webhook enabled: pending deliveries go out again.")


@router.post(PAGE + "/{webhook_id}/deliveries/{delivery_id}/replay")
def replay_delivery(request: Request, user: AdminAction, webhook_id: str, delivery_id: str) -> Response:
    with context_of(request).db.transaction() as session:
        delivery = webhook_store.get_delivery(session, user.account_id, delivery_id)
        if delivery is None or delivery.endpoint_id != webhook_id:
            raise not_found("webhook")
        endpoints.replay(session, user.account_id, delivery_id, now=utc_now())
        event_type = delivery.event_type
    return done(
        request,
        user,
        f"{PAGE}/{webhook_id}",
        f"The {event_type} delivery is queued again, under the same webhook-id so the receiver can spot a repeat.",
    )


@router.get(PAGE + "/{webhook_id}/delete")
def delete_confirmation(request: Request, user: Browser, webhook_id: str) -> HTMLResponse:
    with context_of(request).db.transaction() as session:
        endpoint = _endpoint_of(session, user, webhook_id)
        return render(request, "webhooks/delete.html", user, nav="webhooks", endpoint=endpoint)


@router.post(PAGE + "/{webhook_id}/delete")
def delete_webhook(request: Request, user: AdminAction, webhook_id: str) -> Response:
    with context_of(request).db.transaction() as session:
        url = _endpoint_of(session, user, webhook_id).url
        endpoints.delete_endpoint(session, user.account_id, webhook_id)
    return done(request, user, PAGE, f"Webhook to {url} deleted: it receives no more events.")


def _list_page(
    request: Request,
    user: SignedIn,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    created: dict[str, str] | None = None,
) -> HTMLResponse:
    now = utc_now()
    with context_of(request).db.transaction() as session:
        rows = endpoints.list_endpoints(session, user.account_id)
        return render(
            request,
            "webhooks/list.html",
            user,
            status=status,
            nav="webhooks",
            rows=rows,
            secrets_active={row.id: len(active_entries(row.secrets, now)) for row in rows},
            event_types=EVENT_TYPES,
            form=form or {"url": "", "description": "", "event_types": []},
            error=error,
            created=created,
        )


def _detail_page(
    request: Request,
    user: SignedIn,
    webhook_id: str,
    *,
    status: DeliveryStatus | None = None,
    status_code: int = 200,
    error: str | None = None,
    new_secret: str | None = None,
) -> HTMLResponse:
    now = utc_now()
    with context_of(request).db.transaction() as session:
        endpoint = _endpoint_of(session, user, webhook_id)
        deliveries = endpoints.list_deliveries(
            session, user.account_id, endpoint_id=webhook_id, status=status, limit=DELIVERIES_SHOWN
        )
        return render(
            request,
            "webhooks/detail.html",
            user,
            status=status_code,
            nav="webhooks",
            endpoint=endpoint,
            secrets=active_entries(endpoint.secrets, now),
            deliveries=deliveries,
            filter_status=status,
            event_types=EVENT_TYPES,
            error=error,
            new_secret=new_secret,
            rotation_ends=now + endpoints.DEFAULT_ROTATION_GRACE if new_secret else None,
            shown_limit=DELIVERIES_SHOWN,
        )


def _endpoint_of(session: Session, user: SignedIn, webhook_id: str) -> models.WebhookEndpoint:
    endpoint = webhook_store.get_endpoint(session, user.account_id, webhook_id)
    if endpoint is None:
        raise not_found("webhook")
    return endpoint
