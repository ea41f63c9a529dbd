"""The fault suite's harness: the Kombo simulator on loopback behind a `Tamper` layer, one account per test
synced from a simulated integration, and golden-state checks.

Golden states:
- `Snapshot` holds every row a sync may write for one account (employees, source links, changes, outbox
  events, policy assignments). `assert_only_bookkeeping` says a run changed nothing but its own record:
  the snapshot after equals the one before, apart from the run's one `sync.failed`/`sync.held` event and,
  for a held run, its staged plan.
- `World.view()` is the directory as a reader sees it, free of ids and timestamps; a recovered run must
  produce the same view as a clean run of the same data (`World.twin()` syncs a second account from the
  same integration before any fault is armed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import socket
import struct
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Container, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import select

from staffsync.connectors.kombo import KomboConnector, retry_config
from staffsync.simulators.kombo import Fault, Integration, SimulatorSettings, SimulatorState
from staffsync.storage import accounts, connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import SyncOutcome, run_sync

API_KEY = "sim-key-faults-7d41c9"
# Retries that take milliseconds: a transient fault is retried, a lasting one fails in well under a second.
FAST = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=300, jitter_ms=0)
# The same pace with room to spare on a loaded machine: for faults that must be retried, not outlasted.
PATIENT = retry_config(initial_ms=5, max_interval_ms=20, max_elapsed_ms=3_000, jitter_ms=0)
# The simulated company exists a day before the first sync, so that an incremental fetch (reaching ten
# minutes back) returns only what changed after it.
GENERATED = dt.datetime(2026, 1, 11, 9, 0, tzinfo=dt.UTC)
FIRST_SYNC = GENERATED + dt.timedelta(days=1)
# When the faulted run happens: after `changed_world`.
LATER = FIRST_SYNC + dt.timedelta(hours=3)
EMPLOYEES = "/v1/hris/employees"
PAGE_SIZE = 10
# The companies of the tests on both databases, where paging is not the point: one page each.
SMALL = 20
ONE_PAGE = {"page_size": 250}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Document = dict[str, Any]
Query = dict[str, str]


# --- wire damage the simulator's own fault kinds cannot express --------------------------------------


@dataclass
class _Rule:
    path: str
    requests: Container[int] | None
    rewrite: Callable[[Query, Document], Document | bytes] | None = None
    answer: Callable[[Query], Document] | None = None
    when: Callable[[Query], bool] | None = None
    cut_at: float | None = None
    content_type: str | None = None
    seen: int = 0
    fired: int = 0


class Tamper:
    """An ASGI layer in front of the simulator that damages pages on their way out, so the official SDK
    meets them on a real socket: rewritten JSON (loops, duplicates, empty pages, extra fields), answers
    the simulator never gives (cursors it did not issue), and bodies cut off by a TCP reset.

    Requests to a rule's path are numbered from 1 from the moment it is added; `requests` picks which
    of them it damages (None: all). Everything else passes through untouched, with the server's own
    `send`, so the simulator's `reset` fault keeps working."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def rewrite(
        self,
        change: Callable[[Query, Document], Document | bytes],
        *,
        path: str = EMPLOYEES,
        requests: Container[int] | None = None,
        content_type: str | None = None,
    ) -> _Rule:
        return self._add(_Rule(path, requests, rewrite=change, content_type=content_type))

    def answer(
        self, make: Callable[[Query], Document], *, when: Callable[[Query], bool], path: str = EMPLOYEES
    ) -> _Rule:
        return self._add(_Rule(path, None, answer=make, when=when))

    def cut_body(self, *, at: float = 0.5, path: str = EMPLOYEES, requests: Container[int] | None = None) -> _Rule:
        return self._add(_Rule(path, requests, cut_at=at))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def _add(self, rule: _Rule) -> _Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def _take(self, path: str, query: Query) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.path != path:
                    continue
                if rule.when is not None:
                    if rule.when(query):
                        rule.fired += 1
                        return rule
                    continue
                rule.seen += 1
                if rule.requests is None or rule.seen in rule.requests:
                    rule.fired += 1
                    return rule
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        rule = self._take(scope.get("path", ""), query)
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.answer is not None:
            await _respond(send, 200, [(b"content-type", b"application/json")], orjson.dumps(rule.answer(query)))
            return
        status, headers, body = await _capture(self.app, scope, receive)
        if status != 200:
            await _respond(send, status, headers, body)
        elif rule.cut_at is not None:
            # The full length is announced, part of the body sent, then the connection is reset under it.
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body[: int(len(body) * rule.cut_at)], "more_body": True})
            await _abort(send)
        else:
            assert rule.rewrite is not None
            changed = rule.rewrite(query, orjson.loads(body))
            if rule.content_type is not None:
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                headers.append((b"content-type", rule.content_type.encode()))
            await _respond(send, status, headers, changed if isinstance(changed, bytes) else orjson.dumps(changed))


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    kept = [(key, value) for key, value in headers if key.lower() != b"content-length"]
    kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body})


