"""A form that lost its CSRF token is refused in a real browser, with a page that says what to do.

(Named apart from tests/web/test_csrf.py: test modules share one namespace in pytest's default import mode.)"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot

from staffsync.storage import accounts
from staffsync.sync.engine import utc_now


def _token_names(world: WebWorld) -> dict[str, bool]:
    """Each token's name → whether it is still active."""
    with world.db.session() as session:
        return {token.name: token.revoked_at is None for token in accounts.list_tokens(session, world.account_id)}


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto("/settings/api-tokens")
    page.get_by_label("Name").fill("Forged")
    form = page.locator("form.token-form")
    form.locator("input[name=csrf_token]").evaluate("el => el.remove()")
    form.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    expect(page.get_by_text("nothing was changed")).to_be_visible()
    screenshot(page, "form-expired")
    assert _token_names(world) == {}


def test_a_one_button_form_without_its_csrf_token_is_refused_too(admin_page: Page, world: WebWorld) -> None:
    with world.db.transaction() as session:
        token, _ = accounts.create_token(session, world.account_id, "Okta provisioning", role="admin", now=utc_now())
    page = admin_page
    page.goto(f"/settings/api-tokens/{token.id}/revoke")
    page.locator("form[action$='/revoke'] input[name=csrf_token]").evaluate("el => el.remove()")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    assert _token_names(world) == {"Okta provisioning": True}
