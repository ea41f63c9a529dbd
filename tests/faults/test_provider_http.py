"""Kombo misbehaving at the HTTP level, on a real socket through the official SDK: rate limits, 5xx as JSON
and as HTML, timeouts, resets, rejected credentials, a disabled or deleted integration.

Invariants: a transient fault is retried and the run ends exactly like a clean run of the same data; a
lasting one fails the run in plain words with the directory unchanged (every row as before, the run's one
`sync.failed` event aside) and within the retry window, never after the server's own idea of a wait.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from fault_harness import LATER, World, assert_failed_in_plain_words, assert_only_bookkeeping, fails_unchanged, recovers

from staffsync.connectors.kombo import retry_config
from staffsync.sync.engine import SyncOutcome

# --- 429


@pytest.mark.parametrize(
    ("header", "options", "at_least"),
    [
        ("Retry-After in seconds", {"retry_after": 1}, 0.95),
        ("Retry-After as an HTTP-date", {"retry_after": 2, "retry_after_date": True}, 0.95),
        ("retry-after-ms", {"retry_after_ms": 400}, 0.38),
    ],
)
def test_a_429_on_page_2_is_waited_out_as_told_and_the_same_page_asked_again(
    pair: tuple[World, World], header: str, options: dict[str, object], at_least: float
) -> None:
    synced, twin = pair
    synced.arm("rate_limit", skip=1, **options)
    # A retry window longer than the wait Kombo asks for, as in production (120 s): the wait is kept as asked.
    recovers(synced, twin, connector={"retry": retry_config(initial_ms=5, max_elapsed_ms=5_000, jitter_ms=0)})
    log = synced.requests()
    [limited] = [n for n, entry in enumerate(log) if entry.status == 429]
    assert log[limited + 1].query.get("cursor") == log[limited].query.get("cursor") is not None
    assert log[limited + 1].at - log[limited].at >= at_least, header


def test_a_429_without_retry_after_backs_off_exponentially_and_then_recovers(pair: tuple[World, World]) -> None:
    synced, twin = pair
    synced.arm("rate_limit", skip=1, times=3)
    backoff = retry_config(initial_ms=50, max_interval_ms=1_000, max_elapsed_ms=2_000, jitter_ms=0)
    recovers(synced, twin, connector={"retry": backoff})
    log = synced.requests()
    asked = [entry for entry in log if entry.query.get("cursor") == log[1].query.get("cursor")]
    assert [entry.status for entry in asked] == [429, 429, 429, 200]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(asked)]
    assert all(gap >= 0.05 * 2**n * 0.95 for n, gap in enumerate(gaps)), gaps


def test_kombo_s_concurrency_limit_is_retried_like_a_rate_limit(pair: tuple[World, World]) -> None:
    synced, twin = pair
    synced.arm("concurrency_limit", skip=2, times=2)
    recovers(synced, twin)


def test_a_rate_limit_that_never_lifts_fails_the_run_within_the_retry_window(synced: World) -> None:
    synced.arm("rate_limit", skip=1, times=None, retry_after=0.05)
    started = time.monotonic()
    fails_unchanged(synced, "Kombo's rate limit was still exceeded after retrying for 0.3 s (HTTP 429)")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    "options",
    [{"retry_after": 3600}, {"retry_after": 3600, "retry_after_date": True}, {"retry_after_ms": 3_600_000}],
    ids=["seconds", "HTTP-date", "retry-after-ms"],
)
def test_a_retry_after_longer_than_the_retry_window_does_not_stall_the_run(
    synced: World, options: dict[str, object]
) -> None:
    """Kombo asking for an hour's pause must not park the sync (and its lock) for an hour: the wait is
    capped by the connector's retry window, and the run fails within it."""
    synced.arm("rate_limit", times=None, **options)
    finished: list[SyncOutcome] = []
    before = synced.snapshot()
    runner = threading.Thread(target=lambda: finished.append(synced.sync(at=LATER, full=True)), daemon=True)
    runner.start()
    runner.join(timeout=15)
    assert finished, "the run was still waiting out Kombo's Retry-After"
    [outcome] = finished
    assert_failed_in_plain_words(synced, outcome, contains="Kombo's rate limit was still exceeded")
    assert_only_bookkeeping(before, synced.snapshot(), outcome.run_id)


# --- 5xx


def test_every_5xx_as_json_and_as_html_once_in_a_row_is_retried_and_the_run_equals_a_clean_one(
    pair: tuple[World, World],
) -> None:
    synced, twin = pair
    statuses = [500, 502, 503, 504]
    for kind in ("server_error", "html_error"):
        for status in statuses:
            synced.arm(kind, status=status, skip=0)
    recovers(synced, twin)
    first_page = [entry for entry in synced.requests() if "cursor" not in entry.query]
    assert [(entry.status, entry.fault) for entry in first_page] == [
        *[(status, "server_error") for status in statuses],
        *[(status, "html_error") for status in statuses],
        (200, None),
    ]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "Kombo is unavailable (HTTP 500), after retrying for 0.3 s"),
        (502, "Kombo is unavailable (HTTP 502), after retrying for 0.3 s"),
        (503, "Kombo is unavailable (HTTP 503), after retrying for 0.3 s"),
        (504, "Kombo gave up on the request: its task timed out (HTTP 504)"),
    ],
)
def test_a_lasting_json_5xx_fails_the_run_naming_the_status_and_changes_nothing(
    synced: World, status: int, message: str
) -> None:
    synced.arm("server_error", status=status, skip=2, times=None)
    outcome = fails_unchanged(synced, message)
    assert "at page 3 of Kombo's employees" in (outcome.error or "")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_lasting_html_5xx_fails_the_run_without_quoting_the_page_and_changes_nothing(
    synced: World, status: int
) -> None:
    synced.arm("html_error", status=status, times=None)
    outcome = fails_unchanged(synced, f"Kombo is unavailable (HTTP {status})")
    assert "not a Kombo error (text/html" in (outcome.error or "")
    assert "nginx" not in (outcome.error or "") and "<" not in (outcome.error or "")


