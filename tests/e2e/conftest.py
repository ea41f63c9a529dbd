"""Browser tests: the real application served on 127.0.0.1, driven by Playwright in Debian's Chromium.

Each test gets a fresh SQLite directory with two accounts: Acme (an admin, a viewer, and a hand-fed source
"Personio DE" already synced) and Globex (to prove Acme's pages never show Globex's people). Screenshots
of the pages land in tests/e2e/screenshots/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from web_harness import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, WebWorld, acme_people, make_account, sign_in

from staffsync.api.app import create_app
from staffsync.api.deps import WebhookConfig
from staffsync.connectors.base import HRConnector
from staffsync.connectors.registry import build_connector
from staffsync.crypto import CredentialCipher
from staffsync.settings import Settings
from staffsync.simulators.kombo import serving_in_thread
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.storage.models import Base
from staffsync.sync.engine import utc_now

# Receivers in tests listen on 127.0.0.1, which production refuses (SSRF): allowed here.
# Assertions wait as long as page loads may take on a busy CI machine.
expect.set_options(timeout=15_000)

TEST_WEBHOOKS = WebhookConfig(CredentialCipher(MultiFernet([Fernet(Fernet.generate_key())])), allow_private=True)


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'staffsync.db'}"
    Database(url).upgrade()
    return url


@pytest.fixture
def e2e_db(e2e_database_url: str) -> Iterator[Database]:
    database = Database(e2e_database_url)
    yield database
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()


@pytest.fixture
def world(e2e_db: Database) -> Iterator[WebWorld]:
    account_id, admin, viewer = make_account(e2e_db, "Acme")
    other_account_id, other_admin, _ = make_account(e2e_db, "Globex")
    source = acme_people()
    with e2e_db.transaction() as session:
        connection_id = connections.create_connection(
            session, account_id, name="Personio DE", provider="test", now=utc_now()
        ).id

    def connector_for(connection: models.Connection, timezone: str) -> HRConnector:
        if connection.provider == "test":
            return source
        return build_connector(connection, settings=Settings(_env_file=None), timezone=timezone)

    app = create_app(e2e_db, connector_for=connector_for, webhook_config=TEST_WEBHOOKS)
    context = app.state.api
    with serving_in_thread(app) as base_url:
        world = WebWorld(
            e2e_db, base_url, account_id, admin, viewer, connection_id, source, other_account_id, other_admin, context
        )
        outcome = world.sync()
        assert outcome.status == "succeeded", outcome
        yield world
        # A sync started from the UI must not outlive the test's database.
        context.join_syncs(timeout=60)


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread while it is
# open, and later tests that run asyncio themselves (the procrastinate tasks) must not find one.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `apt-get install -y chromium` (.ci/run does this)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def browser_context(browser: Browser, world: WebWorld) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=world.base_url, viewport={"width": 1360, "height": 900})
    # Generous: CI machines are small and busy; a wait that ends early costs nothing.
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    return browser_context.new_page()


@pytest.fixture
def admin_page(page: Page, world: WebWorld) -> Page:
    """A page signed in as Acme's admin."""
    sign_in(page, world.admin)
    return page


@pytest.fixture
def viewer_page(page: Page, world: WebWorld) -> Page:
    sign_in(page, world.viewer)
    return page


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    # With pytest-xdist every worker runs this; only the first clears the folder, as its e2e tests come later.
    first_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0"
    if first_worker and SCREENSHOTS.exists() and not os.environ.get("STAFFSYNC_KEEP_SCREENSHOTS"):
        shutil.rmtree(SCREENSHOTS)
