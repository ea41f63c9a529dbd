"""A sync process killed with SIGKILL, mid-fetch and mid-apply, on SQLite and PostgreSQL, then a restart.

The child (sync_child.py) syncs against the simulator served by this process and is killed at a point the
test chose: mid-fetch, while Kombo holds its third page (the `slow` fault), after its first pages were
planned and staged; mid-apply, once the apply has written every row and before its transaction commits.

Invariants: nothing of the killed run is visible (the directory as before, its staged plan aside); the next
start finds the run and marks it abandoned (at once on PostgreSQL, whose lock dies with the connection;
once the ten-minute lease has run out on SQLite) and drops its plan; the next run leaves the same
directory as a clean run, with every lifecycle event exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_harness import API_KEY, LATER, ONE_PAGE, World, assert_only_bookkeeping
from sqlalchemy import select

from staffsync.storage import locks, models
from staffsync.sync.scheduled_run import recover_abandoned

CHILD = Path(__file__).with_name("sync_child.py")


def start_child(world: World, tmp_path: Path, *, hold_in_apply: Path | None) -> subprocess.Popen[bytes]:
    args = {
        "database_url": world.db.url.render_as_string(hide_password=False),
        "account_id": world.account_id,
        "connection_id": world.connection_id,
        "server_url": world.wire.url,
        "integration_id": world.integration.id,
        "at": LATER.isoformat(),
        "page_size": 5,
        "hold_in_apply": str(hold_in_apply) if hold_in_apply else None,
    }
    output = (tmp_path / "child.log").open("wb")
    return subprocess.Popen(
        [sys.executable, str(CHILD), json.dumps(args)],
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "STAFFSYNC_TEST_KOMBO_KEY": API_KEY},
    )


def wait_for(reached: Callable[[], bool], child: subprocess.Popen[bytes], tmp_path: Path, what: str) -> None:
    """Polls until the child is where the test kills it; fails at once if the child ended on its own."""
    deadline = time.monotonic() + 60
    while not reached():
        if child.poll() is not None:
            pytest.fail(f"the child ended before {what}:\n{(tmp_path / 'child.log').read_text()}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the child did not reach {what} within 60 s")
        time.sleep(0.02)


def staged_changes(world: World, run_id: str) -> int:
    with world.db.session() as session:
        return len(session.execute(select(models.Change.id).where(models.Change.run_id == run_id)).all())


@pytest.mark.slow
@pytest.mark.parametrize("point", ["mid-fetch", "mid-apply"])
def test_a_sync_killed_is_abandoned_at_the_next_start_and_the_next_run_converges(
    pair_on_db: tuple[World, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    world, twin = pair_on_db
    before = world.snapshot()
    marker = tmp_path / "applying"
    if point == "mid-fetch":
        world.arm("slow", skip=2, delay=120)  # Kombo sits on the third page; the first two are staged
    world.state.log.clear()
    child = start_child(world, tmp_path, hold_in_apply=marker if point == "mid-apply" else None)
    try:
        if point == "mid-fetch":
            wait_for(lambda: any(entry.fault == "slow" for entry in world.requests()), child, tmp_path, point)
        else:
            wait_for(marker.exists, child, tmp_path, point)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    [dead] = world.runs(status="running")
    assert staged_changes(world, dead.id) > 0
    assert_only_bookkeeping(before, world.snapshot(), dead.id, event=None)

    # The next start. SQLite's lease outlives the process by design (a run that only looks dead keeps its
    # connection): the restart that takes over comes after the lease ran out.
    if world.db.is_sqlite:
        assert recover_abandoned(world.db, now=LATER) == 0
        later = dt.datetime.now(dt.UTC) + locks.LEASE + dt.timedelta(minutes=1)
        monkeypatch.setattr(locks, "_now", lambda: later)
    deadline = time.monotonic() + 30
    # PostgreSQL releases the dead session's advisory lock once it notices the closed socket.
    while recover_abandoned(world.db, now=LATER) == 0:
        assert time.monotonic() < deadline, "the killed run was never marked abandoned"
        time.sleep(0.05)
    found = world.run(dead.id)
    assert (found.status, found.error_kind) == ("failed", "abandoned")
    assert staged_changes(world, dead.id) == 0
    # Nothing of the run remains but its end, told to subscribers as one sync.failed event.
    assert_only_bookkeeping(before, world.snapshot(), dead.id, event="sync.failed")

    world.wire.state.faults.clear()
    assert world.sync(at=LATER, full=True, connector=ONE_PAGE).status == "succeeded"
    assert world.view() == twin.view()
