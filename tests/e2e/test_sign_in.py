"""Signing in and out, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot, sign_in


def test_sign_in_lands_on_employees_and_shows_only_the_accounts_people(page: Page, world: WebWorld) -> None:
    page.goto("/employees")
    expect(page).to_have_url(re.compile(r"/login\?next=/employees"))
    screenshot(page, "sign-in")
    sign_in(page, world.admin)
    expect(page.get_by_role("heading", name="Employees")).to_be_visible()
    expect(page.get_by_text("Leo Leaver")).to_be_visible()
    expect(page.get_by_text("Acme", exact=True)).to_be_visible()
    screenshot(page, "employees")


def test_a_wrong_password_is_refused_with_a_clear_message(page: Page, world: WebWorld) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(world.admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_session_cookie_is_secure_http_only_and_same_site(page: Page, world: WebWorld) -> None:
    sign_in(page, world.admin)
    cookie = next(c for c in page.context.cookies() if c["name"] == "staffsync_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"


def test_sign_out_ends_the_session(page: Page, world: WebWorld) -> None:
    sign_in(page, world.admin)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/employees")
    expect(page).to_have_url(re.compile(r"/login"))
