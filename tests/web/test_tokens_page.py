"""Settings → API tokens behind TestClient, on both databases: the secret shown once and stored hashed, revocation
effective at once, validation, roles, and another account's token out of reach."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from ui_harness import UiWorld, open_ui_world, snapshot

from staffsync.storage import accounts
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now

PAGE = "/settings/api-tokens"
SECRET = re.compile(r"ssk_[\w-]{40,}")


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def _other_accounts_token(world: UiWorld) -> str:
    with world.db.transaction() as session:
        token, _ = accounts.create_token(session, world.other_account_id, "Globex CI", role="admin", now=utc_now())
        return token.id


def _api_status(world: UiWorld, secret: str) -> int:
    response = world.browser().get("/api/v1/connections", headers={"Authorization": f"Bearer {secret}"})
    return response.status_code


def test_a_created_token_is_shown_once_and_stored_only_hashed(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    created = admin.form_post(PAGE, {"name": "Okta provisioning", "role": "viewer"})
    assert created.status_code == 201
    assert "it will not be shown again" in created.text
    assert "no-store" in created.headers["Cache-Control"]
    (secret,) = set(SECRET.findall(created.text))
    assert _api_status(world, secret) == 200
    assert secret not in str(snapshot(world.db))
    listed = admin.client.get(PAGE)
    assert "Okta provisioning" in listed.text
    assert secret[:10] in listed.text
    assert secret not in listed.text


def test_a_revoked_token_is_refused_by_the_api_at_once(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    secret = SECRET.findall(admin.form_post(PAGE, {"name": "Zapier", "role": "admin"}).text)[0]
    with world.db.session() as session:
        token_id = next(t.id for t in accounts.list_tokens(session, world.account_id) if t.name == "Zapier")
    assert _api_status(world, secret) == 200
    confirm = admin.client.get(f"{PAGE}/{token_id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke “Zapier”?" in confirm.text
    revoked = admin.form_post(f"{PAGE}/{token_id}/revoke")
    assert revoked.status_code == 303
    assert revoked.headers["location"] == PAGE
    assert _api_status(world, secret) == 401
    assert "“Zapier” is revoked" in admin.client.get(PAGE).text
    # Revoking twice changes nothing and says so.
    again = admin.form_post(f"{PAGE}/{token_id}/revoke")
    assert again.status_code == 303
    assert "already revoked" in admin.client.get(PAGE).text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "  ", "role": "viewer"}, "Give the token a name"),
        ({"name": "x" * 201, "role": "viewer"}, "under 200 characters"),
        ({"name": "Zapier", "role": "owner"}, "Choose admin or viewer"),
    ],
)
def test_an_invalid_form_is_shown_again_with_the_reason_and_creates_nothing(
    world: UiWorld, form: dict[str, str], message: str
) -> None:
    admin = world.signed_in(world.admin)
    before = snapshot(world.db)
    response = admin.form_post(PAGE, form)
    assert response.status_code == 422
    assert message in response.text
    assert not SECRET.search(response.text)
    assert snapshot(world.db) == before


def test_another_accounts_token_is_a_404_and_stays_active(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    token_id = _other_accounts_token(world)
    assert admin.client.get(PAGE).text.count("Globex CI") == 0
    assert admin.client.get(f"{PAGE}/{token_id}/revoke").status_code == 404
    before = snapshot(world.db)
    assert admin.form_post(f"{PAGE}/{token_id}/revoke").status_code == 404
    assert snapshot(world.db) == before


def test_a_viewer_sees_the_list_but_not_the_revocation_page(world: UiWorld) -> None:
    viewer = world.signed_in(world.viewer)
    page = viewer.client.get(PAGE)
    assert page.status_code == 200
    assert "ci" in page.text
    assert "Create token" not in page.text
    assert viewer.client.get(f"{PAGE}/{world.token_id()}/revoke").status_code == 403
