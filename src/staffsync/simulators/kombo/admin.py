"""Plays the admin in the simulated Kombo Connect page: used by `staffsync demo`, where nobody clicks."""

from __future__ import annotations

import html
import re

import httpx

_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def complete_connect_page(link: str, *, redirect_url: str, timeout: float = 60.0) -> httpx.Response:
    """Opens the connect link, submits its form as the admin would, and follows the redirect back to
    `redirect_url` (staffsync's callback); returns the callback's response."""
    with httpx.Client(follow_redirects=True, timeout=timeout) as browser:
        page = browser.get(link, params={"redirect_url": redirect_url})
        page.raise_for_status()
        action = _ACTION.search(page.text)
        if action is None:
            raise RuntimeError("the simulated connect page has no form to submit")
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
        target = page.url.join(html.unescape(action.group(1)))
        return browser.post(str(target), data={**fields, "action": "connect"})