def test_the_hr_system_behind_kombo_being_down_fails_the_run_and_changes_nothing(synced: World) -> None:
    synced.arm("remote_unavailable", skip=1, times=None)
    fails_unchanged(synced, "The HR system behind Kombo is unavailable (HTTP 503)")


def test_an_error_code_kombo_never_documented_is_judged_by_its_status_and_changes_nothing(synced: World) -> None:
    synced.arm("unknown_error_code", skip=1)
    fails_unchanged(synced, "Kombo refused the request (HTTP 400, PLATFORM.SIMULATED_UNKNOWN_CODE)")


# --- timeouts and resets


def test_a_page_slower_than_the_timeout_is_asked_again_and_the_run_equals_a_clean_one(
    pair: tuple[World, World],
) -> None:
    synced, twin = pair
    synced.arm("slow", skip=3, delay=1.0)
    # The retry window is longer than one timeout, as in production (60 s timeouts, 120 s of retries).
    recovers(synced, twin, connector={"timeout_ms": 300})
    log = synced.requests()
    [slow] = [n for n, entry in enumerate(log) if entry.fault == "slow"]
    assert log[slow + 1].query.get("cursor") == log[slow].query.get("cursor")


def test_kombo_never_answering_in_time_fails_the_run_within_its_bounds_and_changes_nothing(synced: World) -> None:
    synced.arm("slow", skip=1, times=None, delay=0.6)
    started = time.monotonic()
    fails_unchanged(
        synced, "Kombo did not answer within 0.2 s, after retrying for 0.3 s", connector={"timeout_ms": 200}
    )
    # The retry window, one timeout per try and scheduling slack: never the server's pace.
    assert time.monotonic() - started < 10


def test_a_connection_reset_before_the_answer_is_retried_and_the_run_equals_a_clean_one(
    pair: tuple[World, World],
) -> None:
    synced, twin = pair
    synced.arm("reset", skip=2, times=2)
    recovers(synced, twin)
    assert [entry.status for entry in synced.requests()].count(0) == 2


def test_connections_reset_for_the_whole_retry_window_fail_the_run_and_change_nothing(synced: World) -> None:
    synced.arm("reset", skip=1, times=None)
    fails_unchanged(synced, "Could not reach Kombo at 127.0.0.1")


def test_a_connection_reset_in_the_middle_of_a_body_is_retried_and_the_run_equals_a_clean_one(
    pair: tuple[World, World],
) -> None:
    synced, twin = pair
    cut = synced.wire.tamper.cut_body(at=0.5, requests={3})
    recovers(synced, twin)
    assert cut.fired == 1


def test_bodies_cut_off_for_the_whole_retry_window_fail_the_run_and_change_nothing(synced: World) -> None:
    synced.wire.tamper.cut_body(at=0.3, requests=range(2, 1_000))
    fails_unchanged(synced, "Could not reach Kombo at 127.0.0.1")


# --- credentials and the integration's state


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("unauthorized", "Kombo rejected the credentials: Simulated fault: unauthorized."),
        ("forbidden", "Kombo rejected the credentials: the HR system account connected to Kombo lacks a permission"),
    ],
)
def test_credentials_rejected_mid_run_break_the_connection_at_once_and_change_nothing(
    synced: World, kind: str, message: str
) -> None:
    synced.arm(kind, skip=2, times=None)
    fails_unchanged(synced, message, status="broken")
    # Asked once: a rejected key is not something waiting fixes.
    assert [entry.fault for entry in synced.requests()].count(kind) == 1


def test_an_integration_disabled_at_kombo_mid_run_waits_changes_nothing_and_converges_once_enabled(
    pair: tuple[World, World],
) -> None:
    synced, twin = pair

    def disable_after_this_page(query: dict[str, str], page: dict[str, object]) -> dict[str, object]:
        synced.integration.enabled = False
        return page

    synced.wire.tamper.rewrite(disable_after_this_page, requests={2})
    fails_unchanged(synced, "The integration is inactive at Kombo", status="waiting")

    synced.integration.enabled = True
    recovers(synced, twin)
    assert synced.connection().status == "ok"


def test_an_integration_deleted_at_kombo_breaks_the_connection_and_changes_nothing(synced: World) -> None:
    synced.state.remove_integration(synced.integration.id)
    fails_unchanged(synced, f"Kombo does not know integration {synced.integration.id}", status="broken")
