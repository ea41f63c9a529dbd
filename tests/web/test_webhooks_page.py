"""Settings → Webhooks tells an admin what a failing or disabled endpoint means: the status in the API's words,
failures counted as deliveries that used up their retry window, and that a disabled endpoint is sent nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from ui_harness import UiWorld, open_ui_world

from staffsync.storage import models
from staffsync.storage.db import Database


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def badges(page: str) -> list[str]:
    return re.findall(r'<span class="badge[^"]*"><span class="dot" aria-hidden="true"></span>([^<]+)</span>', page)


def text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def endpoint_state(world: UiWorld, webhook_id: str, **values: object) -> None:
    with world.db.transaction() as session:
        endpoint = session.get_one(models.WebhookEndpoint, webhook_id)
        for name, value in values.items():
            setattr(endpoint, name, value)


def test_a_disabled_endpoint_is_shown_as_disabled_and_says_it_is_sent_nothing_until_enabled(world: UiWorld) -> None:
    webhook_id = world.webhook_id()
    endpoint_state(world, webhook_id, status="disabled", disabled_reason="The receiver answered 410 Gone.")
    browser = world.signed_in(world.admin).client

    listing = browser.get("/settings/webhooks").text
    detail = browser.get(f"/settings/webhooks/{webhook_id}").text

    assert badges(listing) == ["Disabled"]
    assert badges(detail)[0] == "Disabled"
    assert (
        "While disabled, new events are not sent to this endpoint and are not kept for it. Once the receiver is "
        "fixed, enable it to receive events again" in text(detail)
    )
    assert "keep queueing" not in detail


def test_failures_in_a_row_are_told_as_deliveries_that_failed_for_their_whole_retry_window(world: UiWorld) -> None:
    webhook_id = world.webhook_id()
    browser = world.signed_in(world.viewer).client
    assert "in a row failed" not in browser.get(f"/settings/webhooks/{webhook_id}").text

    endpoint_state(world, webhook_id, consecutive_failures=3)
    detail = text(browser.get(f"/settings/webhooks/{webhook_id}").text)

    assert "3 deliveries in a row failed for their whole retry window" in detail
    assert "attempts failed" not in detail
    assert badges(browser.get("/settings/webhooks").text) == ["Active"]
