"""Delivery to a real receiver on loopback: signed, retried with the same webhook-id, in order per employee."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from webhook_harness import Hooks, Receiver

from staffsync.storage import audit
from staffsync.webhooks import endpoints
from staffsync.webhooks.delivery import GONE_REASON
from staffsync.webhooks.policy import RetryPolicy

HOUR = dt.timedelta(hours=1)


def webhook_trail(hooks: Hooks) -> list[tuple[str, str, dict[str, Any]]]:
    with hooks.db.session() as session:
        entries = audit.list_entries(session, hooks.account_id, object_type="webhook", limit=100)
    return [(e.action, e.actor, e.changes) for e in reversed(entries)]


def drain(hooks: Hooks, *, step: dt.timedelta = HOUR, limit: int = 200) -> None:
    for _ in range(limit):
        hooks.tick(step)
        if not hooks.deliveries(status="pending"):
            return
    raise AssertionError("deliveries still pending")


def test_every_event_arrives_exactly_once_and_in_order_per_employee_after_the_receiver_recovers(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.subscribe(receiver)
    emitted = hooks.emit(
        *[
            (event_type, {"employee_id": f"e{person}", "step": step})
            for step, event_type in enumerate(["employee.created", "employee.updated", "employee.hidden"])
            for person in range(3)
        ],
        ("sync.succeeded", {"run_id": "run-1"}),
    )
    receiver.fail_next = 5

    report = hooks.tick()
    assert report.retrying > 0
    drain(hooks)

    assert sorted(receiver.accepted_ids()) == sorted(emitted)
    assert len(receiver.accepted_ids()) == len(set(receiver.accepted_ids()))
    # The failed requests came back as retries of the same webhook-id, not as new messages.
    assert sum(receiver.attempts.values()) == len(emitted) + 5
    assert set(receiver.attempts) == set(emitted)
    assert receiver.rejected == 0
    steps: dict[str, list[int]] = defaultdict(list)
    for document in receiver.accepted:
        if "employee_id" in document["data"]:
            steps[document["data"]["employee_id"]].append(document["data"]["step"])
    assert steps == {f"e{person}": [0, 1, 2] for person in range(3)}
    delivered = hooks.deliveries(status="succeeded")
    assert len(delivered) == len(emitted)
    assert all(d.last_status_code == 204 and d.last_latency_ms is not None for d in delivered)


def test_the_payload_is_the_event_document(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    [event_id] = hooks.emit(("employee.created", {"employee_id": "e1", "fields": {"first_name": "Ada"}}))
    hooks.tick()
    [document] = receiver.accepted
    assert document == {
        "id": event_id,
        "type": "employee.created",
        "occurred_at": (hooks.now).isoformat(),
        "account_id": hooks.account_id,
        "data": {"employee_id": "e1", "fields": {"first_name": "Ada"}},
    }


def test_a_410_answer_disables_the_endpoint_and_keeps_later_events_pending(hooks: Hooks, receiver: Receiver) -> None:
    endpoint_id = hooks.subscribe(receiver)
    hooks.emit(("employee.created", {"employee_id": "e1"}), ("employee.created", {"employee_id": "e2"}))
    receiver.answer = 410

    report = hooks.tick()

    assert report.disabled_endpoints == [endpoint_id]
    assert sum(receiver.attempts.values()) == 1
    with hooks.db.session() as session:
        [endpoint] = endpoints.list_endpoints(session, hooks.account_id)
    assert (endpoint.status, endpoint.disabled_reason) == ("disabled", GONE_REASON)
    # The trail says who switched it off and why: staffsync, not an admin (the subscription was the harness's).
    *_, (action, actor, changes) = webhook_trail(hooks)
    assert (action, actor) == ("webhook.updated", "system")
    assert changes == {
        "status": {"old": "active", "new": "disabled"},
        "disabled_reason": {"old": None, "new": GONE_REASON},
    }
    [gone] = hooks.deliveries(status="failed")
    assert gone.last_status_code == 410
    assert len(hooks.deliveries(status="pending")) == 1

    receiver.answer = 204
    hooks.tick(HOUR)
    assert receiver.accepted == []
    with hooks.db.transaction() as session:
        endpoints.enable_endpoint(session, hooks.account_id, endpoint_id)
    hooks.tick()
    assert len(receiver.accepted) == 1


def test_a_delivery_is_dead_lettered_when_the_schedule_is_exhausted_and_can_be_replayed(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.subscribe(receiver)
    [event_id] = hooks.emit(("employee.created", {"employee_id": "e1"}))
    receiver.fail_next = 1000
    policy = RetryPolicy(jitter=0)

    for _ in range(policy.max_attempts + 5):
        hooks.tick(dt.timedelta(hours=11))

    assert receiver.attempts[event_id] == policy.max_attempts
    [dead] = hooks.deliveries(status="failed")
    assert (dead.attempts, dead.last_status_code, dead.last_error) == (13, 500, "receiver answered 500")
    assert dead.last_response_excerpt == "ok"
    assert dead.next_attempt_at is None

    receiver.fail_next = 0
    with hooks.db.transaction() as session:
        endpoints.replay(session, hooks.account_id, dead.id, now=hooks.now)
    hooks.tick()
    assert receiver.accepted_ids() == [event_id]
    assert hooks.deliveries(status="succeeded")[0].id == dead.id


def test_replaying_a_delivered_event_sends_it_again_with_the_same_webhook_id(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    [event_id] = hooks.emit(("employee.created", {"employee_id": "e1"}))
    hooks.tick()
    [delivery] = hooks.deliveries()
    with hooks.db.transaction() as session:
        endpoints.replay(session, hooks.account_id, delivery.id, now=hooks.now)
    hooks.tick()
    assert receiver.accepted_ids() == [event_id, event_id]


def test_an_endpoint_is_disabled_after_repeated_dead_letters(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    hooks.emit(*[("employee.created", {"employee_id": f"e{n}"}) for n in range(3)])
    receiver.fail_next = 1000
    policy = RetryPolicy(delays=(dt.timedelta(seconds=5),), jitter=0, disable_after=2)

    hooks.tick(policy=policy)
    report = hooks.tick(dt.timedelta(seconds=5), policy=policy)

    assert report.failed == 2
    with hooks.db.session() as session:
        [endpoint] = endpoints.list_endpoints(session, hooks.account_id)
    assert endpoint.status == "disabled"
    assert endpoint.consecutive_failures == 2
    assert endpoint.disabled_reason == (
        "2 deliveries in a row failed for their whole retry window (last: receiver answered 500)"
    )
    *_, (action, actor, changes) = webhook_trail(hooks)
    assert (action, actor, changes["status"]) == ("webhook.updated", "system", {"old": "active", "new": "disabled"})
    assert changes["disabled_reason"] == {"old": None, "new": endpoint.disabled_reason}
    # Nothing is lost: the third event waits for the endpoint to be enabled again.
    assert len(hooks.deliveries(status="pending")) == 1


def test_redirects_are_not_followed(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    hooks.emit(("employee.created", {"employee_id": "e1"}))
    receiver.answer = 302
    receiver.headers = {"location": "/internal"}
    hooks.tick()
    assert receiver.paths == ["/hooks"]
    [delivery] = hooks.deliveries(status="pending")
    assert delivery.last_error == "receiver answered 302; redirects are not followed"


def test_the_target_is_checked_again_at_send_time(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    hooks.emit(("employee.created", {"employee_id": "e1"}))
    hooks.tick(allow_private=False)
    assert receiver.paths == []
    [delivery] = hooks.deliveries(status="pending")
    assert delivery.attempts == 1
    assert delivery.last_error is not None and "not a public internet address (loopback)" in delivery.last_error


def test_an_unreachable_receiver_is_retried_without_leaking_the_url(hooks: Hooks, receiver: Receiver) -> None:
    hooks.subscribe(receiver)
    with hooks.db.transaction() as session:
        [endpoint] = endpoints.list_endpoints(session, hooks.account_id)
        endpoint.url = "http://127.0.0.1:1/hooks?token=sentinel-token"
    hooks.emit(("employee.created", {"employee_id": "e1"}))
    hooks.tick()
    [delivery] = hooks.deliveries(status="pending")
    assert delivery.last_error == "could not connect to the receiver"
    assert delivery.next_attempt_at == hooks.now + dt.timedelta(seconds=5)
