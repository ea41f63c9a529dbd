"""Our headers verify with the reference `standardwebhooks` library, and only when nothing was altered."""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from staffsync.webhooks.delivery import signature_headers
from staffsync.webhooks.secrets import new_secret

BODY = '{"id":"evt-1","type":"employee.created"}'


def signed(secrets: list[str], *, at: dt.datetime | None = None) -> dict[str, str]:
    return signature_headers(secrets, msg_id="evt-1", timestamp=at or dt.datetime.now(dt.UTC), body=BODY)


def test_a_signature_per_active_secret_each_verifies_alone() -> None:
    old, new = new_secret(), new_secret()
    headers = signed([old, new])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == {"id": "evt-1", "type": "employee.created"}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers, secret: (body.replace("created", "deleted"), headers, secret),
        lambda body, headers, secret: (body, headers, new_secret()),
        lambda body, headers, secret: (body, {k: v for k, v in headers.items() if k != "webhook-id"}, secret),
        lambda body, headers, secret: (body, {**headers, "webhook-id": "evt-2"}, secret),
    ],
    ids=["changed body", "wrong secret", "missing header", "other id"],
)
def test_altered_messages_are_rejected(tamper: object) -> None:
    secret = new_secret()
    assert callable(tamper)
    body, headers, verifier = tamper(BODY, signed([secret]), secret)
    with pytest.raises(WebhookVerificationError):
        Webhook(verifier).verify(body, headers)


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-6), dt.timedelta(minutes=6)])
def test_timestamps_outside_five_minutes_are_rejected(offset: dt.timedelta) -> None:
    secret = new_secret()
    headers = signed([secret], at=dt.datetime.now(dt.UTC) + offset)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)
