"""`staffsync demo`: no configuration, a demo company synced from its seeded HR source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cli_harness import Cli


def test_demo_creates_the_account_syncs_everyone_and_prints_the_credentials_once(cli: Cli) -> None:
    first = cli.json("demo", "--employees", "60")
    assert first["run"]["status"] == "succeeded"
    assert first["run"]["counts"]["created"] == 60
    assert first["directory"]["active"] == 60
    assert first["admin_password"] and first["api_token"].startswith("ssk_")

    again = cli.json("demo")
    assert again["account_id"] == first["account_id"]
    assert again["run"]["counts"]["created"] == again["run"]["counts"]["updated"] == 0
    assert "admin_password" not in again


def test_demo_runs_on_a_fresh_machine_with_nothing_configured(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    staffsync = Path(sys.executable).with_name("staffsync")
    result = subprocess.run(
        [str(staffsync), "demo", "--employees", "25", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["run"]["counts"]["created"] == 25
    assert (tmp_path / ".staffsync" / "staffsync.db").exists()
