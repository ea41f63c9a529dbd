"""Subscribing, secrets and their rotation, event-type filters, and fan-out from the outbox."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import select
from webhook_harness import Hooks, Receiver, make_hooks

from staffsync.storage import models
from staffsync.webhooks import endpoints
from staffsync.webhooks.delivery import fan_out
from staffsync.webhooks.targets import TargetRefused


def test_creating_an_endpoint_returns_a_secret_once_and_stores_it_encrypted(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    [secret] = receiver.secrets
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    with hooks.db.session() as session:
        [raw] = session.execute(select(models.table_of(models.WebhookEndpoint).c.secrets)).scalars()
    assert secret not in str(raw)
    assert secret.removeprefix("whsec_") not in str(raw)


def test_a_private_url_is_refused_at_creation_unless_allowed(hooks: Hooks) -> None:
    with hooks.db.transaction() as session, pytest.raises(TargetRefused, match="link-local"):
        endpoints.create_endpoint(
            session,
            hooks.account_id,
            url="http://169.254.169.254/latest/meta-data/",
            cipher=hooks.cipher,
            now=hooks.now,
            allow_private=False,
        )
    with hooks.db.session() as session:
        assert endpoints.list_endpoints(session, hooks.account_id) == []


def test_during_a_rotation_both_secrets_sign_and_afterwards_only_the_new_one(hooks: Hooks, receiver: Receiver) -> None:
    endpoint_id = hooks.subscribe(receiver)
    [old] = receiver.secrets
    with hooks.db.transaction() as session:
        new = endpoints.rotate_secret(
            session, hooks.account_id, endpoint_id, cipher=hooks.cipher, now=hooks.now, grace=dt.timedelta(hours=2)
        )
    assert new != old

    for secret in (old, new):
        receiver.secrets = [secret]
        hooks.emit(("employee.created", {"employee_id": f"signed-{secret[-6:]}"}))
        hooks.tick()
    assert receiver.rejected == 0
    assert len(receiver.accepted) == 2

    # After the grace period the old secret no longer signs: a receiver still using it rejects the message.
    receiver.secrets = [old]
    hooks.emit(("employee.created", {"employee_id": "late"}))
    hooks.tick(dt.timedelta(hours=3))
    assert receiver.rejected == 1
    receiver.secrets = [new]
    hooks.tick(dt.timedelta(minutes=1))
    assert len(receiver.accepted) == 3


def test_removing_old_secrets_ends_the_rotation_at_once(hooks: Hooks, receiver: Receiver) -> None:
    endpoint_id = hooks.subscribe(receiver)
    [old] = receiver.secrets
    with hooks.db.transaction() as session:
        new = endpoints.rotate_secret(session, hooks.account_id, endpoint_id, cipher=hooks.cipher, now=hooks.now)
        endpoints.remove_old_secrets(session, hooks.account_id, endpoint_id, now=hooks.now)
    receiver.secrets = [old]
    hooks.emit(("employee.created", {"employee_id": "e1"}))
    hooks.tick()
    assert receiver.rejected == 1
    receiver.secrets = [new]
    hooks.tick(dt.timedelta(minutes=1))
    assert len(receiver.accepted) == 1


def test_an_endpoint_receives_only_the_event_types_it_subscribed_to(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver, event_types=["employee.created", "sync.failed"])
    hooks.emit(
        ("employee.created", {"employee_id": "e1"}),
        ("employee.updated", {"employee_id": "e1"}),
        ("sync.failed", {"run_id": "r1"}),
    )
    hooks.tick()
    assert [document["type"] for document in receiver.accepted] == ["employee.created", "sync.failed"]


def test_fan_out_is_idempotent_and_skips_disabled_endpoints_and_other_accounts(
    hooks: Hooks, receiver: Receiver
) -> None:
    first = hooks.subscribe(receiver)
    second = hooks.subscribe(receiver)
    disabled = hooks.subscribe(receiver)
    other = make_hooks(hooks.db, hooks.cipher, hooks.client)
    other.subscribe(receiver)
    with hooks.db.transaction() as session:
        session.get_one(models.WebhookEndpoint, disabled).status = "disabled"
    [event_id] = hooks.emit(("employee.created", {"employee_id": "e1"}))

    assert fan_out(hooks.db, hooks.now) == 2
    with hooks.db.transaction() as session:
        # As if a crash had left the event unmarked after its deliveries were written.
        session.get_one(models.OutboxEvent, event_id).delivered_at = None
    assert fan_out(hooks.db, hooks.now) == 0
    assert fan_out(hooks.db, hooks.now) == 0

    assert sorted(d.endpoint_id for d in hooks.deliveries()) == sorted([first, second])
    assert other.deliveries() == []
    with hooks.db.session() as session:
        assert session.get_one(models.OutboxEvent, event_id).delivered_at == hooks.now


def test_a_disabled_endpoint_is_sent_nothing_that_happens_meanwhile_and_after_enabling_gets_what_follows(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint_id = hooks.subscribe(receiver)
    hooks.emit(("employee.created", {"employee_id": "e1"}))
    receiver.answer = 410
    assert hooks.tick().disabled_endpoints == [endpoint_id]

    receiver.answer = 204
    [meanwhile] = hooks.emit(("employee.created", {"employee_id": "e2"}))
    hooks.tick(dt.timedelta(hours=1))
    assert receiver.accepted == []
    # Like Svix and the Standard Webhooks practice: nothing is kept for a disabled endpoint.
    assert meanwhile not in {d.event_id for d in hooks.deliveries()}

    with hooks.db.transaction() as session:
        endpoints.enable_endpoint(session, hooks.account_id, endpoint_id)
    [after] = hooks.emit(("employee.created", {"employee_id": "e3"}))
    hooks.tick()
    assert receiver.accepted_ids() == [after]


def test_deleting_an_endpoint_removes_its_deliveries_and_other_accounts_cannot_touch_it(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint_id = hooks.subscribe(receiver)
    hooks.emit(("employee.created", {"employee_id": "e1"}))
    hooks.tick()
    [delivery] = hooks.deliveries()
    other = make_hooks(hooks.db, hooks.cipher, hooks.client)
    with hooks.db.transaction() as session:
        with pytest.raises(endpoints.WebhookNotFound):
            endpoints.delete_endpoint(session, other.account_id, endpoint_id)
        with pytest.raises(endpoints.WebhookNotFound):
            endpoints.replay(session, other.account_id, delivery.id, now=hooks.now)
        assert endpoints.list_deliveries(session, other.account_id) == []
    with hooks.db.transaction() as session:
        endpoints.delete_endpoint(session, hooks.account_id, endpoint_id)
    assert hooks.deliveries() == []
