"""The installed `staffsync` console script, run as a user runs it: a real process, a fresh data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("staffsync")


def run(*args: str, data_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFSYNC_")}
    env["STAFFSYNC_DATA_DIR"] = str(data_dir)
    env.update(extra_env)
    return subprocess.run(
        [str(SCRIPT), *args], env=env, cwd=data_dir, capture_output=True, text=True, timeout=120, check=False
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", data_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    for command in ("db", "accounts", "connections", "sync", "preview", "employees", "runs"):
        assert command in result.stdout


def test_accounts_create_on_a_fresh_data_dir_migrates_and_prints_json(tmp_path: Path) -> None:
    result = run("accounts", "create", "Acme", "--json", data_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["api_token"].startswith("ssk_")
    assert (tmp_path / "staffsync.db").exists()


def test_a_failure_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("sync", "no-such-connection", data_dir=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no connection no-such-connection"
    assert result.stdout == ""


def test_db_upgrade(tmp_path: Path) -> None:
    result = run("db", "upgrade", "--json", data_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["revision"]


def test_a_database_url_that_is_not_one_is_bad_usage(tmp_path: Path) -> None:
    result = run("db", "upgrade", data_dir=tmp_path, STAFFSYNC_DATABASE_URL="not a url")

    assert result.returncode == 2
    assert result.stderr.startswith("Error: STAFFSYNC_DATABASE_URL is not a database URL")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    # Port 1 on the loopback refuses at once: no server listens there.
    url = "postgresql+psycopg://staffsync:secret@127.0.0.1:1/staffsync"

    result = run("connections", "list", "--account", "a", data_dir=tmp_path, STAFFSYNC_DATABASE_URL=url)

    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: cannot open the database at postgresql+psycopg://staffsync:***@127.0.0.1:1/"
    )
    assert "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
