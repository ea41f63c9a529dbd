"""SSRF (API7): the one URL a user supplies is a webhook endpoint's. Loopback, link-local (cloud metadata), private
and unique-local ranges are refused at save time through the API, in every spelling of the address, and when a DNS
name resolves to them; a delivery never follows a redirect. The Kombo base URL (STAFFSYNC_KOMBO_BASE_URL) is
operator configuration, not user input (see SECURITY.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_harness import ApiWorld, open_world
from webhook_harness import Hooks, Receiver, serve

from staffsync.api.deps import WebhookConfig
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.webhooks import endpoints
from staffsync.webhooks.delivery import make_client
from staffsync.webhooks.targets import TargetRefused

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost./hook",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.0.1/hook",
    "http://[fd12:3456::1]/",
    "http://0.0.0.0/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
]


@pytest.fixture
def world(db: Database) -> Iterator[ApiWorld]:
    for opened in open_world(db):
        # Production's setting: the harness allows private receivers for its own local tests.
        refusing = WebhookConfig(opened.context.webhooks().cipher, allow_private=False)
        opened.context.webhooks = lambda refusing=refusing: refusing
        yield opened


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_webhook_url_to_a_non_public_address_is_refused_through_the_api(world: ApiWorld, url: str) -> None:
    created = world.call("POST", "/webhooks", token=world.a.admin, json={"url": url})
    assert created.status_code == 422, f"{url}: {created.status_code}"
    assert created.json()["error"]["code"] in ("url_refused", "invalid_request")
    assert world.get("/webhooks")["items"] == []


@pytest.mark.parametrize("address", ["127.0.0.2", "10.9.8.7", "169.254.169.254", "100.64.0.1", "::1", "fd00::7"])
def test_a_dns_name_resolving_to_a_non_public_address_is_refused(db: Database, world: ApiWorld, address: str) -> None:
    with db.transaction() as session, pytest.raises(TargetRefused, match="resolves to"):
        endpoints.create_endpoint(
            session,
            world.a.account_id,
            url="https://hooks.attacker.example/in",
            cipher=world.context.webhooks().cipher,
            now=utc_now(),
            allow_private=False,
            resolve=lambda host, port: [address],
        )


def test_a_receiver_redirecting_to_a_loopback_service_does_not_get_it_called(db: Database, world: ApiWorld) -> None:
    cipher = world.context.webhooks().cipher
    with serve(Receiver()) as internal, serve(Receiver()) as redirecting, make_client() as client:
        internal.answer = 204
        redirecting.answer = 302
        redirecting.headers = {"location": internal.url + "/admin/delete-everything"}
        hooks = Hooks(db, cipher, client, world.b.account_id, now=utc_now())
        hooks.subscribe(redirecting)
        hooks.emit(("employee.created", {"employee_id": "e1"}))
        hooks.tick()
        assert redirecting.paths == ["/hooks"]
        assert internal.paths == [], "the redirect was followed"
        [delivery] = hooks.deliveries()
        assert delivery.last_error == "receiver answered 302; redirects are not followed"
    assert make_client().follow_redirects is False
