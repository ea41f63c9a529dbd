"""`staffsync serve`: the API answers with an account's token, the schedule syncs, the operator's rate limits hold,
Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_the_api_and_syncs_due_connections_on_schedule(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    env["STAFFSYNC_PREVIEWS_PER_MINUTE"] = "2"
    staffsync = str(Path(sys.executable).with_name("staffsync"))

    def cli(*args: str) -> dict[str, str]:
        done = subprocess.run([staffsync, *args, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        parsed: dict[str, str] = json.loads(done.stdout)
        return parsed

    account = cli("accounts", "create", "Acme")
    connection = cli("connections", "add", "--account", account["account_id"], "--provider", "memory", "--size", "12")
    port = _free_port()
    server = subprocess.Popen(
        [staffsync, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        headers = {"Authorization": f"Bearer {account['api_token']}"}
        deadline = time.monotonic() + 90
        employees: list[object] = []
        while time.monotonic() < deadline and server.poll() is None and len(employees) < 12:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/employees", headers=headers, timeout=5)
                if response.status_code == 200:
                    employees = response.json()["items"]
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        # The never-run connection was due at once: the embedded schedule synced it without anyone asking.
        assert len(employees) == 12
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["status"] == "ok"
        preview = f"http://127.0.0.1:{port}/api/v1/connections/{connection['id']}/preview"
        answers = [httpx.get(preview, headers=headers, timeout=30) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429], "STAFFSYNC_PREVIEWS_PER_MINUTE=2"
        assert "At most 2 previews" in answers[2].json()["error"]["message"]
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
