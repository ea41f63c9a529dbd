"""Settings → Employee Sync in a real browser: the first connection, from sign-in to the first sync, through
the Kombo simulator's hosted connect page; and the filtering preview's search."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from kombo_world import KomboWorld, kombo_world
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from web_harness import WebWorld, screenshot, sign_in

from staffsync.domain.filters import FilterRules
from staffsync.simulators.people import Person
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now


@pytest.fixture
def kombo(e2e_db: Database) -> Iterator[KomboWorld]:
    with kombo_world(e2e_db) as world:
        yield world


@pytest.fixture
def kombo_page(browser: Browser, kombo: KomboWorld) -> Iterator[Page]:
    context = browser.new_context(base_url=kombo.base_url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _outside(people: list[Person], entity_id: str) -> Person:
    """Someone of another legal entity whose last name no one else has: a search finds exactly them."""
    counts: dict[str, int] = {}
    for person in people:
        counts[person.last_name or ""] = counts.get(person.last_name or "", 0) + 1
    return next(
        p
        for p in people
        if p.legal_entity_id not in (None, entity_id) and p.work_email and p.last_name and counts[p.last_name] == 1
    )


def test_the_first_connection_goes_from_sign_in_to_the_first_sync(kombo_page: Page, kombo: KomboWorld) -> None:
    page = kombo_page
    sign_in(page, kombo.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Employee Sync").click()
    expect(page.get_by_role("heading", name="Connect your HR system")).to_be_visible()
    screenshot(page, "employee-sync-empty")

    # Provider
    page.get_by_role("link", name="Add source").click()
    expect(page.get_by_role("navigation", name="Setup steps")).to_contain_text("Provider")
    page.get_by_role("radio", name="Personio").check()
    page.get_by_label("Source name").fill("Personio DE")
    screenshot(page, "wizard-provider")
    page.get_by_role("button", name="Continue").click()

    # Authenticate, through Kombo's hosted page
    expect(page.get_by_role("heading", name="Authorise Personio at Kombo")).to_be_visible()
    screenshot(page, "wizard-authenticate")
    page.get_by_role("link", name="Continue to Kombo").click()
    expect(page).to_have_title(re.compile("Kombo Connect"))
    page.get_by_role("button", name="Connect").click()

    # Select data
    expect(page).to_have_url(re.compile(r"/settings/employee-sync/[^/]+/setup/fields$"))
    expect(page.get_by_role("status").filter(has_text="Personio DE is connected")).to_be_visible()
    expect(page.get_by_role("checkbox", name="First name is synced")).to_be_disabled()
    personal_phone = page.get_by_role("checkbox", name="Sync Personal phone")
    expect(personal_phone).to_be_checked()
    personal_phone.uncheck()
    warning = page.get_by_text("Offboardings need a continuously synchronised end date")
    expect(warning).to_be_hidden()
    page.get_by_label("End date sync mode").select_option("import_once")
    expect(warning).to_be_visible()
    screenshot(page, "wizard-fields")
    page.get_by_label("End date sync mode").select_option("continuous")
    expect(warning).to_be_hidden()
    page.get_by_label("Job title sync mode").select_option("continuous")
    page.get_by_role("button", name="Save and continue").click()

    # Filters, from the source's own values
    expect(page).to_have_url(re.compile(r"/setup/filters$"))
    expect(page.get_by_role("status").filter(has_text="Data selection saved")).to_be_visible()
    integration = kombo.integration()
    population = integration.population
    germany = next(entity for entity in population.legal_entities if entity.name == "Acme GmbH")
    outsider = _outside(list(population), germany.id)
    outsider_entity = population.legal_entity(outsider.legal_entity_id or "").name
    page.get_by_role("group", name="Legal entities").get_by_label("Acme GmbH").check()
    screenshot(page, "wizard-filters")
    page.get_by_role("button", name="Save and preview").click()

    # Preview: search by last name finds the excluded person, with the reason
    expect(page).to_have_url(re.compile(r"/preview\?setup=1$"))
    included = int(page.locator("[data-count=included]").inner_text())
    excluded = int(page.locator("[data-count=excluded]").inner_text())
    assert included > 0 and excluded > 0
    assert included + excluded == int(page.locator("[data-count=total]").inner_text())
    page.get_by_label("Search by last name").fill(outsider.last_name or "")
    row = page.get_by_role("row").filter(has_text=f"{outsider.first_name} {outsider.last_name}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Excluded")
    expect(row).to_contain_text(f"Excluded by the legal entity filter: '{outsider_entity}' is not selected")
    expect(page).to_have_url(re.compile(r"q="))
    screenshot(page, "wizard-preview")
    page.get_by_role("link", name="Continue").click()

    # Launch
    expect(page.get_by_role("heading", name="Ready to launch")).to_be_visible()
    screenshot(page, "wizard-launch")
    page.get_by_role("button", name="Launch first sync").click()
    expect(page.get_by_role("heading", name="First sync complete")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-count=created]")).to_have_text(str(included))
    expect(page.locator("[data-count=excluded]")).to_have_text(str(excluded))
    screenshot(page, "wizard-launch-done")

    # The list shows the source, synced
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Employee Sync").click()
    card = page.get_by_role("article", name="Personio DE")
    expect(card).to_contain_text("Active")
    expect(card).to_contain_text(f"{included} created")
    screenshot(page, "employee-sync-list")
    # Sync now from the list: the card follows the run live, without a reload, to its result.
    card.get_by_role("button", name="Sync now").click()
    expect(card).to_contain_text("0 created · 0 updated", timeout=30_000)
    expect(page).to_have_url(re.compile(r"/settings/employee-sync$"))

    # Employees holds the included people only
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Employees").click()
    with kombo.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        phones = session.scalar(select(func.count()).where(models.Employee.personal_phone.is_not(None))) or 0
    assert stored == included and phones == 0
    page.goto(f"/employees?q={outsider.last_name}")
    expect(page.get_by_text(outsider.work_email or "")).to_have_count(0)
    insider = next(p for p in population if p.legal_entity_id == germany.id and p.work_email and p.last_name)
    page.goto(f"/employees?q={insider.last_name}")
    expect(page.get_by_text(insider.work_email or "")).to_be_visible()


def test_preview_search_by_last_name_finds_an_excluded_person_with_the_reason(
    admin_page: Page, world: WebWorld
) -> None:
    with world.db.transaction() as session:
        connection = connections.get_connection(session, world.account_id, world.connection_id)
        assert connection is not None
        connections.save_filters(session, connection, FilterRules(legal_entities=frozenset({"le-de"})), now=utc_now())
    page = admin_page
    page.goto(f"/settings/employee-sync/{world.connection_id}/preview")
    expect(page.get_by_role("heading", name="Preview: Personio DE")).to_be_visible()
    # Leo Leaver works for Acme SAS, outside the selected entity; Nina Newcomer for Acme GmbH.
    page.get_by_label("Search by last name").fill("leav")
    results = page.locator("#preview-results")
    expect(results.get_by_role("row")).to_have_count(2)
    leo = results.get_by_role("row").filter(has_text="Leo Leaver")
    expect(leo).to_contain_text("Excluded")
    expect(leo).to_contain_text("Excluded by the legal entity filter: 'Acme SAS' is not selected")
    page.get_by_label("Search by last name").fill("newcomer")
    nina = results.get_by_role("row").filter(has_text="Nina Newcomer")
    expect(nina).to_contain_text("Included")
    page.get_by_label("Status").select_option("excluded")
    expect(results).to_contain_text("No one matches")


def test_an_expired_connect_link_ends_on_a_clear_error_with_start_again(kombo_page: Page, kombo: KomboWorld) -> None:
    page = kombo_page
    sign_in(page, kombo.admin)
    page.goto("/settings/employee-sync/new")
    page.get_by_role("radio", name="HiBob").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Continue to Kombo").click()
    # The admin took more than the link's hour at Kombo.
    with kombo.db.transaction() as session:
        for request in session.execute(select(models.ConnectRequest)).scalars():
            request.expires_at = utc_now() - dt.timedelta(minutes=1)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", name="The connection could not be completed")).to_be_visible()
    expect(page.get_by_text("The connect link has expired (after one hour)")).to_be_visible()
    screenshot(page, "wizard-connect-failed")
    page.get_by_role("link", name="Start again").click()
    expect(page.get_by_role("heading", name="Which HR system do you use?")).to_be_visible()
    with kombo.db.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Connection)) == 0
