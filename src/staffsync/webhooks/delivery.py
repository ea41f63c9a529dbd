"""Sending webhooks: fan-out from the outbox, signed POSTs, retries with back-off, dead letters.

Ordering: Standard Webhooks does not promise order, but receivers mirroring the directory need one
employee's events in sequence. Per endpoint, deliveries go out in event order (occurred_at, then id),
and a delivery waiting for a retry holds back the later ones about the same employee (`data.employee_id`);
events about no employee (sync.*) are never held back. A dead letter stops holding anything back, or one
poisoned event would block that person forever.

Logs name deliveries and endpoints by id only: URLs may carry tokens and payloads carry personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from staffsync.crypto import CredentialCipher, CredentialError
from staffsync.storage import audit, models
from staffsync.storage import webhooks as store
from staffsync.storage.db import Database
from staffsync.webhooks.policy import RetryPolicy
from staffsync.webhooks.secrets import active_secrets
from staffsync.webhooks.targets import Resolver, TargetRefused, check_target, resolve_host

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
EXCERPT_CHARS = 500
# Enough to show a receiver's error message; a receiver streaming megabytes back is not read to the end.
_READ_LIMIT = 4 * EXCERPT_CHARS
# Longer than connect + read timeouts together, so a send in progress is never claimed twice.
CLAIM_LEASE = dt.timedelta(minutes=1)
GONE_REASON = "receiver answered 410 Gone"


def make_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def fan_out(db: Database, now: dt.datetime) -> int:
    with db.transaction() as session:
        return store.fan_out(session, now)


def event_document(delivery: store.QueuedDelivery) -> dict[str, Any]:
    return {
        "id": delivery.event_id,
        "type": delivery.event_type,
        "occurred_at": delivery.occurred_at.isoformat(),
        "account_id": delivery.account_id,
        "data": delivery.data,
    }


def signature_headers(secrets: list[str], *, msg_id: str, timestamp: dt.datetime, body: str) -> dict[str, str]:
    """Standard Webhooks headers; one `v1,…` signature per active secret, so receivers verify with either
    the old or the new secret during a rotation."""
    signatures = [Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


@dataclass(frozen=True, slots=True)
class Attempt:
    status_code: int | None
    latency_ms: int | None
    excerpt: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class DeliveryReport:
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    disabled_endpoints: list[str] = field(default_factory=list)


def deliver_due(
    db: Database,
    now: dt.datetime,
    client: httpx.Client,
    *,
    cipher: CredentialCipher,
    allow_private: bool = False,
    policy: RetryPolicy | None = None,
    resolve: Resolver = resolve_host,
    signed_at: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send every delivery whose attempt is due at `now` (the scheduling clock). `signed_at` is the wall
    clock for `webhook-timestamp`: receivers reject signatures more than five minutes off their own."""
    policy = policy or RetryPolicy()
    report = DeliveryReport()
    with db.session() as session:
        queue = store.pending_deliveries(session)
    held: set[tuple[str, str]] = set()
    for queued in queue:
        if queued.endpoint_id in report.disabled_endpoints:
            continue
        employee_id = queued.data.get("employee_id")
        key = (queued.endpoint_id, str(employee_id)) if employee_id else None
        if key is not None and key in held:
            continue
        if queued.next_attempt_at is not None and queued.next_attempt_at > now:
            if key is not None:
                held.add(key)
            continue
        with db.transaction() as session:
            if not store.claim_delivery(session, queued, now=now, lease=CLAIM_LEASE):
                continue
        attempt = _attempt(
            client, queued, cipher=cipher, allow_private=allow_private, resolve=resolve, now=now, at=signed_at()
        )
        outcome = _record(db, queued, attempt, now=now, policy=policy, rng=rng, report=report)
        log.info("webhook delivery %s to endpoint %s: %s", queued.id, queued.endpoint_id, outcome)
        if outcome == "retrying" and key is not None:
            held.add(key)
    return report


