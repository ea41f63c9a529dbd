"""Failed API-token authentication is throttled per client address (ASVS 2.2.1, API4): after a few unknown or
revoked tokens in a window, the address gets 429 `rate_limited` with `Retry-After` whatever it sends, so that it can
no longer tell a right token from a wrong one; valid tokens never count, and other addresses are not affected.
No answer says what was wrong with a token."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import API, ApiWorld
from fastapi.testclient import TestClient
from httpx import Response
from rate_limit_clock import Clock
from sqlalchemy import update

from staffsync.api.rate_limits import TOKEN_FAILURES, TOKEN_WINDOW_S
from staffsync.storage import models
from staffsync.sync.engine import utc_now

WINDOW = int(TOKEN_WINDOW_S)


@pytest.fixture
def world(limited_api: ApiWorld) -> ApiWorld:
    return limited_api


@pytest.fixture
def revoked(world: ApiWorld) -> str:
    """A token that worked, revoked: B's viewer token."""
    assert _from(world, "192.0.2.1", world.b.viewer).status_code == 200
    with world.db.transaction() as session:
        session.execute(
            update(models.ApiToken)
            .where(models.ApiToken.account_id == world.b.account_id, models.ApiToken.role == "viewer")
            .values(revoked_at=utc_now())
        )
    return world.b.viewer


def _from(world: ApiWorld, address: str, token: str | None, path: str = "/connections") -> Response:
    client = TestClient(world.client.app, client=(address, 50000))
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(API + path, headers=headers)


def _answer(response: Response) -> tuple[int, Any, str | None]:
    return response.status_code, response.json(), response.headers.get("Retry-After")


def test_repeated_unknown_or_revoked_tokens_from_one_address_get_429_rate_limited_with_retry_after(
    world: ApiWorld, revoked: str, clock: Clock
) -> None:
    guesser = "198.51.100.7"
    for n in range(TOKEN_FAILURES):
        token = revoked if n % 2 else f"ssk_made-up-{n}"
        assert _from(world, guesser, token).status_code == 401
    refused = _from(world, guesser, f"ssk_made-up-{TOKEN_FAILURES}")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == str(WINDOW + 1)
    assert refused.json()["error"]["details"] == {"retry_after": WINDOW + 1}
    # The window slides: once the failures are older than it, the address is heard again.
    clock.now += WINDOW + 1
    assert _from(world, guesser, world.a.admin).status_code == 200
    assert _from(world, guesser, "ssk_made-up-again").status_code == 401


def test_no_answer_says_what_was_wrong_with_a_token(world: ApiWorld, revoked: str) -> None:
    guesser = "198.51.100.8"
    unknown = _from(world, guesser, "ssk_" + "A" * 43)
    mistyped = _from(world, guesser, world.a.admin[:-1] + ("x" if world.a.admin[-1] != "x" else "y"))
    malformed = _from(world, guesser, "not-even-a-token")
    revoked_answer = _from(world, guesser, revoked)
    assert _answer(unknown) == _answer(mistyped) == _answer(malformed) == _answer(revoked_answer)
    assert unknown.status_code == 401
    for n in range(TOKEN_FAILURES - 4):
        assert _from(world, guesser, f"ssk_guess-{n}").status_code == 401
    # Locked out, the address gets one answer whatever it sends: a right token is not told from a wrong one.
    answers = [_answer(_from(world, guesser, token)) for token in (world.a.admin, "ssk_guess", revoked, None)]
    assert answers[0][0] == 429
    assert all(answer == answers[0] for answer in answers)
    assert "token" not in answers[0][1]["error"]["message"].lower()


def test_valid_tokens_keep_working_never_count_and_never_reset_the_count(world: ApiWorld) -> None:
    office, elsewhere = "203.0.113.10", "203.0.113.11"
    for n in range(TOKEN_FAILURES - 1):
        # Any number of good requests between the failures: they are not failures.
        for _ in range(3):
            assert _from(world, office, world.a.viewer).status_code == 200
        assert _from(world, office, f"ssk_wrong-{n}").status_code == 401
    assert _from(world, office, world.a.admin).status_code == 200
    # A success does not clear the count: holding one valid token must not buy more guesses.
    assert _from(world, office, "ssk_wrong-last").status_code == 401
    assert _from(world, office, world.a.admin).status_code == 429
    # Everyone else's valid tokens work as before, in every account.
    for token in (world.a.admin, world.a.viewer, world.b.admin):
        assert _from(world, elsewhere, token).status_code == 200
    assert _from(world, elsewhere, "ssk_wrong").status_code == 401


def test_a_request_without_a_token_is_not_counted_as_a_failure(world: ApiWorld) -> None:
    address = "203.0.113.12"
    for _ in range(TOKEN_FAILURES * 2):
        assert _from(world, address, None).status_code == 401
    assert _from(world, address, world.a.admin).status_code == 200


def test_an_ipv6_client_is_counted_by_its_64_network(world: ApiWorld) -> None:
    """One subscriber is given a whole /64: a fresh address per guess must not buy a fresh budget."""
    for n in range(TOKEN_FAILURES):
        assert _from(world, f"2001:db8:0:7::{n + 1:x}", f"ssk_guess-{n}").status_code == 401
    assert _from(world, "2001:db8:0:7::ffff", world.a.admin).status_code == 429
    assert _from(world, "2001:db8:0:8::1", world.a.admin).status_code == 200, "the next /64 is someone else"
