"""The directory's lists in a real browser: Employees, Onboardings, Offboardings, Detached."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot

from fakes import person
from staffsync.domain.fields import FieldSetting, FieldSettings, SyncMode
from staffsync.storage import connections, models
from staffsync.sync.engine import utc_now


def results(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#directory-results")


def row_of(page: Page, name: str):  # type: ignore[no-untyped-def]
    return results(page).get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_employees_lists_everyone_with_their_team_entity_and_source(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/employees")
    expect(page.get_by_role("heading", name="Employees", exact=True)).to_be_visible()
    expect(results(page).get_by_role("heading", name="12 people")).to_be_visible()
    carla = row_of(page, "Carla Contractor")
    expect(carla).to_contain_text("person3@acme.test")
    expect(carla).to_contain_text("Engineering")
    expect(carla).to_contain_text("Acme GmbH")
    expect(carla).to_contain_text("Personio DE")
    expect(results(page)).to_contain_text("Showing all 12")
    screenshot(page, "employees")


def test_hiding_someone_removes_them_from_employees_and_include_hidden_brings_them_back(
    admin_page: Page, world: WebWorld
) -> None:
    page = admin_page
    page.goto(f"/employees/{world.employee_id('person2@acme.test')}")
    page.get_by_role("button", name="Hide", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Leo Leaver is hidden")
    expect(page.get_by_role("button", name="Unhide")).to_be_visible()

    page.get_by_role("link", name="Employees", exact=True).first.click()
    expect(results(page).get_by_role("heading", name="11 people")).to_be_visible()
    expect(row_of(page, "Leo Leaver")).to_have_count(0)

    page.get_by_label("Include hidden").check()
    expect(results(page).get_by_role("heading", name="12 people")).to_be_visible()
    expect(row_of(page, "Leo Leaver").get_by_text("Hidden", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"include_hidden=true"))
    page.reload()
    expect(row_of(page, "Leo Leaver")).to_be_visible()
    expect(page.get_by_label("Include hidden")).to_be_checked()


def test_search_by_last_name_narrows_the_list_as_you_type(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/employees")
    page.get_by_label("Search").fill("leav")
    expect(results(page).get_by_role("heading", name="1 match")).to_be_visible()
    expect(row_of(page, "Leo Leaver")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=leav"))
    screenshot(page, "employees-search")

    page.get_by_label("Search").fill("Nobody-by-this-name")
    expect(results(page).get_by_role("heading", name="No one matches “Nobody-by-this-name”")).to_be_visible()
    results(page).get_by_role("link", name="Clear search and filters").click()
    expect(results(page).get_by_role("heading", name="12 people")).to_be_visible()


def test_search_works_as_a_plain_form_too(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/employees?q=contractor")
    expect(results(page).get_by_role("heading", name="1 match")).to_be_visible()
    expect(row_of(page, "Carla Contractor")).to_be_visible()
    expect(page.get_by_label("Search")).to_have_value("contractor")


def test_filters_offer_the_accounts_own_teams_entities_and_types(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/employees")
    expect(page.get_by_label("Team").locator("option")).to_have_text(
        ["All teams", "Engineering", "Operations", "Sales"]
    )
    page.get_by_label("Employment type").select_option("contractor")
    expect(results(page).get_by_role("heading", name="1 match")).to_be_visible()
    expect(row_of(page, "Carla Contractor")).to_be_visible()

    page.get_by_label("Employment type").select_option("")
    page.get_by_label("Team").select_option("Sales")
    page.get_by_label("Legal entity").select_option("Acme SAS")
    # Sales is n % 3 == 1 and Acme SAS is even n: persons 4 and 10.
    expect(results(page).get_by_role("heading", name="2 matches")).to_be_visible()
    expect(results(page).locator("tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/employees\?team=Sales&legal_entity=Acme\+SAS$"))


def test_pages_follow_one_another_until_everyone_was_shown_once(admin_page: Page, world: WebWorld) -> None:
    world.source.records.extend(person(n, last_name=f"Many{n:03d}") for n in range(13, 121))
    assert world.sync().status == "succeeded"
    page = admin_page
    page.goto("/employees?limit=25")
    expect(results(page).get_by_role("heading", name="120 people")).to_be_visible()
    seen: list[str] = []
    for _ in range(10):
        emails = results(page).locator("tbody .person .sub").all_inner_texts()
        assert 0 < len(emails) <= 25
        seen.extend(emails)
        following = results(page).get_by_role("link", name="Next page →")
        if following.count() == 0:
            break
        following.click()
        expect(results(page)).to_contain_text(f"Showing {len(seen) + 1}\u2013")
    assert len(seen) == 120
    assert sorted(seen) == sorted(f"person{n}@acme.test" for n in range(1, 121))
    expect(results(page).get_by_role("link", name="← First page")).to_be_visible()


def test_onboardings_list_future_starters_and_ignoring_one_hides_them(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/onboardings")
    nina = row_of(page, "Nina Newcomer")
    expect(nina).to_contain_text(re.compile(r"Starts in [\d,]+ days"))
    expect(nina).to_contain_text("04 Jan 2099")
    screenshot(page, "onboardings")

    nina.get_by_role("button", name="Ignore the onboarding of Nina Newcomer").click()
    expect(page.get_by_role("status")).to_contain_text("Nina Newcomer's onboarding is ignored")
    expect(row_of(page, "Nina Newcomer")).to_have_count(0)
    expect(results(page).get_by_role("heading", name="No upcoming onboardings")).to_be_visible()
    with world.db.transaction() as session:
        nina_row = session.get(models.Employee, world.employee_id("person1@acme.test"))
        assert nina_row is not None and nina_row.hidden and nina_row.onboarding_ignored

    page.goto("/employees")
    expect(row_of(page, "Nina Newcomer")).to_have_count(0)


def test_a_viewer_sees_onboardings_but_cannot_ignore_them(viewer_page: Page, world: WebWorld) -> None:
    page = viewer_page
    page.goto("/onboardings")
    expect(row_of(page, "Nina Newcomer").get_by_role("button", name=re.compile("Ignore"))).to_be_disabled()


def test_offboardings_list_leo_leaver_with_his_last_day(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/offboardings")
    leo = row_of(page, "Leo Leaver")
    expect(leo).to_contain_text("30 Jun 2099")
    expect(leo).to_contain_text(re.compile(r"Leaves in [\d,]+ days"))
    expect(page.locator(".diagnostic")).to_have_count(0)
    expect(results(page).locator("tbody tr")).to_have_count(1)
    screenshot(page, "offboardings")


def test_offboardings_explain_why_departures_are_missing_when_the_end_date_is_import_once(
    admin_page: Page, world: WebWorld
) -> None:
    with world.db.transaction() as session:
        connection = connections.get_connection(session, world.account_id, world.connection_id)
        assert connection is not None
        settings = FieldSettings(
            {**FieldSettings.defaults().settings, "end_date": FieldSetting(True, SyncMode.IMPORT_ONCE)}
        )
        connections.save_field_settings(session, connection, settings, now=utc_now())
    page = admin_page
    page.goto("/offboardings")
    callout = page.get_by_role("alert").filter(has_text="Departures from Personio DE are not listed")
    expect(callout).to_contain_text("End date is not continuously synchronised")
    expect(callout).to_contain_text("1 person from Personio DE has an end date in this window but is left out")
    fix = callout.get_by_role("link", name="Fix the End date setting of Personio DE")
    expect(fix).to_have_attribute("href", f"/settings/employee-sync/{world.connection_id}")
    expect(row_of(page, "Leo Leaver")).to_have_count(0)
    screenshot(page, "offboardings-diagnostic")


def test_detached_lists_people_no_source_returns_with_the_reason_and_date(admin_page: Page, world: WebWorld) -> None:
    world.source.remove("r5")
    assert world.sync().status == "succeeded"
    page = admin_page
    page.goto("/detached")
    expect(page.get_by_text("What detached means.")).to_be_visible()
    gone = row_of(page, "First5 Last5")
    expect(gone).to_be_visible()
    expect(gone).to_contain_text(utc_now().astimezone(ZoneInfo("Europe/Berlin")).strftime("%d %b %Y"))
    expect(gone.locator(".sub").last).not_to_be_empty()
    expect(results(page).locator("tbody tr")).to_have_count(1)
    screenshot(page, "detached")

    page.goto("/employees")
    expect(row_of(page, "First5 Last5")).to_have_count(0)
