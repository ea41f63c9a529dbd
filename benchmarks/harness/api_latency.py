"""API latency: `staffsync serve` over a synced database, and `api_load.py` firing requests at it from
a second process on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from harness.contenders import Staffsync
from harness.measure import StepFailed, last_json, read_usage, run_process, spawn, stop, tail

LOAD_SCRIPT = Path(__file__).with_name("api_load.py")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure_api(staffsync: Staffsync, *, last_names: list[str], requests: int) -> dict[str, Any]:
    """Serves `staffsync`'s database (its simulator still running: the preview reads the source) and
    returns each endpoint's latencies, plus the server's peak RSS over the whole load."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    names_file = staffsync.workdir / "last-names.json"
    names_file.write_text(json.dumps(last_names))
    log = (staffsync.workdir / "serve.log").open("wb")
    usage = staffsync.workdir / "serve.usage"
    # The preview is limited to 60 a minute per account by default (each one reads the source): the operator's
    # setting lets the load measure its latency instead of its 429s.
    env = {**staffsync.env, "STAFFSYNC_PREVIEWS_PER_MINUTE": str(100 * requests)}
    server = spawn(
        [*staffsync.cli, "serve", "--port", str(port)],
        usage=usage,
        env=env,
        cwd=staffsync.workdir,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_for_health(server, base_url, staffsync.workdir / "serve.log")
        finished = run_process(
            [
                sys.executable,
                str(LOAD_SCRIPT),
                "--base-url",
                base_url,
                "--token",
                staffsync.api_token,
                "--connection",
                staffsync.connection_id,
                "--last-names",
                str(names_file),
                "--requests",
                str(requests),
            ],
            env=staffsync.env,
            cwd=staffsync.workdir,
            timeout_s=3600,
        )
        if finished.returncode != 0:
            raise StepFailed(f"the API load failed: {tail(finished.stderr)}")
        endpoints = last_json(finished.stdout, what="api_load.py")
    finally:
        _stop(server)
        log.close()
    peak_rss, _ = read_usage(usage)
    return {
        "database": staffsync.database,
        "requests_per_endpoint": requests,
        "endpoints": endpoints,
        "server_peak_rss_mib": round(peak_rss, 1),
    }


def _wait_for_health(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise StepFailed(f"staffsync serve exited: {tail(log.read_text(errors='replace'))}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise StepFailed("staffsync serve did not answer /healthz within 120 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as an operator stops it (the usage reader then writes the server's peak RSS); killed
    when it does not stop in time."""
    if server.poll() is not None:
        return
    stop(server, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stop(server)
        server.wait()
