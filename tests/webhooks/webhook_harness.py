"""The webhook tests' harness: a receiver on 127.0.0.1 that verifies every request the way a subscriber
would, and one account with verbs to emit events, subscribe and tick the clock."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from fakes import NOW
from staffsync.crypto import CredentialCipher
from staffsync.settings import Settings
from staffsync.storage import accounts, outbox
from staffsync.storage.db import Database
from staffsync.webhooks import endpoints
from staffsync.webhooks.delivery import DeliveryReport, deliver_due, fan_out
from staffsync.webhooks.policy import RetryPolicy


@dataclass
class Receiver:
    url: str = ""
    secrets: list[str] = field(default_factory=list)
    fail_next: int = 0
    answer: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.paths.append(path)
            document = None
            for secret in self.secrets:
                try:
                    document = Webhook(secret).verify(body, headers)
                    break
                except WebhookVerificationError:
                    continue
            if document is None:
                self.rejected += 1
                return 401, {}
            self.attempts[headers["webhook-id"]] += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, {}
            if 200 <= self.answer < 300:
                assert document["id"] == headers["webhook-id"]
                self.accepted.append(document)
            return self.answer, self.headers

    def accepted_ids(self) -> list[str]:
        return [document["id"] for document in self.accepted]


@contextmanager
def serve(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status, extra = receiver.handle(self.path, body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


NO_JITTER = RetryPolicy(jitter=0)


@dataclass
class Hooks:
    """One account with verbs for the tests: add events to its outbox, subscribe, tick the clock."""

    db: Database
    cipher: CredentialCipher
    client: httpx.Client
    account_id: str
    now: dt.datetime = NOW

    def emit(self, *events: tuple[str, dict[str, Any]]) -> list[str]:
        rows = []
        for event_type, data in events:
            self.now += dt.timedelta(seconds=1)
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "account_id": self.account_id,
                    "type": event_type,
                    "occurred_at": self.now,
                    "data": data,
                }
            )
        with self.db.transaction() as session:
            outbox.insert_events(session, rows)
        return [row["id"] for row in rows]

    def subscribe(self, receiver: Receiver, **options: Any) -> str:
        with self.db.transaction() as session:
            created = endpoints.create_endpoint(
                session,
                self.account_id,
                url=receiver.url,
                cipher=self.cipher,
                now=self.now,
                allow_private=True,
                **options,
            )
        receiver.secrets.append(created.secret)
        return created.endpoint.id

    def tick(
        self, advance: dt.timedelta = dt.timedelta(0), *, policy: RetryPolicy = NO_JITTER, **options: Any
    ) -> DeliveryReport:
        self.now += advance
        fan_out(self.db, self.now)
        options.setdefault("allow_private", True)
        return deliver_due(self.db, self.now, self.client, cipher=self.cipher, policy=policy, **options)

    def deliveries(self, **filters: Any) -> list[Any]:
        with self.db.session() as session:
            return endpoints.list_deliveries(session, self.account_id, **filters)


def make_hooks(db: Database, cipher: CredentialCipher, client: httpx.Client) -> Hooks:
    with db.transaction() as session:
        account = accounts.create_account(session, "Acme", timezone="UTC", now=NOW)
    return Hooks(db, cipher, client, account.id)


def installation(db: Database, tmp_path: Path, **settings: Any) -> Settings:
    """The settings of an installation on `db` with fresh secret keys and private receivers allowed; `settings`
    override them (webhooks_allow_private, webhooks_retry_hours, …)."""
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": db.url.render_as_string(hide_password=False),
        "secret_keys": Fernet.generate_key().decode(),
        "webhooks_allow_private": True,
    }
    return Settings(_env_file=None, **(values | settings))
