"""Every page carries the security headers, and no template needs the Content-Security-Policy loosened.

The pages are walked from the application's routes (every GET page without path parameters, signed in), and
the templates are scanned for what the policy forbids: a new inline script, style or event handler fails here
before it fails silently in a browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import Response
from ui_harness import UiWorld, open_ui_world, web_routes

from staffsync.storage.db import Database
from staffsync.web.render import TEMPLATES

SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


def _assert_secure_page(response: Response, what: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("script-src") == ["'self'"], f"{what}: {policy!r}"
    assert directives.get("style-src") == ["'self'"], f"{what}: {policy!r}"
    assert directives.get("frame-ancestors") == ["'none'"], f"{what}: {policy!r}"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") in SAFE_REFERRER_POLICIES, what
    assert "no-store" in headers.get("Cache-Control", ""), what


def test_every_page_carries_the_csp_frame_sniffing_referrer_and_cache_headers(world: UiWorld) -> None:
    admin = world.signed_in(world.admin)
    pages = [path for method, path in web_routes(world.app) if method == "GET" and "{" not in path]
    html_pages = []
    for path in pages:
        response = admin.client.get(path, follow_redirects=True)
        if response.headers.get("content-type", "").startswith("text/html"):
            _assert_secure_page(response, f"GET {path} → {response.url.path}")
            html_pages.append(path)
    # The walk reached the pages, not only redirects and JSON.
    assert {"/employees", "/settings/api-tokens"} <= set(html_pages), html_pages


def test_the_sign_in_page_and_error_pages_carry_them_too(world: UiWorld) -> None:
    browser = world.browser()
    _assert_secure_page(browser.get("/login"), "the sign-in page")
    _assert_secure_page(browser.post("/login", data={"email": "x@y.z", "password": "no"}), "a refused sign-in")
    admin = world.signed_in(world.admin)
    missing = admin.client.get("/no/such/page")
    assert missing.status_code == 404
    _assert_secure_page(missing, "the page-not-found page")
    expired = admin.client.post("/settings/api-tokens", data={"name": "x"})
    assert expired.status_code == 403
    _assert_secure_page(expired, "the form-expired page")


# ---- the templates ----

# Jinja's own syntax ({{ … }}, {% … %}, {# … #}) is not markup: `style="btn"` there is a macro argument.
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_SCRIPT = re.compile(r"<script\b(?P<attributes>[^>]*)>(?P<body>.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_FORBIDDEN = {
    "an inline <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a style= attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an on…= event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "an hx-on attribute (htmx evaluates it as code)": re.compile(r"\shx-on", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def csp_problems(template: str) -> list[str]:
    """What in this template the Content-Security-Policy would block."""
    template = _JINJA.sub(" ", template)
    problems = []
    for script in _SCRIPT.finditer(template):
        if script.group("body").strip():
            problems.append("an inline <script> body")
        if "src=" not in script.group("attributes"):
            problems.append("a <script> without src")
    problems.extend(what for what, pattern in _FORBIDDEN.items() if pattern.search(template))
    return problems


def _templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert found, f"no templates under {TEMPLATES}"
    return found


@pytest.mark.parametrize("template", _templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_style_or_event_handlers(template: Path) -> None:
    assert csp_problems(template.read_text()) == []


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("<script>alert(1)</script>", "an inline <script> body"),
        ('<script src="/static/htmx.min.js">x()</script>', "an inline <script> body"),
        ('<div style="color: red">', "a style= attribute"),
        ("<style>p { color: red }</style>", "an inline <style> element"),
        ('<button onclick="go()">', "an on…= event handler"),
        ('<form hx-on::after-request="this.reset()">', "an hx-on attribute (htmx evaluates it as code)"),
        ('<a href="javascript:go()">', "a javascript: URL"),
    ],
)
def test_the_template_guard_catches_what_the_policy_blocks(snippet: str, problem: str) -> None:
    assert problem in csp_problems(snippet)


def test_the_template_guard_accepts_what_the_pages_use() -> None:
    allowed = (
        '<script src="/static/htmx.min.js" defer></script><p class="muted" hx-get="/x">Based on the data</p>'
        '{{ ui.action_button("/x", "Go", user, style="btn btn-primary") }}{% set label, style = card.badge %}'
    )
    assert csp_problems(allowed) == []
