"""End to end: a sync writes events to the outbox, the scheduler's tick fans them out and delivers them."""

from __future__ import annotations

import datetime as dt

from webhook_harness import Hooks, Receiver

from fakes import NOW, ListSource, make_directory, person
from staffsync.scheduler import EmbeddedScheduler
from staffsync.storage.db import Database
from staffsync.webhooks.delivery import WebhookDispatcher
from staffsync.webhooks.policy import RetryPolicy


def test_a_sync_delivers_signed_employee_created_events(db: Database, hooks: Hooks, receiver: Receiver) -> None:
    directory = make_directory(db, ListSource([person(1), person(2)]))
    hooks.account_id = directory.account_id
    hooks.subscribe(receiver, event_types=["employee.created"])

    assert directory.sync().status == "succeeded"
    hooks.tick()

    created = {event.id for event in directory.events() if event.type == "employee.created"}
    assert len(created) == 2
    assert set(receiver.accepted_ids()) == created
    assert {document["data"]["employee_id"] for document in receiver.accepted} == {
        employee.id for employee in directory.employees().values()
    }
    assert receiver.rejected == 0


def test_the_embedded_scheduler_delivers_webhooks_after_its_syncs(
    db: Database, hooks: Hooks, receiver: Receiver
) -> None:
    directory = make_directory(db, ListSource([person(1)]))
    hooks.account_id = directory.account_id
    hooks.subscribe(receiver)
    dispatcher = WebhookDispatcher(db, hooks.cipher, hooks.client, allow_private=True, policy=RetryPolicy(jitter=0))
    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=lambda: NOW, jobs=[dispatcher])

    [outcome] = scheduler.run_due()

    assert outcome.status == "succeeded"
    assert {document["type"] for document in receiver.accepted} >= {"employee.created"}
    assert len(receiver.accepted) == len(directory.events())


def test_a_failing_job_does_not_stop_the_scheduler(db: Database) -> None:
    directory = make_directory(db, ListSource([person(1)]))

    def broken(now: dt.datetime) -> None:
        raise RuntimeError("receiver exploded")

    scheduler = EmbeddedScheduler(db, lambda _connection: directory.source, now=lambda: NOW, jobs=[broken])
    assert [outcome.status for outcome in scheduler.run_due()] == ["succeeded"]
