"""The expensive actions, which call the HR provider, are rate limited per connection (Sync now) and per account
(preview): a 429 with `Retry-After` in the API's error envelope, or an error page; the window slides with the clock.
The same throttle counts failed sign-ins (tests/web/test_auth.py) and failed API tokens (test_api_token_throttle.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_harness import ApiWorld
from rate_limit_clock import Clock
from ui_harness import UiWorld, open_ui_world

from staffsync.api.rate_limits import PREVIEWS_PER_MINUTE, SYNC_STARTS_PER_MINUTE, RateLimits, Throttle
from staffsync.storage.db import Database


@pytest.fixture
def api(limited_api: ApiWorld) -> ApiWorld:
    return limited_api


@pytest.fixture
def ui(db: Database, clock: Clock) -> Iterator[UiWorld]:
    for world in open_ui_world(db):
        world.app.state.rate_limits = RateLimits(clock=clock)
        yield world


def test_the_window_counts_events_per_key_and_frees_them_as_it_slides(clock: Clock) -> None:
    window = Throttle(2, 60.0, clock)
    assert window.take("a") == 0
    clock.now += 10
    assert window.take("a") == 0
    assert window.take("b") == 0, "another key has a budget of its own"
    assert window.take("a") == 51, "the first event leaves the window 50 s from now"
    clock.now += 50
    assert window.take("a") == 0


def test_a_failure_window_counts_only_what_it_is_told_and_forgets_a_key_on_request(clock: Clock) -> None:
    failures = Throttle(2, 60.0, clock)
    assert failures.retry_after("ip:a", "email:x") == 0
    assert failures.retry_after("ip:a", "email:x") == 0, "asking counts nothing"
    failures.count("ip:a", "email:x")
    clock.now += 30
    failures.count("ip:a", "email:x")
    assert failures.retry_after("ip:a") == failures.retry_after("email:x") == 31
    assert failures.retry_after("ip:b", "email:x") == 31, "any key at its limit holds the attempt back"
    failures.forget("email:x")
    assert failures.retry_after("email:x") == 0
    assert failures.retry_after("ip:a", "email:x") == 31


def test_keys_whose_events_all_left_the_window_are_forgotten(clock: Clock) -> None:
    """Addresses and emails are the client's to choose: a stream of new ones must not grow memory for ever."""
    failures = Throttle(1, 60.0, clock)
    for n in range(5000):
        failures.count(f"email:{n}@old.test")
    clock.now += 61
    for n in range(5000):
        failures.count(f"email:{n}@new.test")
    assert len(failures) < 10_000
    assert failures.retry_after("email:0@new.test") == failures.retry_after("email:4999@new.test") == 61, (
        "the keys still in the window are all kept"
    )


def test_starting_syncs_of_one_connection_is_limited_with_429_rate_limited_and_retry_after(
    api: ApiWorld, clock: Clock
) -> None:
    path = f"/connections/{api.connection_id}/syncs"
    for _ in range(SYNC_STARTS_PER_MINUTE):
        answer = api.call("POST", path, token=api.a.admin, json={"dry_run": True})
        # A start may find the previous run still holding the connection (409): it still counts as a start.
        assert answer.status_code in (200, 202, 409), answer.text
        api.context.join_syncs(timeout=60)
    refused = api.call("POST", path, token=api.a.admin, json={"dry_run": True})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) == 61
    clock.now += 61
    assert api.call("POST", path, token=api.a.admin, json={"dry_run": True}).status_code in (200, 202)
    api.context.join_syncs(timeout=60)


def test_another_accounts_404s_do_not_spend_the_owners_sync_budget(api: ApiWorld) -> None:
    path = f"/connections/{api.connection_id}/syncs"
    for _ in range(SYNC_STARTS_PER_MINUTE + 1):
        assert api.call("POST", path, token=api.b.admin, json={"dry_run": True}).status_code == 404
    assert api.call("POST", path, token=api.a.admin, json={"dry_run": True}).status_code in (200, 202)
    api.context.join_syncs(timeout=60)


def test_previews_are_limited_per_account_with_429_and_retry_after(api: ApiWorld, clock: Clock) -> None:
    path = f"/connections/{api.connection_id}/preview"
    for _ in range(PREVIEWS_PER_MINUTE):
        assert api.call("GET", path, token=api.a.viewer).status_code == 200
    refused = api.call("GET", path, token=api.a.admin)
    assert refused.status_code == 429, "the limit is the account's, whichever token asks"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "61"
    clock.now += 61
    assert api.call("GET", path, token=api.a.admin).status_code == 200


def test_sync_now_on_the_page_is_limited_with_a_429_page(ui: UiWorld) -> None:
    admin = ui.signed_in(ui.admin)
    url = f"/settings/employee-sync/{ui.connection_id}/sync"
    for _ in range(SYNC_STARTS_PER_MINUTE):
        assert admin.form_post(url).status_code == 303
        ui.app.state.api.join_syncs(timeout=60)
    refused = admin.form_post(url)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "61"
    assert "syncs of a connection start per minute" in refused.text
    assert refused.headers["content-type"].startswith("text/html")


def test_the_preview_page_is_limited_with_a_429_page(ui: UiWorld, clock: Clock) -> None:
    admin = ui.signed_in(ui.admin)
    url = f"/settings/employee-sync/{ui.connection_id}/preview"
    for _ in range(PREVIEWS_PER_MINUTE):
        assert admin.client.get(url).status_code == 200
    refused = admin.client.get(url)
    assert refused.status_code == 429
    assert "previews of a source per minute" in refused.text
    clock.now += 61
    assert admin.client.get(url).status_code == 200
