"""Signing in and out of the web UI: the session cookie, session ids, expiry, throttling, redirects, roles,
password storage, sign-in links, and what reaches the logs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import argon2
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update
from ui_harness import UiWorld, admin_only_actions, fill_path, open_ui_world, page_actions, snapshot

from staffsync.api.rate_limits import TOKEN_FAILURES, RateLimits
from staffsync.storage import models, web_sessions
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now
from staffsync.web import auth
from staffsync.web.auth import SESSION_COOKIE


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def _sign_in(browser: TestClient, email: str, password: str, **form: str) -> Response:
    return browser.post("/login", data={"email": email, "password": password, **form})


def _admin_user(world: UiWorld, email: str) -> models.AdminUser:
    with world.db.session() as session:
        return session.execute(select(models.AdminUser).where(models.AdminUser.email == email)).scalar_one()


def _session_cookie(response: Response) -> dict[str, str]:
    """The session's Set-Cookie: its value under "", then its attributes by lower-case name ("" for a flag)."""
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    value, *attributes = (part.strip() for part in cookie.split(";"))
    parsed = {"": value.split("=", 1)[1]}
    for attribute in attributes:
        name, _, setting = attribute.partition("=")
        parsed[name.lower()] = setting
    return parsed


def _session_count(world: UiWorld) -> int:
    with world.db.session() as session:
        return len(session.execute(select(models.WebSession.id)).all())


# ---- the cookie and the session behind it ----


def test_signing_in_sets_a_secure_http_only_same_site_lax_cookie(world: UiWorld) -> None:
    response = world.browser().post("/login", data={"email": world.admin.email, "password": world.admin.password})
    assert response.status_code == 303
    assert response.headers["location"] == "/employees"
    cookie = _session_cookie(response)
    assert "secure" in cookie
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"


def test_the_session_cookie_has_the_host_prefix_so_it_is_secure_for_the_whole_site_and_no_domain(
    world: UiWorld,
) -> None:
    """ASVS 3.4.4: a browser keeps a `__Host-` cookie only when it is Secure, for Path=/ and without Domain, so
    no other host (a sibling subdomain, a page over plain HTTP) can plant or overwrite it. Every answer that sets
    the cookie, or clears it, keeps to that, or the browser would ignore it."""
    assert SESSION_COOKIE.startswith("__Host-")
    signed_in = world.browser().post("/login", data={"email": world.admin.email, "password": world.admin.password})
    with world.db.transaction() as session:
        link = web_sessions.create_sign_in_link(session, _admin_user(world, world.admin.email), now=utc_now())
    by_link = world.browser().get("/login/link", params={"token": link})
    signed_out = world.signed_in(world.admin).form_post("/logout")
    for response in (signed_in, by_link, signed_out):
        assert response.status_code == 303
        cookie = _session_cookie(response)
        assert "secure" in cookie
        assert cookie["path"] == "/"
        assert "domain" not in cookie
    assert _session_cookie(signed_out)["max-age"] == "0"
    # The browser sends the cookie back under its prefixed name, and the pages know it.
    browser = world.browser()
    browser.post("/login", data={"email": world.admin.email, "password": world.admin.password})
    assert browser.get("/employees").status_code == 200


def test_the_cookie_holds_a_random_secret_and_the_database_only_its_hash(world: UiWorld) -> None:
    browser = world.browser()
    browser.post("/login", data={"email": world.admin.email, "password": world.admin.password})
    secret = browser.cookies[SESSION_COOKIE]
    assert len(secret) >= 40
    with world.db.session() as session:
        stored = [row.id for row in session.execute(select(models.WebSession.id)).all()]
    assert secret not in stored
    assert len(stored) == 1


