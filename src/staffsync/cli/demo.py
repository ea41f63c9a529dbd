"""`staffsync demo`: everything local, no configuration.

A simulated Kombo with a realistic company starts in-process; a demo account and admin are created;
the Kombo integration is connected through the real connect round trip; the first sync runs; then the
web server answers and the connection keeps syncing on its schedule until Ctrl-C. Run again on the same
data dir, it finds its account and integration again (`demo.json`), so an unchanged source changes nothing.

Signing in needs no typing: the demo opens the browser on a single-use sign-in link of the demo admin (or,
with `--no-browser`, prints it). The admin's password is printed once, when the account is created; a later
run only knows its hash, so the link is the way in then.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import typer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from staffsync.cli.output import CliError, JsonOption, emit_json, fields_table, note, print_table
from staffsync.cli.runtime import actor, load_settings, now, open_database
from staffsync.cli.sync import outcome_document, progress_bar, report_outcome
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import build_connector
from staffsync.services.directory import list_employees
from staffsync.storage import accounts, models, web_sessions
from staffsync.storage import connections as connection_store
from staffsync.storage.db import Database
from staffsync.storage.directory import DirectoryView, count_run_issues
from staffsync.sync.engine import RunStatus, SyncOutcome, run_sync

DEMO_ACCOUNT = "Acme demo"
DEMO_ADMIN = "admin@acme-demo.example"
DEMO_SOURCE = "Personio (via Kombo, simulated)"
DEMO_TOOL = "personio"


@dataclass(frozen=True, slots=True)
class DemoKombo:
    """The installation settings a Kombo connector reads, pointed at the in-process simulator."""

    kombo_api_key: SecretStr
    kombo_base_url: str


def demo_command(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port of the web server (0: any free).")] = 8000,
    employees: Annotated[
        int, typer.Option("--employees", min=1, max=200_000, help="How many people the simulated HR system holds.")
    ] = 300,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the simulated company.")] = 42,
    once: Annotated[bool, typer.Option("--once", help="Sync once and exit instead of serving.")] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the sign-in link instead of opening it in a browser.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Everything local: a simulated Kombo, a demo account, the connect round trip, the first sync, the server."""
    # Imported here: the web stack and the simulator take a while to import, other commands never need them.
    from staffsync.api.app import create_app
    from staffsync.connectors.kombo.connect import KomboConnectClient
    from staffsync.scheduler import EmbeddedScheduler
    from staffsync.simulators.kombo import SimulatorState, create_kombo_simulator, serving_in_thread

    settings = load_settings()
    memory = DemoMemory(settings.data_dir / "demo.json")
    simulator = SimulatorState(api_keys={memory.api_key})
    simulator.settings.default_size = employees
    simulator.settings.default_tool = DEMO_TOOL
    if memory.integration is not None:
        simulator.create_integration(tool=DEMO_TOOL, **memory.integration)
    with open_database() as db, serving_in_thread(create_kombo_simulator(simulator)) as kombo_base:
        kombo = DemoKombo(SecretStr(memory.api_key), kombo_base + "/v1")
        connect_client = KomboConnectClient(kombo.kombo_api_key, server_url=kombo.kombo_base_url)
        app = create_app(db, kombo_connect=lambda: connect_client)
        with serving_in_thread(app, port=0 if once else port) as web_base:
            credentials, account_id = _demo_account(db)
            connection_id = _demo_connection(db, account_id, connect_client, web_base)
            if memory.integration is None:
                memory.remember(simulator, db, connection_id)

            def connector_for(connection: models.Connection) -> HRConnector:
                return build_connector(connection, settings=kombo, timezone="Europe/Berlin")

            with _stop_on_interrupt() as stop:
                outcome = _first_sync(db, account_id, connection_id, connector_for)
                # With --once the server stops on return: the links then point where `staffsync serve` would answer.
                ui_base = f"http://127.0.0.1:{port or 8000}" if once else web_base
                sign_in = _sign_in(db, account_id, ui_base)
                _report(db, account_id, connection_id, outcome, credentials, sign_in, ui_base, json_output=json_output)
                if outcome.status == RunStatus.FAILED:
                    raise CliError(f"the demo sync failed: {outcome.error}")
                if once:
                    note(f"--once: the server stopped; `staffsync serve --port {port or 8000}` serves these data.")
                if once or stop.is_set():
                    return
                scheduler = EmbeddedScheduler(db, connector_for, metrics=app.state.api.metrics)
                scheduler.start()
                note(f"Serving on {web_base} (health: {web_base}/healthz); syncing every hour. Ctrl-C stops.")
                if not no_browser and sign_in.link is not None:
                    _open_in_browser(sign_in.link)
                stop.wait()
                note("Stopping.")
                scheduler.stop()


@contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """Ctrl-C sets an event instead of raising wherever the main thread happens to be: a sync in progress
    finishes (its transaction is all or nothing anyway) and the demo then stops cleanly."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


class DemoMemory:
    """What a later `demo` needs to find the same simulated integration: its API key, id, size and seed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        self.api_key: str = stored.get("api_key") or "sim_" + secrets.token_urlsafe(24)
        self.integration: dict[str, Any] | None = stored.get("integration")
        if not path.exists():
            self._write()

    def remember(self, simulator: Any, db: Database, connection_id: str) -> None:
        with db.session() as session:
            connection = session.get(models.Connection, connection_id)
            assert connection is not None
            integration = simulator.integration(connection.config["integration_id"])
        self.integration = {"integration_id": integration.id, "size": integration.size, "seed": integration.seed}
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The simulator's API key is the demo's only secret: the same owner-only mode as the secret key.
        self.path.touch(mode=0o600, exist_ok=True)
        self.path.write_text(json.dumps({"api_key": self.api_key, "integration": self.integration}, indent=2))