async def _abort(send: Send) -> None:
    """A TCP reset under the response in flight: uvicorn's transport is the object `send` is bound to."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    assert isinstance(transport, asyncio.Transport), "the Tamper layer must sit directly under uvicorn"
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    for _ in range(3):
        await asyncio.sleep(0)


def results(document: Document) -> list[Document]:
    found: list[Document] = document["data"]["results"]
    return found


# --- the simulator, shared by the whole suite --------------------------------------------------------


@dataclass
class Wire:
    state: SimulatorState
    tamper: Tamper
    url: str

    def reset(self) -> None:
        self.state.faults.clear()
        self.state.log.clear()
        self.tamper.clear()
        defaults = SimulatorSettings()
        for setting in dataclasses.fields(SimulatorSettings):
            setattr(self.state.settings, setting.name, getattr(defaults, setting.name))


# --- one account synced from one simulated integration ------------------------------------------------


@dataclass
class Snapshot:
    """Every row one account's syncs may write, as JSON-comparable dicts."""

    tables: dict[str, list[dict[str, Any]]]

    def without(self, table: str, unwanted: Callable[[dict[str, Any]], bool]) -> Snapshot:
        kept = {name: rows for name, rows in self.tables.items()}
        kept[table] = [row for row in self.tables[table] if not unwanted(row)]
        return Snapshot(kept)


SNAPSHOT_TABLES: dict[str, type[models.Base]] = {
    "employees": models.Employee,
    "source_links": models.SourceLink,
    "changes": models.Change,
    "outbox_events": models.OutboxEvent,
    "policy_assignments": models.PolicyAssignment,
}


def assert_only_bookkeeping(
    before: Snapshot, after: Snapshot, run_id: str, *, event: str | None = "sync.failed"
) -> None:
    """The run left the directory exactly as it was: its one `event` (None: a run that could not even
    record its end) and its staged plan (a held run's, or one left by a run cut off) aside."""

    def is_run_event(row: dict[str, Any]) -> bool:
        return row["type"] == event and row["data"].get("run_id") == run_id

    expected = 0 if event is None else 1
    assert sum(map(is_run_event, after.tables["outbox_events"])) == expected, f"expected {expected} {event} event"
    trimmed = after.without("outbox_events", is_run_event).without(
        "changes", lambda row: row["run_id"] == run_id and row["status"] == "staged"
    )
    for table in SNAPSHOT_TABLES:
        assert trimmed.tables[table] == before.tables[table], f"{table} changed"


