"""Every `staffsync` call is a fresh process, and most of an hourly sync is that process starting: a command
imports what it uses and nothing else. Checked in a child process (this one has imported everything), by
the modules it ends up with, never by a stopwatch."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cli_harness import Cli

# Runs the CLI as its console script does, then writes what the process ended with (its modules, the state
# of its garbage collector) to the file PROBE_REPORT names.
PROBE = """
import gc, json, os, sys
from staffsync.cli import main
try:
    main()
finally:
    report = {"modules": sorted(sys.modules), "gc_enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
    with open(os.environ["PROBE_REPORT"], "w") as out:
        json.dump(report, out)
"""

# Stacks only other commands use: the web server and API, web sign-in (whose module hashed a password at
# import), the worker's metrics, the simulator; alembic only while a schema is behind.
NEVER_ON_THE_SYNC_PATH = (
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "alembic",
    "prometheus_client",
    "staffsync.api",
    "staffsync.web",
    "staffsync.storage.web_sessions",
    "staffsync.simulators.kombo",
    "staffsync.cli.demo",
    "staffsync.cli.serve",
    "staffsync.cli.worker",
    "staffsync.cli.kombo_sim",
    "staffsync.cli.employees",
    "staffsync.cli.runs",
)


def probe(cli: Cli, tmp_path: Path, *args: str) -> dict[str, Any]:
    report = tmp_path / "probe.json"
    env = {**os.environ, **cli.env, "PROBE_REPORT": str(report)}
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert finished.returncode == 0, finished.stderr
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def imported_modules(cli: Cli, tmp_path: Path, *args: str) -> set[str]:
    return set(probe(cli, tmp_path, *args)["modules"])


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(name for name in modules if name == package or name.startswith(package + "."))


def test_a_sync_imports_neither_the_web_stack_nor_other_commands(cli: Cli, tmp_path: Path) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    modules = imported_modules(cli, tmp_path, "sync", connection_id, "--json")

    assert "staffsync.sync.engine" in modules
    for package in NEVER_ON_THE_SYNC_PATH:
        assert not loaded(modules, package), f"`staffsync sync` imported {package}"


def test_a_sync_from_the_demo_source_never_loads_the_kombo_sdk(cli: Cli, tmp_path: Path) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    modules = imported_modules(cli, tmp_path, "sync", connection_id, "--json")

    assert not loaded(modules, "kombo")
    assert not loaded(modules, "staffsync.connectors.kombo")


def test_json_output_off_a_terminal_never_loads_rich(cli: Cli, tmp_path: Path) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    modules = imported_modules(cli, tmp_path, "sync", connection_id, "--json")

    assert not loaded(modules, "rich")


def test_db_upgrade_opens_the_database_and_nothing_more(cli: Cli, tmp_path: Path) -> None:
    modules = imported_modules(cli, tmp_path, "db", "upgrade", "--json")

    also_never = ("kombo", "staffsync.connectors", "staffsync.sync", "argon2", "cryptography", "rich")
    for package in (*NEVER_ON_THE_SYNC_PATH, *also_never):
        assert not loaded(modules, package), f"`staffsync db upgrade` imported {package}"


def test_the_collector_is_back_on_when_a_command_runs_with_start_up_left_out_of_it(cli: Cli, tmp_path: Path) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)

    process = probe(cli, tmp_path, "sync", connection_id, "--json")

    # A long-running command (serve, worker, demo) must collect its garbage as any process does.
    assert process["gc_enabled"] is True
    assert process["frozen"] > 0


def test_a_command_run_in_process_leaves_the_callers_collector_alone(cli: Cli) -> None:
    connection_id = cli.memory_connection(cli.account(), size=5)
    frozen_before = gc.get_freeze_count()

    cli.json("sync", connection_id)

    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen_before


def test_a_mistyped_command_is_still_answered_with_the_closest_one(cli: Cli) -> None:
    result = cli.run("sinc", "some-id")

    assert result.exit_code == 2
    assert "Did you mean 'sync'?" in result.stderr


def test_help_lists_every_command_in_the_order_it_always_has(cli: Cli) -> None:
    result = cli.run("--help")

    commands_panel = result.stdout.split("Commands")[1]
    listed = [line.split()[1] for line in commands_panel.splitlines() if line.startswith("│ ")]
    assert listed == [
        "demo",
        "serve",
        "worker",
        "sync",
        "preview",
        "kombo-sim",
        "db",
        "accounts",
        "tokens",
        "connections",
        "employees",
        "runs",
    ]
