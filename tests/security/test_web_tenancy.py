"""Every page that names an object answers another account's admin with 404 and changes nothing.

The cases are generated from the web UI's routes (GET and POST): a new page with an object id in its path fails
this suite until tests/web/ui_harness.py knows what kind of object its parameter names (`object_kind`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui_harness import PARAMETER, UiWorld, fill_path, object_kind, open_ui_world, snapshot, web_routes

from staffsync.api.app import create_app
from staffsync.storage.db import Database

# Path parameters that name no stored object: a catalogue field of the profile page.
NOT_OBJECTS = {"field": "job_title"}
# Plausible form fields, so that the account is the only thing wrong with the request.
FIELDS = {"name": "Taken over", "url": "http://127.0.0.1:9/taken-over", "confirm": "yes", "value": "Owned"}


def object_pages() -> list[tuple[str, str]]:
    found = [(method, path) for method, path in web_routes(create_app(Database("sqlite://"))) if "{" in path]
    assert len(found) > 20, "the route walk found almost no pages with an id: is it broken?"
    return [(method, path) for method, path in found if method != "HEAD"]


PAGES = object_pages()


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def _url_of_account_a(world: UiWorld, path: str) -> str:
    for name, value in NOT_OBJECTS.items():
        path = path.replace("{" + name + "}", value)
    return fill_path(world, path)


def test_every_id_in_a_page_path_names_a_known_kind_of_object() -> None:
    unknown = sorted(
        {
            f"{path} {{{parameter}}}"
            for _, path in PAGES
            for parameter in PARAMETER.findall(path)
            if parameter not in NOT_OBJECTS and object_kind(path, parameter) is None
        }
    )
    assert not unknown, f"teach ui_harness.object_kind (and fill_path) these parameters: {unknown}"


def test_the_walk_covers_the_recent_settings_pages() -> None:
    paths = {path for _, path in PAGES}
    assert "/settings/policies/{policy_id}" in paths
    assert "/settings/webhooks/{webhook_id}" in paths
    assert "/settings/webhooks/{webhook_id}/deliveries/{delivery_id}/replay" in paths


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_another_accounts_object_page_is_404_and_untouched(world: UiWorld, method: str, path: str) -> None:
    url = _url_of_account_a(world, path)
    intruder = world.signed_in(world.other_admin)
    before = snapshot(world.db)
    response = intruder.client.get(url) if method == "GET" else intruder.form_post(url, FIELDS)
    assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    world.app.state.api.join_syncs(timeout=60)
    assert snapshot(world.db) == before, f"{method} {path} changed account A's data"
    if method == "GET":
        # The owner still reaches it: the 404 is about the account, not a broken page.
        owner = world.signed_in(world.admin)
        assert owner.client.get(url).status_code != 404, f"GET {path} is 404 for its own account too"
