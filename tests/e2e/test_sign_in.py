"""Signing in and out, in a real browser: Chromium on http://127.0.0.1, which it counts as a secure context, so
it keeps the `Secure` `__Host-` session cookie as it would over HTTPS."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select
from web_harness import WebWorld, screenshot, sign_in

from staffsync.storage import models, web_sessions
from staffsync.sync.engine import utc_now
from staffsync.web.auth import SESSION_COOKIE


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
    (cookie,) = (c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert SESSION_COOKIE.startswith("__Host-")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    # Host-only (no Domain: no leading dot) and for the whole site, as the prefix demands.
    assert cookie["domain"] == "127.0.0.1"
    assert cookie["path"] == "/"


def test_a_sign_in_link_opens_the_app_signed_in(page: Page, world: WebWorld) -> None:
    """What `staffsync demo` hands the browser."""
    with world.db.transaction() as session:
        admin = session.scalars(select(models.AdminUser).where(models.AdminUser.email == world.admin.email)).one()
        token = web_sessions.create_sign_in_link(session, admin, now=utc_now())
    page.goto(f"/login/link?token={token}")
    expect(page).to_have_url(re.compile(r"/employees$"))
    expect(page.get_by_role("heading", name="Employees")).to_be_visible()
    page.goto("/settings/api-tokens")
    expect(page).to_have_url(re.compile(r"/settings/api-tokens$"))


def test_sign_out_ends_the_session(page: Page, world: WebWorld) -> None:
    sign_in(page, world.admin)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/employees")
    expect(page).to_have_url(re.compile(r"/login"))
