"""IT policies, webhooks and the audit trail in the browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot

from staffsync.sync.engine import utc_now
from staffsync.webhooks.delivery import fan_out


def test_a_policy_is_previewed_then_saved_and_its_holders_are_listed(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.get_by_role("link", name="IT policies").click()
    screenshot(page, "policies-empty")
    page.get_by_role("link", name="Create the first policy").click()
    page.get_by_label("Policy name").fill("GitHub for engineers")
    page.get_by_label("Application or group").fill("GitHub")
    page.get_by_label("Role").fill("member")
    page.get_by_label("Field of condition 1").select_option("team")
    page.get_by_label("Operator of condition 1").select_option("equals")
    page.get_by_label("Value of condition 1").fill("engineering")
    page.get_by_role("button", name="Preview and save").click()
    # Never saved blind: the first save shows who gains it.
    gains = page.get_by_role("list", name="People who gain it")
    expect(gains.get_by_role("listitem")).to_have_count(4)
    expect(gains).to_contain_text("Carla Contractor")
    screenshot(page, "policy-preview")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_contain_text("4 people hold GitHub (member)")
    expect(page.get_by_role("heading", name="Who holds it now")).to_be_visible()
    # The person's profile says what they hold, and from which policy.
    page.get_by_role("link", name="Carla Contractor").first.click()
    expect(page.get_by_role("list", name="Assignments")).to_contain_text("GitHub (member) from GitHub for engineers")
    page.get_by_role("link", name="IT policies").first.click()
    expect(page.get_by_role("cell", name="4")).to_be_visible()
    screenshot(page, "policies")

    # The audit trail says who did it.
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("row", name=re.compile("Policy created"))).to_contain_text(world.admin.email)
    screenshot(page, "audit")


def test_changing_a_policy_shows_who_loses_it_before_saving(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/settings/policies/new")
    page.get_by_label("Policy name").fill("Salesforce")
    page.get_by_label("Application or group").fill("Salesforce")
    page.get_by_label("Field of condition 1").select_option("team")
    page.get_by_label("Operator of condition 1").select_option("in")
    page.get_by_label("Value of condition 1").fill("Sales, Operations")
    page.get_by_role("button", name="Preview and save").click()
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_contain_text("8 people hold Salesforce")
    page.get_by_label("Value of condition 1").fill("Sales")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_role("list", name="People who lose it").get_by_role("listitem")).to_have_count(4)
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_contain_text("4 people hold Salesforce (before: 8)")


def test_a_webhook_shows_its_secret_once_and_lists_its_deliveries(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/staffsync")
    page.get_by_label("Description").fill("Onboarding automation")
    page.get_by_role("checkbox", name="employee.created").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator(".secret-box").inner_text()
    assert secret.startswith("whsec_")
    screenshot(page, "webhook-created")
    page.get_by_role("link", name="I have stored it").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    fan_out(world.db, utc_now())
    page.reload()
    expect(page.get_by_role("row", name=re.compile("employee.created"))).to_have_count(12)
    screenshot(page, "webhook-detail")
    page.get_by_role("button", name="Rotate secret").click()
    rotated = page.locator(".secret-box").inner_text()
    assert rotated.startswith("whsec_") and rotated != secret
    expect(page.get_by_text("signed with both the old and the new secret")).to_be_visible()


def test_a_webhook_to_a_bad_address_is_refused_with_the_reason(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/webhooks")
    page.get_by_label("Endpoint URL").fill("ftp://files.example.com/drop")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("alert")).to_contain_text("http or https")
    expect(page.get_by_label("Endpoint URL")).to_have_value("ftp://files.example.com/drop")


def test_a_viewer_can_preview_a_policy_but_not_save_it(viewer_page: Page) -> None:
    page = viewer_page
    page.goto("/settings/policies/new")
    expect(page.get_by_role("button", name="Preview and save")).to_have_count(0)
    page.get_by_label("Policy name").fill("Everyone")
    page.get_by_label("Application or group").fill("Slack")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_role("list", name="People who gain it").get_by_role("listitem")).to_have_count(12)
