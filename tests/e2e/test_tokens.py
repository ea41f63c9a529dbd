"""Settings → API tokens in a real browser: create a token, use it against the API, revoke it."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot

from staffsync.storage import accounts
from staffsync.sync.engine import utc_now


def _existing_tokens(world: WebWorld) -> None:
    """What a lived-in account has: a busy integration token and a retired one."""
    moment = utc_now()
    with world.db.transaction() as session:
        okta, _ = accounts.create_token(
            session, world.account_id, "Okta provisioning", role="admin", now=moment - dt.timedelta(days=40)
        )
        okta.last_used_at = moment - dt.timedelta(minutes=12)
        old, _ = accounts.create_token(
            session, world.account_id, "Old BI export", role="viewer", now=moment - dt.timedelta(days=90)
        )
        accounts.revoke_token(session, world.account_id, old.id, now=moment - dt.timedelta(days=3))


def _api_status(world: WebWorld, token: str) -> int:
    response = httpx.get(
        f"{world.base_url}/api/v1/connections", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.status_code


def test_an_admin_creates_a_token_uses_it_against_the_api_and_revokes_it(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    _existing_tokens(world)
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="API tokens")).to_have_attribute("aria-current", "page")
    okta = page.get_by_role("row").filter(has_text="Okta provisioning")
    expect(okta).to_contain_text("Active")
    expect(okta).to_contain_text("12 min ago")
    expect(page.get_by_role("row").filter(has_text="Old BI export")).to_contain_text("Revoked")
    screenshot(page, "api-tokens")

    page.get_by_label("Name").fill("Zapier")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token “Zapier” created")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("it will not be shown again")
    secret = page.get_by_label("Your new viewer token").inner_text().strip()
    assert secret.startswith("ssk_")
    screenshot(page, "api-token-created")

    assert _api_status(world, secret) == 200

    page.get_by_role("link", name="I have stored it").click()
    expect(page).to_have_url(re.compile(r"/settings/api-tokens$"))
    zapier = page.get_by_role("row").filter(has_text="Zapier")
    expect(zapier).to_contain_text("Viewer")
    expect(zapier).to_contain_text(secret[:10])
    # Listed by its prefix only: the secret itself is never on a page again.
    assert secret not in page.content()

    zapier.get_by_role("link", name="Revoke Zapier").click()
    expect(page.get_by_role("heading", name="Revoke “Zapier”?")).to_be_visible()
    expect(page.get_by_text("refused from the moment you revoke it")).to_be_visible()
    screenshot(page, "api-token-revoke")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("“Zapier” is revoked")
    expect(page.get_by_role("row").filter(has_text="Zapier")).to_contain_text("Revoked")

    assert _api_status(world, secret) == 401


def test_cancelling_a_revocation_keeps_the_token(admin_page: Page, world: WebWorld) -> None:
    _existing_tokens(world)
    admin_page.goto("/settings/api-tokens")
    admin_page.get_by_role("link", name="Revoke Okta provisioning").click()
    admin_page.get_by_role("link", name="Cancel").click()
    expect(admin_page.get_by_role("row").filter(has_text="Okta provisioning")).to_contain_text("Active")


def test_a_token_needs_a_name(admin_page: Page, world: WebWorld) -> None:
    admin_page.goto("/settings/api-tokens")
    admin_page.get_by_role("button", name="Create token").click()
    expect(admin_page.get_by_text("Give the token a name")).to_be_visible()
    expect(admin_page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(admin_page.get_by_text("No API tokens yet")).to_be_visible()


def test_a_viewer_sees_the_tokens_but_cannot_create_or_revoke_them(viewer_page: Page, world: WebWorld) -> None:
    _existing_tokens(world)
    viewer_page.goto("/settings/api-tokens")
    expect(viewer_page.get_by_role("row").filter(has_text="Okta provisioning")).to_be_visible()
    expect(viewer_page.get_by_text("only an admin can create or revoke them")).to_be_visible()
    expect(viewer_page.get_by_role("button", name="Create token")).to_have_count(0)
    expect(viewer_page.get_by_role("button", name="Revoke")).to_be_disabled()
