"""Changes made in the web UI reach the audit trail under the signed-in admin's name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui_harness import UiWorld, open_ui_world

from staffsync.storage import audit
from staffsync.storage.db import Database


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def test_a_token_created_in_the_ui_is_audited_as_the_admin(world: UiWorld) -> None:
    browser = world.signed_in(world.admin)
    response = browser.form_post("/settings/api-tokens", {"name": "Okta provisioning", "role": "viewer"})
    assert response.status_code == 201
    with world.db.session() as session:
        [entry] = audit.list_entries(session, world.account_id, object_type="api_token", limit=1)
    assert entry.action == "api_token.created"
    assert entry.actor == f"admin:{world.admin.email}"
    assert entry.object_label == "Okta provisioning"
    # The next request of another kind does not inherit the admin: the actor belongs to one request only.
    with world.db.transaction() as session:
        assert session.info.get("actor") is None
