"""An employee's profile in a real browser: provenance, locks, hand edits, history, and who may change what."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot

from staffsync.storage import models


def field_row(page: Page, field: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#field-{field}")


def job_title_of(world: WebWorld, email: str) -> str | None:
    with world.db.transaction() as session:
        employee = session.get(models.Employee, world.employee_id(email))
        assert employee is not None
        return employee.job_title


def test_a_continuous_field_is_read_only_with_its_reason(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto(f"/employees/{world.employee_id('person2@acme.test')}")
    expect(page.get_by_role("heading", name="Leo Leaver", level=1)).to_be_visible()
    end_date = field_row(page, "end_date")
    expect(end_date).to_contain_text("30 Jun 2099")
    expect(end_date).to_contain_text("Continuous")
    expect(end_date).to_contain_text(
        "Read-only. End date is managed by HR sync of Personio DE (continuous synchronisation): "
        "change it in the HR system"
    )
    expect(end_date.get_by_text(re.compile("^Edit"))).to_have_count(0)
    expect(end_date).to_contain_text(re.compile(r"by Sync of Personio DE"))
    job_title = field_row(page, "job_title")
    expect(job_title).to_contain_text("Import once")
    expect(job_title.get_by_text("Edit Job title")).to_be_visible()
    expect(page.get_by_text("Offboarding · last day 30 Jun 2099")).to_be_visible()
    screenshot(page, "profile")


def test_editing_an_import_once_field_saves_it_and_records_the_admin_in_history(
    admin_page: Page, world: WebWorld
) -> None:
    page = admin_page
    page.goto(f"/employees/{world.employee_id('person4@acme.test')}")
    row = field_row(page, "job_title")
    row.get_by_text("Edit Job title").click()
    row.get_by_label("Job title", exact=True).fill("Staff Engineer")
    row.get_by_role("button", name="Save job title").click()

    expect(page.get_by_role("status")).to_contain_text("Job title of First4 Last4 saved: Engineer → Staff Engineer")
    row = field_row(page, "job_title")
    expect(row).to_contain_text("Staff Engineer")
    expect(row).to_contain_text("Edited by hand")
    expect(row).to_contain_text("by admin@acme.test")
    latest = page.locator("table.history tbody tr").first
    expect(latest).to_contain_text("admin@acme.test")
    expect(latest).to_contain_text("Edited by hand")
    expect(latest).to_contain_text("Job title")
    expect(latest.locator(".diff-old")).to_have_text("Engineer")
    expect(latest.locator(".diff-new")).to_have_text("Staff Engineer")
    assert job_title_of(world, "person4@acme.test") == "Staff Engineer"

    # Import once: the next sync leaves the admin's value alone.
    assert world.sync().status == "succeeded"
    page.reload()
    expect(field_row(page, "job_title")).to_contain_text("Staff Engineer")


def test_an_invalid_value_is_shown_next_to_the_field_and_nothing_is_saved(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto(f"/employees/{world.employee_id('person4@acme.test')}")
    row = field_row(page, "personal_email")
    row.get_by_text("Edit Personal email").click()
    row.get_by_label("Personal email", exact=True).fill("not an address")
    row.get_by_role("button", name="Save personal email").click()

    row = field_row(page, "personal_email")
    expect(row.get_by_role("alert")).to_have_text("“not an address” is not an email address")
    expect(row.get_by_label("Personal email", exact=True)).to_have_value("not an address")
    expect(row).to_contain_text("private4@mail.test")
    screenshot(page, "profile-edit-error")
    with world.db.transaction() as session:
        employee = session.get(models.Employee, world.employee_id("person4@acme.test"))
        assert employee is not None and employee.personal_email == "private4@mail.test"


def test_a_viewer_sees_no_edit_controls_and_a_forced_post_is_refused(viewer_page: Page, world: WebWorld) -> None:
    page = viewer_page
    employee_id = world.employee_id("person4@acme.test")
    page.goto(f"/employees/{employee_id}")
    expect(page.get_by_role("heading", name="First4 Last4", level=1)).to_be_visible()
    expect(page.locator(".field-edit")).to_have_count(0)
    expect(page.locator("form[action*='/fields/']")).to_have_count(0)
    expect(page.get_by_role("button", name="Hide", exact=True)).to_be_disabled()

    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    response = page.request.post(
        f"/employees/{employee_id}/fields/job_title", form={"csrf_token": token, "value": "Forced"}
    )
    assert response.status == 403
    assert "Read-only access" in response.text()
    refused = page.request.post(f"/employees/{employee_id}/hide", form={"csrf_token": token})
    assert refused.status == 403
    assert job_title_of(world, "person4@acme.test") == "Engineer"


def test_the_profile_says_why_the_person_is_here_and_which_source_feeds_them(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto(f"/employees/{world.employee_id('person1@acme.test')}")
    why = page.get_by_role("region", name="Why is this person here?")
    expect(why).to_contain_text("Fed by Personio DE as record r1")
    expect(why).to_contain_text("Returned by the latest sync of Personio DE")
    expect(why).to_contain_text("Personio DE has no filters")
    expect(why).to_contain_text("Starts on 04 Jan 2099: listed in Onboardings")
    sources = page.get_by_role("region", name="Source records")
    expect(sources).to_contain_text("Personio DE")
    expect(sources).to_contain_text("Primary")

    page.get_by_role("button", name="Ignore onboarding").click()
    expect(page.get_by_role("status")).to_contain_text("Nina Newcomer's onboarding is ignored")
    expect(page.get_by_text("Onboarding ignored", exact=True)).to_be_visible()
    page.get_by_role("button", name="Unhide").click()
    expect(page.get_by_role("status")).to_contain_text("Nina Newcomer is visible again")


def test_an_unknown_or_foreign_employee_is_a_not_found_page(admin_page: Page, world: WebWorld) -> None:
    response = admin_page.goto("/employees/00000000-0000-0000-0000-000000000000")
    assert response is not None and response.status == 404
    expect(admin_page.get_by_role("heading", name="Employee not found")).to_be_visible()