class World:
    """One account with one Kombo connection, fed by its own simulated integration."""

    def __init__(
        self,
        db: Database,
        wire: Wire,
        *,
        size: int = 40,
        seed: int | None = None,
        timezone: str = "Europe/Berlin",
        integration: Integration | None = None,
    ) -> None:
        self.db, self.wire, self.state = db, wire, wire.state
        self.timezone = timezone
        if integration is None:
            self.state.clock.set(GENERATED)
            integration = self.state.create_integration(size=size, seed=size if seed is None else seed)
            assert len(integration.mirror.employees) == size  # generated now, at GENERATED
        self.integration = integration
        with db.transaction() as session:
            account = accounts.create_account(session, "Acme", timezone=timezone, now=GENERATED)
            connection = connections.create_connection(
                session,
                account.id,
                name="Personio (Kombo)",
                provider="kombo",
                now=GENERATED,
                config={"integration_id": integration.id},
            )
            self.account_id, self.connection_id = account.id, connection.id

    def twin(self) -> World:
        """Another account fed by the same integration: sync it before arming a fault for the clean run."""
        return World(self.db, self.wire, integration=self.integration, timezone=self.timezone)

    # -- faults and syncs

    def arm(self, kind: str, **options: Any) -> Fault:
        options = {"route": "/hris/employees", "integration_id": self.integration.id} | options
        return self.state.faults.add(Fault(kind, **options))  # type: ignore[arg-type]

    def connector(self, **options: Any) -> KomboConnector:
        options = {"timezone": self.timezone, "retry": FAST, "page_size": PAGE_SIZE, "timeout_ms": 2_000} | options
        return KomboConnector(API_KEY, self.integration.id, server_url=self.wire.url, **options)

    def sync(
        self, at: dt.datetime = FIRST_SYNC, *, connector: dict[str, Any] | None = None, **options: Any
    ) -> SyncOutcome:
        self.state.clock.set(at)
        options.setdefault("now", lambda: at)
        with self.connector(**(connector or {})) as kombo:
            return run_sync(self.db, self.connection_id, account_id=self.account_id, connector=kombo, **options)

    def requests(self, path: str = EMPLOYEES) -> list[Any]:
        return [entry for entry in self.state.log.entries(path) if entry.integration_id == self.integration.id]

    def people(self) -> list[Any]:
        """The remote HR system's people in Kombo-id order, the order pages come in."""
        mirror = self.integration.mirror
        return [mirror.employees[key].person for key in mirror.employee_order]

    # -- golden states

    def snapshot(self) -> Snapshot:
        tables: dict[str, list[dict[str, Any]]] = {}
        with self.db.session() as session:
            for name, model in SNAPSHOT_TABLES.items():
                table = models.table_of(model)
                rows = session.execute(select(table).where(table.c.account_id == self.account_id)).mappings()
                tables[name] = sorted(
                    (dict(row) for row in rows),
                    key=lambda row: orjson.dumps(row, default=str, option=orjson.OPT_SORT_KEYS),
                )
        return Snapshot(tables)

    def view(self) -> dict[str, Any]:
        """The directory as a reader sees it: people by work email, links by remote id, lifecycle events by
        person; no ids, versions or timestamps, so that two accounts synced from the same data compare equal."""
        with self.db.session() as session:
            employees = list(
                session.execute(select(models.Employee).where(models.Employee.account_id == self.account_id)).scalars()
            )
            email = {employee.id: employee.work_email for employee in employees}
            links = session.execute(
                select(models.SourceLink).where(models.SourceLink.account_id == self.account_id)
            ).scalars()
            events = session.execute(
                select(models.OutboxEvent).where(models.OutboxEvent.account_id == self.account_id)
            ).scalars()
            skipped = {
                "id",
                "account_id",
                "version",
                "manager",
                "primary_connection_id",
                "created_at",
                "updated_at",
                "detached_at",
            }
            people = {
                employee.work_email: {
                    **{
                        column: getattr(employee, column)
                        for column in models.table_of(models.Employee).c.keys()  # noqa: SIM118 - names, not columns
                        if column not in skipped
                    },
                    "manager": email.get(employee.manager or ""),
                    "detached": employee.detached_at is not None,
                }
                for employee in employees
            }
            linked = sorted(
                (link.remote_id, email.get(link.employee_id), link.active, link.detach_reason) for link in links
            )
            lifecycle: Counter[tuple[str, str]] = Counter()
            for found in events:
                if found.type.startswith(("employee.", "onboarding.", "offboarding.")):
                    data = {key: value for key, value in found.data.items() if key not in ("employee_id", "run_id")}
                    data = _by_email(data, email)
                    lifecycle[(found.type, orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode())] += 1
        return {"employees": people, "links": linked, "events": lifecycle}

    # -- reading back

    def run(self, run_id: str) -> models.SyncRun:
        with self.db.session() as session:
            found = session.get(models.SyncRun, run_id)
            assert found is not None
            return found

    def runs(self, *, status: str | None = None) -> list[models.SyncRun]:
        with self.db.session() as session:
            query = select(models.SyncRun).where(models.SyncRun.connection_id == self.connection_id)
            if status is not None:
                query = query.where(models.SyncRun.status == status)
            return list(session.execute(query.order_by(models.SyncRun.started_at)).scalars())

    def connection(self) -> models.Connection:
        with self.db.session() as session:
            found = session.get(models.Connection, self.connection_id)
            assert found is not None
            return found

    def issues(self, run_id: str) -> list[models.RunIssue]:
        with self.db.session() as session:
            return list(session.execute(select(models.RunIssue).where(models.RunIssue.run_id == run_id)).scalars())

    def events(self, event_type: str | None = None) -> list[models.OutboxEvent]:
        with self.db.session() as session:
            query = select(models.OutboxEvent).where(models.OutboxEvent.account_id == self.account_id)
            if event_type is not None:
                query = query.where(models.OutboxEvent.type == event_type)
            return list(session.execute(query).scalars())


