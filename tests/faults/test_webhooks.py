"""Webhook receivers failing while syncs go on, on SQLite and PostgreSQL: a receiver down for hours, one
that hangs, one slower than the timeout, a dispatcher that dies between sending and recording, two
dispatchers at once.

Invariants: every event a sync wrote reaches the receiver, and a receiver that deduplicates by
`webhook-id` (as Standard Webhooks asks) processes each exactly once; a retry carries the same id; a
receiver hanging never holds up a sync.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet, MultiFernet
from fault_harness import FIRST_SYNC, LATER, ONE_PAGE, SMALL, Wire, World, changed_world, held_open
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from staffsync.crypto import CredentialCipher
from staffsync.storage.db import Database
from staffsync.webhooks import delivery, endpoints
from staffsync.webhooks.delivery import DeliveryReport, deliver_due, fan_out, make_client
from staffsync.webhooks.policy import RetryPolicy

NO_JITTER = RetryPolicy(jitter=0)


@dataclass
class Receiver:
    """A subscriber on 127.0.0.1 that verifies each request, deduplicates by `webhook-id`, and can be
    down (nothing listening on its port), answering 500, or hanging until released."""

    secret: str = ""
    failing: bool = False
    hang: threading.Event | None = None
    # How many requests hang, first come first: the rest are answered at once.
    hangs_left: int = 1_000_000
    arrived: threading.Event = field(default_factory=threading.Event)
    attempts: Counter[str] = field(default_factory=Counter)
    processed: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            document = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.rejected += 1
            return 401
        with self.lock:
            self.attempts[headers["webhook-id"]] += 1
        self.arrived.set()
        with self.lock:
            hangs = self.hang is not None and self.hangs_left > 0
            self.hangs_left -= hangs
        if hangs and self.hang is not None:
            self.hang.wait(30)
        if self.failing:
            return 500
        with self.lock:
            if document["id"] not in {seen["id"] for seen in self.processed}:
                self.processed.append(document)
        return 204

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver.handle(body, {key.lower(): value for key, value in self.headers.items()})
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up waiting and closed the connection
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass
class Hooks:
    world: World
    receiver: Receiver
    cipher: CredentialCipher
    client: httpx.Client
    now: dt.datetime = LATER

    def tick(self, advance: dt.timedelta = dt.timedelta(0), client: httpx.Client | None = None) -> DeliveryReport:
        self.now += advance
        fan_out(self.world.db, self.now)
        return deliver_due(
            self.world.db, self.now, client or self.client, cipher=self.cipher, allow_private=True, policy=NO_JITTER
        )

    def pending(self) -> list[Any]:
        with self.world.db.session() as session:
            return endpoints.list_deliveries(session, self.world.account_id, status="pending", limit=10_000)

    def emitted(self) -> list[str]:
        return [event.id for event in self.world.events()]


@pytest.fixture
def hooks(db: Database, clean_wire: Wire) -> Iterator[Hooks]:
    world = World(db, clean_wire, size=SMALL)
    cipher = CredentialCipher(MultiFernet([Fernet(Fernet.generate_key())]))
    receiver = Receiver()
    receiver.up()
    with db.transaction() as session:
        created = endpoints.create_endpoint(
            session, world.account_id, url=receiver.url, cipher=cipher, now=FIRST_SYNC, allow_private=True
        )
    receiver.secret = created.secret
    with make_client() as client:
        yield Hooks(world, receiver, cipher, client)
    receiver.down()


def drain(hooks: Hooks, *, step: dt.timedelta = dt.timedelta(hours=1), limit: int = 100) -> None:
    for _ in range(limit):
        hooks.tick(step)
        if not hooks.pending():
            return
    raise AssertionError(f"{len(hooks.pending())} deliveries still pending")


def test_a_receiver_down_for_hours_then_up_gets_every_event_of_every_sync_exactly_once(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    assert world.sync(connector=ONE_PAGE).status == "succeeded"
    receiver.down()
    hooks.now = FIRST_SYNC
    for _ in range(6):  # three hours of ticks, every attempt refused
        hooks.tick(dt.timedelta(minutes=30))
    changed_world(world, LATER)
    assert world.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
    for _ in range(6):  # and three more, with the second sync's events queued behind
        hooks.tick(dt.timedelta(minutes=30))
    assert not receiver.attempts and hooks.pending()

    receiver.up()
    drain(hooks)

    emitted = hooks.emitted()
    assert sorted(document["id"] for document in receiver.processed) == sorted(emitted)
    assert set(receiver.attempts) == set(emitted) and set(receiver.attempts.values()) == {1}
    assert receiver.rejected == 0
    # In order per person: the sequence each person's events were written in.
    by_person: dict[str, list[str]] = {}
    for document in receiver.processed:
        if "employee_id" in document["data"]:
            by_person.setdefault(document["data"]["employee_id"], []).append(document["id"])
    assert all(ids == sorted(ids) for ids in by_person.values())


def test_a_receiver_that_hangs_does_not_hold_up_a_sync(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    world, receiver = hooks.world, hooks.receiver
    monkeypatch.setattr(delivery, "TIMEOUT", httpx.Timeout(30.0))  # longer than any sync here, loaded machine or not
    assert world.sync(connector=ONE_PAGE).status == "succeeded"
    with held_open() as release:
        receiver.hang = release
        dispatching = threading.Thread(target=hooks.tick)
        dispatching.start()
        try:
            assert receiver.arrived.wait(30)  # the dispatcher now waits on the receiver
            changed_world(world, LATER)
            outcome = world.sync(at=LATER, full=True, connector=ONE_PAGE)
            assert outcome.status == "succeeded"
            assert dispatching.is_alive(), "the sync should have finished while the delivery was still waiting"
        finally:
            release.set()
            dispatching.join(30)
    receiver.hang = None
    drain(hooks)
    assert sorted(document["id"] for document in receiver.processed) == sorted(hooks.emitted())


def test_a_receiver_slower_than_the_timeout_is_retried_with_the_same_webhook_id(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, receiver = hooks.world, hooks.receiver
    # Long enough that a busy machine answers every other delivery in time; only the hanging one times out.
    monkeypatch.setattr(delivery, "TIMEOUT", httpx.Timeout(2.0))
    assert world.sync(connector=ONE_PAGE).status == "succeeded"
    with held_open() as release:
        receiver.hang, receiver.hangs_left = release, 1
        report = hooks.tick()
    receiver.hang = None
    assert report.retrying == 1
    [timed_out] = [d for d in hooks.pending() if d.last_error == "the receiver did not answer in time"]

    drain(hooks)
    emitted = hooks.emitted()
    assert sorted(document["id"] for document in receiver.processed) == sorted(emitted)
    assert receiver.attempts[timed_out.event_id] == 2
    assert set(receiver.attempts.values()) == {1, 2}


class DispatcherDied(BaseException):
    """Stands for the process ending between the HTTP answer and the database write."""


def test_a_dispatcher_dying_between_sending_and_recording_resends_with_the_same_id_after_its_claim_lapses(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, receiver = hooks.world, hooks.receiver
    assert world.sync(connector=ONE_PAGE).status == "succeeded"

    def die(*_: object, **__: object) -> str:
        raise DispatcherDied

    monkeypatch.setattr(delivery, "_record", die)
    with pytest.raises(DispatcherDied):
        hooks.tick()
    [sent] = list(receiver.attempts)
    monkeypatch.undo()

    hooks.tick(delivery.CLAIM_LEASE / 2)  # the dead dispatcher's claim still stands: the others go out
    assert receiver.attempts[sent] == 1 and len(receiver.attempts) > 1
    drain(hooks, step=delivery.CLAIM_LEASE)

    assert receiver.attempts[sent] == 2  # at least once: the same webhook-id again...
    processed = [document["id"] for document in receiver.processed]
    assert sorted(processed) == sorted(hooks.emitted())  # ...processed once by a deduplicating receiver


def test_two_dispatchers_at_once_send_each_event_once(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    assert world.sync(connector=ONE_PAGE).status == "succeeded"
    fan_out(world.db, hooks.now)
    barrier = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def dispatch() -> None:
        with make_client() as client:
            barrier.wait(10)
            reports.append(hooks.tick(client=client))

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    emitted = hooks.emitted()
    assert sum(report.succeeded for report in reports) == len(emitted)
    assert set(receiver.attempts) == set(emitted) and set(receiver.attempts.values()) == {1}
