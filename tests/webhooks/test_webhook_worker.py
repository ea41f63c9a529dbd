"""Webhook delivery as `staffsync worker` runs it (STAFFSYNC_QUEUE=procrastinate): the periodic
`staffsync.deliver_webhooks` task hands its clock to the worker's runtime, which signs with the installation's
keys and applies the installation's SSRF setting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from webhook_harness import Receiver, installation, make_hooks

from fakes import NOW
from staffsync.crypto import CredentialCipher
from staffsync.storage.db import Database
from staffsync.tasks import WorkerRuntime


def test_a_worker_delivers_pending_events_signed_with_the_installations_keys(
    db: Database, tmp_path: Path, receiver: Receiver, client: httpx.Client
) -> None:
    settings = installation(db, tmp_path, webhooks_allow_private=True)
    hooks = make_hooks(db, CredentialCipher.from_settings(settings), client)
    hooks.subscribe(receiver)
    emitted = hooks.emit(("employee.created", {"employee_id": "e1"}), ("sync.succeeded", {"run_id": "r1"}))

    WorkerRuntime(db=db, settings=settings).deliver_webhooks(NOW + dt.timedelta(minutes=1))

    assert receiver.accepted_ids() == emitted
    assert receiver.rejected == 0
    assert {d.status for d in hooks.deliveries()} == {"succeeded"}


def test_a_worker_refuses_a_loopback_receiver_unless_the_installation_allows_private_targets(
    db: Database, tmp_path: Path, receiver: Receiver, client: httpx.Client
) -> None:
    settings = installation(db, tmp_path, webhooks_allow_private=False)
    hooks = make_hooks(db, CredentialCipher.from_settings(settings), client)
    hooks.subscribe(receiver)  # saved while allowed, as after a change of the installation's setting
    hooks.emit(("employee.created", {"employee_id": "e1"}))

    WorkerRuntime(db=db, settings=settings).deliver_webhooks(NOW + dt.timedelta(minutes=1))

    assert receiver.paths == []
    [waiting] = hooks.deliveries(status="pending")
    assert waiting.last_error is not None and "not a public internet address (loopback)" in waiting.last_error