def _by_email(value: Any, email: dict[str, str | None]) -> Any:
    """Employee ids (a manager in an event's fields) named by work email, which both accounts share."""
    if isinstance(value, dict):
        return {key: _by_email(item, email) for key, item in value.items()}
    if isinstance(value, list):
        return [_by_email(item, email) for item in value]
    if isinstance(value, str) and value in email:
        return email[value]
    return value


def changed_world(world: World, at: dt.datetime) -> None:
    """A day's worth of HR changes, so that a failed run has something it must not half-apply: renames,
    a termination, a hire and three deletions."""
    world.state.clock.set(at)
    people = world.people()
    for index in range(4):
        world.integration.change(people[index].id, job_title="Changed", last_name=f"Changed{index}")
    world.integration.terminate(people[5].id, (at + dt.timedelta(days=30)).date())
    world.integration.hire(first_name="Nora", last_name="Neuer", start_date=(at + dt.timedelta(days=10)).date())
    world.integration.mass_delete(count=3, seed=1)


def assert_failed_in_plain_words(world: World, outcome: SyncOutcome, *, contains: str, status: str = "failing") -> None:
    assert outcome.status == "failed", outcome
    message = outcome.error or ""
    assert contains in message, message
    assert "Traceback" not in message and API_KEY not in message
    connection = world.connection()
    assert connection.status == status and connection.status_message == message


def recovers(world: World, twin: World, **options: Any) -> SyncOutcome:
    """The faulted run at LATER succeeds and leaves the same directory as the twin's clean run."""
    world.state.log.clear()
    options["connector"] = {"retry": PATIENT} | options.get("connector", {})
    outcome = world.sync(at=LATER, full=True, **options)
    assert outcome.status == "succeeded", outcome.error
    assert world.view() == twin.view()
    return outcome


def fails_unchanged(world: World, contains: str, *, status: str = "failing", **options: Any) -> SyncOutcome:
    """The faulted run at LATER fails in plain words and the directory stays exactly as it was."""
    before = world.snapshot()
    world.state.log.clear()
    outcome = world.sync(at=LATER, full=True, **options)
    assert_failed_in_plain_words(world, outcome, contains=contains, status=status)
    assert_only_bookkeeping(before, world.snapshot(), outcome.run_id)
    return outcome


@contextlib.contextmanager
def held_open() -> Iterator[threading.Event]:
    """An Event a blocked helper waits on; set on the way out whatever happens, so no thread outlives a test."""
    release = threading.Event()
    try:
        yield release
    finally:
        release.set()
