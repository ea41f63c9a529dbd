"""Every page action that changes something refuses a request without the session's CSRF token, and changes nothing.

The cases are generated from the application's routes: a new state-changing page (POST, PUT, PATCH, DELETE outside
/api/v1) without CSRF protection fails this suite. Path parameters get real ids of the signed-in account's objects,
so a route that looked its object up before checking the token would still have to refuse.

Signing in (POST /login) is the one state-changing page without a token: there is no session to hold one yet.
Login CSRF, a foreign page signing the victim into the attacker's own account, is refused with the browser's
`Sec-Fetch-Site` header instead: a sign-in posted from another site is a 403. SameSite=Lax alone would not stop it,
since a cross-site top-level POST may still *set* the cookie; the attacker knowing their own password is no obstacle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from ui_harness import BASE_URL, UiWorld, fill_path, open_ui_world, page_actions, snapshot, web_routes

from staffsync.storage.db import Database
from staffsync.web.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE

# Plausible form fields, so that the token is the only thing missing from an otherwise acceptable form.
FIELDS = {"name": "Forged", "role": "admin", "q": "x"}


ROUTES = page_actions()


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def test_the_walk_finds_the_pages_that_change_something() -> None:
    assert ("POST", "/logout") in ROUTES
    assert ("POST", "/settings/api-tokens") in ROUTES
    assert ("POST", "/settings/api-tokens/{token_id}/revoke") in ROUTES
    assert not any(path.startswith("/api/") for _, path in ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_request_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    world: UiWorld, method: str, path: str
) -> None:
    admin = world.signed_in(world.admin)
    # The same admin signed in elsewhere: a genuine token, but of another session.
    elsewhere = world.signed_in(world.admin)
    url = fill_path(world, path)
    attempts = {
        "no token": {"data": FIELDS},
        "an empty token": {"data": {**FIELDS, CSRF_FIELD: ""}},
        "a wrong token in the form": {"data": {**FIELDS, CSRF_FIELD: "forged-" + admin.csrf_token[:8]}},
        "a wrong token in the header": {"data": FIELDS, "headers": {CSRF_HEADER: "forged"}},
        "another session's token": {"data": {**FIELDS, CSRF_FIELD: elsewhere.csrf_token}},
    }
    for what, request in attempts.items():
        before = snapshot(world.db)
        response = admin.client.request(method, url, **request)  # type: ignore[arg-type]
        assert response.status_code == 403, (
            f"{method} {path} with {what}: {response.status_code}. Check the CSRF token (AdminAction) before "
            "anything else; if the route looks an object up first, give its parameter an id source in ui_harness."
        )
        assert "This form has expired" in response.text, f"{method} {path} with {what}"
        assert snapshot(world.db) == before, f"{method} {path} with {what} changed something"
    # Still signed in: a refused form does not end the session either.
    assert admin.client.get("/settings/api-tokens").status_code == 200


_POST_FORM = re.compile(r"<form\b(?P<attributes>[^>]*)>(?P<body>.*?)</form>", re.IGNORECASE | re.DOTALL)


def test_every_form_that_posts_carries_the_sessions_token(world: UiWorld) -> None:
    """The other half of the protection: the pages themselves send the token, or every action would be refused."""
    admin = world.signed_in(world.admin)
    # Another helper's page failing to render is not this test's finding: it only reads the pages that render.
    browser = TestClient(world.app, base_url=BASE_URL, follow_redirects=False, raise_server_exceptions=False)
    browser.cookies.set(SESSION_COOKIE, admin.session_secret)
    token_field = f'name="{CSRF_FIELD}" value="{admin.csrf_token}"'
    forms_seen = 0
    for method, path in web_routes(world.app):
        if method != "GET":
            continue
        response = browser.get(fill_path(world, path))
        if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
            continue
        for form in _POST_FORM.finditer(response.text):
            if 'method="post"' not in form.group("attributes").lower():
                continue
            forms_seen += 1
            assert token_field in form.group("body"), f"GET {path}: a form without the CSRF token: {form.group(0)}"
    assert forms_seen >= 3, "the walk found almost no forms: is it broken?"


def test_the_same_forms_go_through_with_the_sessions_token(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    created = admin.form_post("/settings/api-tokens", {"name": "Okta provisioning", "role": "viewer"})
    assert created.status_code == 201
    assert "Okta provisioning" in created.text
    by_header = admin.client.post(
        "/settings/api-tokens", data={"name": "Via htmx", "role": "viewer"}, headers={CSRF_HEADER: admin.csrf_token}
    )
    assert by_header.status_code == 201
    signed_out = admin.form_post("/logout")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login"


def test_signing_in_from_a_form_on_another_site_is_refused(world: UiWorld) -> None:
    for origin in ("cross-site", "same-site"):
        browser = world.browser()
        before = snapshot(world.db)
        response = browser.post(
            "/login",
            data={"email": world.admin.email, "password": world.admin.password},
            headers={"Sec-Fetch-Site": origin},
        )
        assert response.status_code == 403, origin
        assert SESSION_COOKIE not in response.cookies
        assert snapshot(world.db) == before


def test_signing_in_from_staffsyncs_own_form_goes_through(world: UiWorld) -> None:
    browser = world.browser()
    response = browser.post(
        "/login",
        data={"email": world.admin.email, "password": world.admin.password},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303
    assert SESSION_COOKIE in response.cookies
