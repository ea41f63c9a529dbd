"""`/webhooks` and `/webhook-deliveries`: subscriber endpoints of the caller's account, their signing
secrets, the delivery log, and replays."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from staffsync.api.deps import Context, Reader, Writer
from staffsync.api.errors import ApiError, not_found
from staffsync.api.pagination import Paging
from staffsync.api.routes import links, operation_id
from staffsync.api.schemas import Page
from staffsync.api.webhook_schemas import (
    DeliveryOut,
    RotatedSecret,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)
from staffsync.storage import webhooks as webhook_store
from staffsync.sync.engine import utc_now
from staffsync.webhooks import endpoints
from staffsync.webhooks.endpoints import UnknownEventType, WebhookNotFound
from staffsync.webhooks.targets import TargetRefused

router = APIRouter(tags=["webhooks"], generate_unique_id_function=operation_id)
WEBHOOK_OPERATIONS = (
    "get_webhook",
    "update_webhook",
    "delete_webhook",
    "rotate_webhook_secret",
    "list_webhook_deliveries",
)
DELIVERY_OPERATIONS = ("get_webhook_delivery", "replay_webhook_delivery")


def _refused(error: ValueError) -> ApiError:
    code = "unknown_event_type" if isinstance(error, UnknownEventType) else "url_refused"
    return ApiError(422, code, str(error))


@router.get("/webhooks", responses={200: {"links": links(*WEBHOOK_OPERATIONS, id_from="$response.body#/items/0/id")}})
def list_webhooks(caller: Reader, context: Context, paging: Paging) -> Page[WebhookOut]:
    now = utc_now()
    with context.db.transaction() as session:
        rows = endpoints.list_endpoints(session, caller.account_id)
        items, cursor = paging.window(rows[paging.offset : paging.offset + paging.probe])
        return Page(items=[WebhookOut.of(row, now) for row in items], next_cursor=cursor)


@router.post("/webhooks", status_code=201, responses={201: {"links": links(*WEBHOOK_OPERATIONS)}})
def create_webhook(body: WebhookCreate, caller: Writer, context: Context) -> WebhookCreated:
    """The answer carries the signing secret once; afterwards it only exists encrypted."""
    config = context.webhooks()
    now = utc_now()
    try:
        with context.db.transaction(actor=caller.actor) as session:
            created = endpoints.create_endpoint(
                session,
                caller.account_id,
                url=body.url,
                cipher=config.cipher,
                now=now,
                allow_private=config.allow_private,
                description=body.description,
                event_types=body.event_types,
                resolve=config.resolve,
            )
            return WebhookCreated(**WebhookOut.of(created.endpoint, now).model_dump(), secret=created.secret)
    except (TargetRefused, UnknownEventType) as error:
        raise _refused(error) from None


@router.get("/webhooks/{id}")
def get_webhook(id: str, caller: Reader, context: Context) -> WebhookOut:
    with context.db.transaction() as session:
        endpoint = webhook_store.get_endpoint(session, caller.account_id, id)
        if endpoint is None:
            raise not_found("webhook", id)
        return WebhookOut.of(endpoint, utc_now())


@router.patch("/webhooks/{id}")
def update_webhook(id: str, body: WebhookUpdate, caller: Writer, context: Context) -> WebhookOut:
    config = context.webhooks()
    try:
        with context.db.transaction(actor=caller.actor) as session:
            endpoint = endpoints.update_endpoint(
                session,
                caller.account_id,
                id,
                allow_private=config.allow_private,
                url=body.url,
                description=body.description,
                event_types=body.event_types,
                resolve=config.resolve,
            )
            if body.enabled:
                endpoints.enable_endpoint(session, caller.account_id, id)
            return WebhookOut.of(endpoint, utc_now())
    except WebhookNotFound:
        raise not_found("webhook", id) from None
    except (TargetRefused, UnknownEventType) as error:
        raise _refused(error) from None


@router.delete("/webhooks/{id}", status_code=204)
def delete_webhook(id: str, caller: Writer, context: Context) -> Response:
    """Pending deliveries to it are dropped with it; the events stay in the outbox."""
    try:
        with context.db.transaction(actor=caller.actor) as session:
            endpoints.delete_endpoint(session, caller.account_id, id)
    except WebhookNotFound:
        raise not_found("webhook", id) from None
    return Response(status_code=204)


@router.post("/webhooks/{id}/rotate-secret")
def rotate_webhook_secret(id: str, body: SecretRotation, caller: Writer, context: Context) -> RotatedSecret:
    """A new secret signs from now on; the old ones keep signing alongside it for `grace_hours`, so the
    receiver can switch over without rejecting a single delivery."""
    config = context.webhooks()
    now = utc_now()
    try:
        with context.db.transaction(actor=caller.actor) as session:
            secret = endpoints.rotate_secret(
                session,
                caller.account_id,
                id,
                cipher=config.cipher,
                now=now,
                grace=dt.timedelta(hours=body.grace_hours),
            )
            endpoint = webhook_store.get_endpoint(session, caller.account_id, id)
            assert endpoint is not None
            return RotatedSecret(secret=secret, webhook=WebhookOut.of(endpoint, now))
    except WebhookNotFound:
        raise not_found("webhook", id) from None


@router.get(
    "/webhooks/{id}/deliveries",
    responses={200: {"links": links(*DELIVERY_OPERATIONS, id_from="$response.body#/items/0/id")}},
)
def list_webhook_deliveries(
    id: str,
    caller: Reader,
    context: Context,
    paging: Paging,
    status: Annotated[Literal["pending", "succeeded", "failed"] | None, Query()] = None,
) -> Page[DeliveryOut]:
    """Newest first; `status=failed` lists the dead letters."""
    with context.db.transaction() as session:
        if webhook_store.get_endpoint(session, caller.account_id, id) is None:
            raise not_found("webhook", id)
        rows = endpoints.list_deliveries(
            session, caller.account_id, endpoint_id=id, status=status, limit=paging.offset + paging.probe
        )
        items, cursor = paging.window(rows[paging.offset :])
        return Page(items=[DeliveryOut.of(row) for row in items], next_cursor=cursor)


@router.get("/webhook-deliveries/{id}")
def get_webhook_delivery(id: str, caller: Reader, context: Context) -> DeliveryOut:
    with context.db.transaction() as session:
        delivery = webhook_store.get_delivery(session, caller.account_id, id)
        if delivery is None:
            raise not_found("webhook delivery", id)
        return DeliveryOut.of(delivery)


@router.post("/webhook-deliveries/{id}/replay")
def replay_webhook_delivery(id: str, caller: Writer, context: Context) -> DeliveryOut:
    """Queued again at once with a fresh retry schedule, under the same webhook-id (the event id), so a
    receiver that already processed it recognises the duplicate."""
    try:
        with context.db.transaction(actor=caller.actor) as session:
            return DeliveryOut.of(endpoints.replay(session, caller.account_id, id, now=utc_now()))
    except WebhookNotFound:
        raise not_found("webhook delivery", id) from None
