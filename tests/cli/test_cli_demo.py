"""`staffsync demo`: no configuration — a simulated Kombo, the connect round trip, a first sync, a server."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cli_harness import Cli


def test_demo_connects_the_simulated_kombo_syncs_everyone_and_prints_the_credentials_once(cli: Cli) -> None:
    first = cli.json("demo", "--once", "--employees", "60")
    assert first["run"]["status"] == "succeeded"
    assert first["run"]["counts"]["created"] == 60
    assert first["directory"]["active"] == 60
    assert first["admin_password"] and first["api_token"].startswith("ssk_")

    again = cli.json("demo", "--once")
    assert again["account_id"] == first["account_id"]
    assert again["connection_id"] == first["connection_id"]
    assert again["run"]["counts"]["created"] == again["run"]["counts"]["updated"] == 0
    assert "admin_password" not in again


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _synced(data: Path) -> bool:
    database = data / ".staffsync" / "staffsync.db"
    if not database.exists():
        return False
    try:
        with sqlite3.connect(database) as connection:
            done = connection.execute("SELECT count(*) FROM sync_runs WHERE status = 'succeeded'").fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return False
    return bool(done and done[0])


def test_demo_starts_syncs_and_answers_healthz_on_a_fresh_machine(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    port = _free_port()
    staffsync = Path(sys.executable).with_name("staffsync")
    demo = subprocess.Popen(
        [str(staffsync), "demo", "--employees", "25", "--port", str(port), "--json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and demo.poll() is None and not _synced(tmp_path):
            time.sleep(0.3)
        assert _synced(tmp_path), "the demo never finished its first sync"
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.json() == {"status": "ok", "database": "ok"}
    finally:
        demo.send_signal(signal.SIGINT)
        stdout, stderr = demo.communicate(timeout=60)
    assert demo.returncode == 0, stderr
    document = json.loads(stdout)
    assert document["run"]["counts"]["created"] == 25
    assert (tmp_path / ".staffsync" / "staffsync.db").exists()
    assert oct((tmp_path / ".staffsync" / "demo.json").stat().st_mode & 0o777) == "0o600"
