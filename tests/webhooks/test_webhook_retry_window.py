"""The operator's STAFFSYNC_WEBHOOKS_RETRY_HOURS is the window both deliverers retry a failing delivery for: the
worker of the procrastinate queue and the schedule embedded in `staffsync serve`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from webhook_harness import Receiver, installation, make_hooks

from fakes import NOW
from staffsync import scheduler
from staffsync.cli.serve import _embedded_schedule
from staffsync.crypto import CredentialCipher
from staffsync.storage.db import Database
from staffsync.tasks import WorkerRuntime
from staffsync.webhooks.policy import RetryPolicy

MINUTE = dt.timedelta(minutes=1)


def test_a_worker_gives_a_failing_delivery_up_when_the_installations_window_ends(
    db: Database, tmp_path: Path, receiver: Receiver, client: httpx.Client
) -> None:
    settings = installation(db, tmp_path, webhooks_retry_hours=1)
    hooks = make_hooks(db, CredentialCipher.from_settings(settings), client)
    hooks.subscribe(receiver)
    [event_id] = hooks.emit(("employee.created", {"employee_id": "e1"}))
    receiver.answer = 500
    worker = WorkerRuntime(db=db, settings=settings)

    # An hour's schedule is 5 s, 5 min, 30 min, then what is left of the hour; each wait gets up to 10 % jitter.
    for after in (1 * MINUTE, 2 * MINUTE, 10 * MINUTE, 45 * MINUTE):
        worker.deliver_webhooks(NOW + after)
    assert receiver.attempts[event_id] == 4
    assert [d.status for d in hooks.deliveries()] == ["pending"]

    worker.deliver_webhooks(NOW + 2 * 60 * MINUTE)

    assert receiver.attempts[event_id] == 5
    [dead] = hooks.deliveries()
    # Under the default three days the same delivery would still be waiting for its next attempt.
    assert (dead.status, dead.next_attempt_at) == ("failed", None)


class RecordingScheduler:
    """Stands in for the embedded schedule's thread: only what `serve` hands it matters here."""

    built: list[RecordingScheduler] = []

    def __init__(self, db: Database, connector_for: Any, *, jobs: Any, **options: Any) -> None:
        self.jobs = list(jobs)
        self.concurrency = 1
        RecordingScheduler.built.append(self)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RecordingScheduler]]:
    RecordingScheduler.built = []
    monkeypatch.setattr(scheduler, "EmbeddedScheduler", RecordingScheduler)
    yield RecordingScheduler.built


def test_serve_s_embedded_schedule_retries_webhooks_for_the_installations_window(
    db: Database, tmp_path: Path, recorded: list[RecordingScheduler]
) -> None:
    app = SimpleNamespace(state=SimpleNamespace(api=SimpleNamespace(metrics=None)))

    with _embedded_schedule(app, db, installation(db, tmp_path, webhooks_retry_hours=5), None):
        pass

    [schedule] = recorded
    [dispatcher] = schedule.jobs
    assert dispatcher.policy == RetryPolicy.spanning(dt.timedelta(hours=5))
    assert sum(dispatcher.policy.delays, dt.timedelta()) == dt.timedelta(hours=5)