def _attempt(
    client: httpx.Client,
    queued: store.QueuedDelivery,
    *,
    cipher: CredentialCipher,
    allow_private: bool,
    resolve: Resolver,
    now: dt.datetime,
    at: dt.datetime,
) -> Attempt:
    try:
        # Checked again at send time: the name may point somewhere else since the endpoint was saved.
        target = check_target(queued.url, allow_private=allow_private, resolve=resolve)
    except TargetRefused as refused:
        return Attempt(None, None, None, f"not sent: {refused}")
    body = orjson.dumps(event_document(queued)).decode()
    try:
        secrets = active_secrets(cipher, queued.account_id, queued.secrets, now)
    except CredentialError as error:
        # One endpoint's unreadable secret (a removed key, a row copied from another account) fails its own
        # deliveries, never the whole round. The message names the cause, never the secret.
        return Attempt(None, None, None, f"not sent: {error}")
    if not secrets:
        return Attempt(None, None, None, "not sent: the endpoint has no active signing secret")
    headers = signature_headers(secrets, msg_id=queued.event_id, timestamp=at, body=body)
    url, pinned_headers, extensions = target.pinned_request()
    request = client.build_request(
        "POST", url, content=body, headers={**headers, **pinned_headers}, extensions=extensions, timeout=TIMEOUT
    )
    started = time.monotonic()
    try:
        response = client.send(request, stream=True, follow_redirects=False)
        try:
            excerpt = _read_excerpt(response)
        finally:
            response.close()
    except httpx.TimeoutException:
        return Attempt(None, _elapsed_ms(started), None, "the receiver did not answer in time")
    except httpx.ConnectError:
        return Attempt(None, _elapsed_ms(started), None, "could not connect to the receiver")
    except httpx.HTTPError as error:
        # Not str(error): httpx messages may quote the URL, and URLs may hold tokens.
        return Attempt(None, _elapsed_ms(started), None, f"the request failed ({type(error).__name__})")
    latency = _elapsed_ms(started)
    code = response.status_code
    if 200 <= code < 300:
        return Attempt(code, latency, excerpt, None)
    if 300 <= code < 400:
        return Attempt(code, latency, excerpt, f"receiver answered {code}; redirects are not followed")
    return Attempt(code, latency, excerpt, f"receiver answered {code}")


def _read_excerpt(response: httpx.Response) -> str:
    raw = b""
    for chunk in response.iter_bytes():
        raw += chunk
        if len(raw) >= _READ_LIMIT:
            break
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(
    db: Database,
    queued: store.QueuedDelivery,
    attempt: Attempt,
    *,
    now: dt.datetime,
    policy: RetryPolicy,
    rng: random.Random | None,
    report: DeliveryReport,
) -> str:
    attempts = queued.attempts + 1
    result: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": attempt.status_code,
        "last_latency_ms": attempt.latency_ms,
        "last_response_excerpt": attempt.excerpt,
        "last_error": attempt.error,
    }
    # Staffsync's own decision, whoever started the process (`serve` acts for its operating-system user).
    with db.transaction(actor=audit.SYSTEM) as session:
        if attempt.succeeded:
            store.record_attempt(
                session, queued.id, status="succeeded", next_attempt_at=None, delivered_at=now, **result
            )
            store.reset_failures(session, queued.endpoint_id)
            report.succeeded += 1
            return "succeeded"
        if attempt.status_code == 410:
            store.record_attempt(session, queued.id, status="failed", next_attempt_at=None, **result)
            _disable(session, queued.endpoint_id, GONE_REASON)
            report.failed += 1
            report.disabled_endpoints.append(queued.endpoint_id)
            return "failed; endpoint disabled (410 Gone)"
        next_attempt = policy.next_attempt(attempts, now, rng)
        if next_attempt is not None:
            store.record_attempt(session, queued.id, next_attempt_at=next_attempt, **result)
            report.retrying += 1
            return "retrying"
        store.record_attempt(session, queued.id, status="failed", next_attempt_at=None, **result)
        report.failed += 1
        failures = store.count_failure(session, queued.endpoint_id)
        if failures >= policy.disable_after:
            _disable(
                session,
                queued.endpoint_id,
                f"{failures} deliveries in a row failed for their whole retry window "
                f"(last: {attempt.error or 'unknown error'})",
            )
            report.disabled_endpoints.append(queued.endpoint_id)
            return "failed; endpoint disabled after repeated dead letters"
        return "failed (dead letter)"


def _disable(session: Session, endpoint_id: str, reason: str) -> None:
    """Through the ORM rather than an UPDATE statement, so that the audit trail records it: an admin asking
    why a subscriber stopped receiving events finds the reason, and that staffsync made the change."""
    endpoint = session.get(models.WebhookEndpoint, endpoint_id)
    if endpoint is not None:
        endpoint.status = "disabled"
        endpoint.disabled_reason = reason


@dataclass
class WebhookDispatcher:
    """Fan-out then delivery, as one job of the embedded scheduler's tick."""

    db: Database
    cipher: CredentialCipher
    client: httpx.Client = field(default_factory=make_client)
    allow_private: bool = False
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    def __call__(self, now: dt.datetime) -> DeliveryReport:
        fan_out(self.db, now)
        return deliver_due(
            self.db, now, self.client, cipher=self.cipher, allow_private=self.allow_private, policy=self.policy
        )