def test_every_sign_in_starts_a_new_session_id(world: UiWorld) -> None:
    """Session fixation: an id planted in the browser before sign-in is never the one signed in."""
    attacker = world.signed_in(world.other_admin)
    for planted in ("planted-by-someone-else", attacker.session_secret):
        browser = world.browser()
        browser.cookies.set(SESSION_COOKIE, planted)
        response = browser.post("/login", data={"email": world.admin.email, "password": world.admin.password})
        assert response.status_code == 303
        assert response.cookies[SESSION_COOKIE] != planted
    # Signing in twice gives two sessions with two ids.
    first, second = (
        world.browser().post("/login", data={"email": world.admin.email, "password": world.admin.password})
        for _ in range(2)
    )
    assert first.cookies[SESSION_COOKIE] != second.cookies[SESSION_COOKIE]
    # The attacker's planted session is still the attacker's, not promoted to the victim's account.
    page = attacker.client.get("/settings/api-tokens")
    assert world.other_admin.email in page.text
    assert world.admin.email not in page.text


def test_signing_out_deletes_the_session_on_the_server(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    assert admin.client.get("/employees").status_code == 200
    sessions = _session_count(world)
    signed_out = admin.form_post("/logout")
    assert signed_out.status_code == 303
    assert _session_count(world) == sessions - 1
    # The old cookie, replayed by anyone who kept it, no longer works.
    replay = world.browser()
    replay.cookies.set(SESSION_COOKIE, admin.session_secret)
    response = replay.get("/employees")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_an_expired_session_redirects_to_the_sign_in_page(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    assert admin.client.get("/employees").status_code == 200
    with world.db.transaction() as session:
        session.execute(update(models.WebSession).values(expires_at=utc_now() - dt.timedelta(seconds=1)))
    response = admin.client.get("/employees?q=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/employees%3Fq%3Dx"
    assert _session_count(world) == 0


def test_a_session_ends_after_30_idle_minutes_and_after_12_hours_in_any_case(world: UiWorld) -> None:
    """ASVS 3.3.2 (level 2): re-authentication after 30 minutes idle, and after 12 hours whatever the activity."""
    start = utc_now()
    user = _admin_user(world, world.admin.email)
    with world.db.transaction() as session:
        untouched, idle, busy = (web_sessions.start_session(session, user, now=start) for _ in range(3))
    with world.db.transaction() as session:
        assert web_sessions.resume_session(session, untouched, now=start + dt.timedelta(minutes=30, seconds=1)) is None
    # Every use starts the 30 minutes again.
    with world.db.transaction() as session:
        assert web_sessions.resume_session(session, idle, now=start + dt.timedelta(minutes=29, seconds=59)) is not None
    with world.db.transaction() as session:
        assert web_sessions.resume_session(session, idle, now=start + dt.timedelta(minutes=58)) is not None
    with world.db.transaction() as session:
        assert web_sessions.resume_session(session, idle, now=start + dt.timedelta(minutes=88, seconds=1)) is None
    # A session used every 20 minutes lives on, but not past 12 hours.
    moment = start
    for _ in range(12 * 3 - 1):
        moment += dt.timedelta(minutes=20)
        with world.db.transaction() as session:
            assert web_sessions.resume_session(session, busy, now=moment) is not None
    with world.db.transaction() as session:
        assert web_sessions.resume_session(session, busy, now=start + dt.timedelta(hours=12, seconds=1)) is None


def test_a_browser_is_asked_to_sign_in_again_after_30_idle_minutes_or_12_hours(
    world: UiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = utc_now()
    clock = [start]
    monkeypatch.setattr(auth, "utc_now", lambda: clock[0])
    idle, busy = world.browser(), world.browser()
    for browser in (idle, busy):
        signed_in = _sign_in(browser, world.admin.email, world.admin.password)
        # The browser forgets the cookie by itself once the session cannot last any longer.
        assert int(_session_cookie(signed_in)["max-age"]) == 12 * 3600
    clock[0] += dt.timedelta(minutes=25)
    assert busy.get("/employees").status_code == 200
    clock[0] += dt.timedelta(minutes=6)
    assert idle.get("/employees").headers["location"] == "/login?next=/employees"
    # Used every 29 minutes, the session is never idle for long enough, but it does not outlive 12 hours.
    while clock[0] < start + dt.timedelta(hours=12):
        assert busy.get("/employees").status_code == 200
        clock[0] += dt.timedelta(minutes=29)
    assert busy.get("/employees").headers["location"] == "/login?next=/employees"


# ---- throttling ----


def test_five_wrong_passwords_lock_the_email_out_with_429_and_retry_after(world: UiWorld) -> None:
    browser = world.browser(address="198.51.100.7")
    for _ in range(5):
        assert _sign_in(browser, world.admin.email, "wrong password").status_code == 401
    locked = _sign_in(browser, world.admin.email, world.admin.password)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in locked.text
    assert SESSION_COOKIE not in browser.cookies
    # The same email from another address is locked too: many addresses cannot share the guessing.
    elsewhere = world.browser(address="203.0.113.9")
    assert _sign_in(elsewhere, world.admin.email, world.admin.password).status_code == 429
    # And the guessing address cannot move on to another account.
    assert _sign_in(browser, world.viewer.email, world.viewer.password).status_code == 429
    # Another person, somewhere else, signs in as usual.
    assert _sign_in(world.browser(address="192.0.2.1"), world.viewer.email, world.viewer.password).status_code == 303


def test_the_lockout_ends_after_its_window(world: UiWorld) -> None:
    clock = [1000.0]
    world.app.state.rate_limits = RateLimits(clock=lambda: clock[0])
    browser = world.browser()
    for _ in range(5):
        _sign_in(browser, world.admin.email, "wrong password")
    locked = _sign_in(browser, world.admin.email, world.admin.password)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 901
    clock[0] += 901
    assert _sign_in(browser, world.admin.email, world.admin.password).status_code == 303


def test_signing_into_an_account_of_ones_own_does_not_reset_the_addresss_failures(world: UiWorld) -> None:
    """Password spraying: one guess at each of many accounts. The address's count must survive a success of its
    own, or a sign-in to the sprayer's own account between every four guesses would let it guess forever."""
    sprayer = world.browser(address="198.51.100.20")
    for n in range(4):
        assert _sign_in(sprayer, f"someone{n}@acme.test", "Summer2024!").status_code == 401
    assert _sign_in(sprayer, world.viewer.email, world.viewer.password).status_code == 303
    assert _sign_in(sprayer, "someone4@acme.test", "Summer2024!").status_code == 401
    assert _sign_in(sprayer, "someone5@acme.test", "Summer2024!").status_code == 429


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(world: UiWorld) -> None:
    unknown = _sign_in(world.browser(), "nobody@acme.test", "whatever")
    wrong = _sign_in(world.browser(address="192.0.2.2"), world.admin.email, "whatever")
    assert unknown.status_code == wrong.status_code == 401
    assert "do not match" in unknown.text and "do not match" in wrong.text


# ---- where sign-in leads ----


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "evil.example/employees",
    ],
)
def test_sign_in_never_redirects_to_another_site(world: UiWorld, target: str) -> None:
    response = _sign_in(world.browser(), world.admin.email, world.admin.password, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/employees"
    page = world.browser().get("/login", params={"next": target})
    assert f'value="{target}"' not in page.text


def test_sign_in_returns_to_the_page_that_asked_for_it(world: UiWorld) -> None:
    asked = world.browser().get("/settings/api-tokens")
    assert asked.headers["location"] == "/login?next=/settings/api-tokens"
    response = _sign_in(world.browser(), world.admin.email, world.admin.password, next="/settings/api-tokens")
    assert response.headers["location"] == "/settings/api-tokens"


# ---- roles ----

ADMIN_ONLY = admin_only_actions()
# Declared with `CsrfChecked` instead of `AdminAction`: previews that change nothing, and signing out.
READ_ONLY_POSTS = [route for route in page_actions() if route not in ADMIN_ONLY and route != ("POST", "/logout")]


def test_the_pages_that_change_something_are_declared_admin_only() -> None:
    assert ("POST", "/settings/api-tokens") in ADMIN_ONLY
    assert ("POST", "/settings/api-tokens/{token_id}/revoke") in ADMIN_ONLY
    assert ("POST", "/logout") not in ADMIN_ONLY


@pytest.mark.parametrize(("method", "path"), sorted(ADMIN_ONLY))
def test_a_viewer_gets_403_from_every_admin_action_and_changes_nothing(world: UiWorld, method: str, path: str) -> None:
    viewer = world.signed_in(world.viewer)
    url = fill_path(world, path)  # may create the object the path names: before the snapshot
    before = snapshot(world.db)
    response = viewer.form_post(url, {"name": "Viewer was here", "role": "admin"})
    assert response.status_code == 403, f"{method} {path}: {response.status_code}"
    assert "Read-only access" in response.text
    assert snapshot(world.db) == before


@pytest.mark.parametrize(("method", "path"), READ_ONLY_POSTS)
def test_a_viewer_may_send_the_read_only_posts_and_they_change_nothing(world: UiWorld, method: str, path: str) -> None:
    """A route that skips the admin check must really change nothing, or it belongs in AdminAction."""
    viewer = world.signed_in(world.viewer)
    url = fill_path(world, path)
    before = snapshot(world.db)
    response = viewer.form_post(url, {"name": "Viewer was here", "role": "admin"})
    assert response.status_code < 500
    assert snapshot(world.db) == before, f"{method} {path} changed something for a viewer"


def test_a_viewer_may_sign_out(world: UiWorld) -> None:
    viewer = world.signed_in(world.viewer)
    assert viewer.form_post("/logout").status_code == 303
    assert viewer.client.get("/employees").status_code == 303


# ---- passwords and what reaches the logs ----


def test_passwords_are_stored_as_argon2id_hashes_above_the_owasp_minimum(world: UiWorld) -> None:
    stored = _admin_user(world, world.admin.email).password_hash
    assert stored.startswith("$argon2id$")
    assert world.admin.password not in stored
    parameters = argon2.extract_parameters(stored)
    assert parameters.type is argon2.Type.ID
    # OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations.
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2
    assert parameters.salt_len >= 16


def test_passwords_and_session_secrets_never_reach_the_logs(world: UiWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_password = "Wrong-Sentinel-7c1e"
    browser = world.browser()
    assert _sign_in(browser, world.admin.email, wrong_password).status_code == 401
    assert _sign_in(browser, world.admin.email, world.admin.password).status_code == 303
    assert browser.get("/employees").status_code == 200
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    for secret in (wrong_password, world.admin.password, browser.cookies[SESSION_COOKIE]):
        assert secret not in logged


# ---- sign-in links (printed by `staffsync demo`) ----


def _link(world: UiWorld, *, now: dt.datetime) -> str:
    with world.db.transaction() as session:
        return web_sessions.create_sign_in_link(session, _admin_user(world, world.admin.email), now=now)


def test_a_sign_in_link_signs_its_admin_in_once(world: UiWorld) -> None:
    token = _link(world, now=utc_now())
    browser = world.browser()
    response = browser.get("/login/link", params={"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/employees"
    page = browser.get("/employees")
    assert page.status_code == 200
    assert world.admin.email in page.text
    again = world.browser().get("/login/link", params={"token": token})
    assert again.status_code == 400
    assert "already used or has expired" in again.text
    assert SESSION_COOKIE not in again.cookies


def test_a_sign_in_link_does_not_work_after_it_expired(world: UiWorld) -> None:
    token = _link(world, now=utc_now() - web_sessions.SIGN_IN_LINK_LIFETIME - dt.timedelta(seconds=1))
    response = world.browser().get("/login/link", params={"token": token})
    assert response.status_code == 400
    assert SESSION_COOKIE not in response.cookies


def test_a_made_up_sign_in_link_signs_nobody_in(world: UiWorld) -> None:
    response = world.browser().get("/login/link", params={"token": "made-up"})
    assert response.status_code == 400
    assert SESSION_COOKIE not in response.cookies


def test_made_up_sign_in_links_from_one_address_are_throttled_before_a_real_one_is_tried(world: UiWorld) -> None:
    guesser = world.browser()
    for n in range(TOKEN_FAILURES):
        assert guesser.get("/login/link", params={"token": f"made-up-{n}"}).status_code == 400
    real = _link(world, now=utc_now())
    locked = guesser.get("/login/link", params={"token": real})
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert SESSION_COOKIE not in locked.cookies
    assert world.browser(address="192.0.2.1").get("/login/link", params={"token": real}).status_code == 303


def test_the_database_keeps_only_a_hash_of_a_sign_in_link(world: UiWorld) -> None:
    token = _link(world, now=utc_now())
    assert token not in str(snapshot(world.db))