def _demo_account(db: Database) -> tuple[dict[str, str], str]:
    with db.transaction() as session:
        account = (
            session.execute(
                select(models.Account).where(models.Account.name == DEMO_ACCOUNT).order_by(models.Account.created_at)
            )
            .scalars()
            .first()
        )
        if account is not None:
            return {}, account.id
        moment = now()
        account = accounts.create_account(session, DEMO_ACCOUNT, timezone="Europe/Berlin", now=moment)
        admin, password = accounts.create_admin(session, account.id, DEMO_ADMIN, role="admin", now=moment)
        _, token = accounts.create_token(session, account.id, "demo", role="admin", now=moment)
        return {"admin_email": admin.email, "admin_password": password, "api_token": token}, account.id


def _demo_connection(db: Database, account_id: str, connect_client: Any, web_base: str) -> str:
    """The account's Kombo connection, made through the same round trip an admin goes through."""
    from staffsync.services.connect import start_kombo_connect
    from staffsync.simulators.kombo.admin import complete_connect_page

    with db.session() as session:
        existing = _kombo_connection(session, account_id)
        if existing is not None:
            return existing.id
    with db.transaction() as session:
        started = start_kombo_connect(
            session,
            connect_client,
            account_id=account_id,
            tool=DEMO_TOOL,
            name=DEMO_SOURCE,
            admin_email=DEMO_ADMIN,
            actor=actor(),
            now=now(),
        )
    landed = complete_connect_page(started.link, redirect_url=web_base + "/connect/kombo/callback")
    if landed.status_code != 200:
        raise CliError(f"the simulated Kombo connect flow failed: HTTP {landed.status_code}")
    with db.session() as session:
        connection = _kombo_connection(session, account_id)
        if connection is None:
            raise CliError("the simulated Kombo connect flow did not create a connection")
        return connection.id


def _kombo_connection(session: Session, account_id: str) -> models.Connection | None:
    return next((c for c in connection_store.list_connections(session, account_id) if c.provider == "kombo"), None)


@dataclass(frozen=True, slots=True)
class SignIn:
    """How the person at the terminal gets into the web UI: the demo admin's email and a single-use link."""

    admin_email: str
    link: str | None


def _sign_in(db: Database, account_id: str, web_base: str) -> SignIn:
    with db.transaction() as session:
        admin = session.execute(
            select(models.AdminUser).where(
                models.AdminUser.account_id == account_id, models.AdminUser.email == DEMO_ADMIN
            )
        ).scalar_one_or_none()
        if admin is None:  # removed by hand since the demo created it: there is nobody to sign in as
            return SignIn(DEMO_ADMIN, None)
        secret = web_sessions.create_sign_in_link(session, admin, now=now())
    return SignIn(admin.email, f"{web_base}/login/link?{urlencode({'token': secret})}")


def _open_in_browser(url: str) -> None:
    if not _has_graphical_browser():
        note("No graphical browser here: open the sign-in link above in yours.")
        return
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        note("Could not open a browser: open the sign-in link above in yours.")


def _has_graphical_browser() -> bool:
    """Without a display, `webbrowser` falls back to text browsers (lynx, w3m) that would take over this terminal
    and block the demo until they exit: on such a machine the printed link is the better answer."""
    if sys.platform in ("darwin", "win32") or os.environ.get("BROWSER"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _first_sync(db: Database, account_id: str, connection_id: str, connector_for: Any) -> SyncOutcome:
    with db.session() as session:
        connection = session.get(models.Connection, connection_id)
        assert connection is not None
        connector = connector_for(connection)
    with progress_bar(f"Syncing {DEMO_SOURCE}") as advance:
        return run_sync(db, connection_id, account_id=account_id, connector=connector, trigger="demo", progress=advance)


def _report(
    db: Database,
    account_id: str,
    connection_id: str,
    outcome: SyncOutcome,
    credentials: dict[str, str],
    sign_in: SignIn,
    web_base: str,
    *,
    json_output: bool,
) -> None:
    with db.session() as session:
        issues = count_run_issues(session, account_id, outcome.run_id)
        account = session.get(models.Account, account_id)
        assert account is not None
        views = {
            view.value: list_employees(session, account, view=view, now=now(), limit=0).page.total
            for view in DirectoryView
        }
    if json_output:
        emit_json(
            {
                "account_id": account_id,
                "connection_id": connection_id,
                "url": web_base,
                **credentials,
                "admin_email": sign_in.admin_email,
                "sign_in_link": sign_in.link,
                "run": outcome_document(outcome, connection_id=connection_id, issues=issues),
                "directory": views,
            }
        )
        return
    if credentials:
        rows = [("Account", account_id), ("API token", credentials["api_token"])]
        print_table(fields_table(rows, title="Demo account (the token is shown once: keep it)"))
    report_outcome(outcome, connection_id=connection_id, issues=issues, json_output=False)
    print_table(fields_table([(name.capitalize(), total) for name, total in views.items()], title="Directory"))
    note(
        f"Explore: `staffsync employees list --account {account_id} --view onboardings`, "
        f"`staffsync connections show {connection_id}`. The demo's Kombo settings live only in this process."
    )
    password = credentials.get("admin_password") or "shown once, when the demo account was created: use the link"
    print_table(
        fields_table([("Web UI", web_base), ("Admin", sign_in.admin_email), ("Password", password)], title="Sign in")
    )
    if sign_in.link is not None:
        minutes = int(web_sessions.SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
        # On a line of its own, never folded by a table: terminals make it clickable only whole.
        typer.echo(f"Sign-in link (works once, for {minutes} minutes):\n{sign_in.link}")
