"""The security suite reuses the API, web UI and webhook harnesses of the suites it maps (see SECURITY.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
for harness_dir in ("api", "web", "webhooks"):
    if str(TESTS / harness_dir) not in sys.path:
        sys.path.insert(0, str(TESTS / harness_dir))

from api_harness import ApiWorld, open_world  # noqa: E402  (found through the path set up above)
from rate_limit_clock import Clock  # noqa: E402

from staffsync.api.rate_limits import RateLimits  # noqa: E402
from staffsync.storage.db import Database  # noqa: E402


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited_api(db: Database, clock: Clock) -> Iterator[ApiWorld]:
    """The API world with every rate limit on `clock`."""
    for world in open_world(db):
        world.client.app.state.rate_limits = RateLimits(clock=clock)  # type: ignore[attr-defined]
        yield world
