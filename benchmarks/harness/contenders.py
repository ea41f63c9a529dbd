"""The programs measured side by side: staffsync (SQLite, PostgreSQL), the floor, and dlt.

Each contender gets a fresh state per repetition (`prepare`, not timed), then runs the steps as
separate processes. `check` compares what a step printed with what the benchmark did to the data, so
a number in the table always belongs to a run that did the whole job.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from harness.measure import Sample, StepFailed, last_json, run_process
from harness.postgres import PostgresServer
from harness.simulator import Simulator


class Step(StrEnum):
    FIRST_FULL = "first_full"
    FULL_RESYNC = "full_resync"
    HOURLY_1 = "hourly_1pct"
    HOURLY_10 = "hourly_10pct"
    DRY_RUN = "dry_run"
    CLI_BASELINE = "cli_baseline"


STEP_LABELS = {
    Step.FIRST_FULL: "first full sync",
    Step.FULL_RESYNC: "full re-sync, nothing changed",
    Step.HOURLY_1: "hourly sync, 1 % changed",
    Step.HOURLY_10: "hourly sync, 10 % changed",
    Step.DRY_RUN: "dry run (full plan, 10 % pending)",
    Step.CLI_BASELINE: "CLI start + open db, no sync",
}
# The share of people each hourly step changes first.
CHANGE_PERCENT = {Step.HOURLY_1: 1.0, Step.HOURLY_10: 10.0}


@dataclass(frozen=True, slots=True)
class Expected:
    """What the data looks like when a step runs: people in the source, and how many changed since the
    contender's previous run (the changes of the current hourly step)."""

    size: int
    changed: int = 0


@dataclass(frozen=True, slots=True)
class Setting:
    simulator: Simulator
    workdir: Path
    env: Mapping[str, str]
    label: str


class Contender(ABC):
    key: str
    label: str

    def __init__(self) -> None:
        self.workdir = Path()
        self.env: dict[str, str] = {}

    @abstractmethod
    def prepare(self, setting: Setting) -> None: ...

    @abstractmethod
    def command(self, step: Step) -> list[str] | None:
        """The process that performs `step`, or None when this contender has no such step."""

    @abstractmethod
    def check(self, step: Step, output: Mapping[str, Any], expected: Expected) -> list[str]:
        """What is wrong with a step's result; empty when it did the whole job."""

    def cleanup(self) -> None:
        return None


def _problem(what: str, got: object, wanted: object) -> list[str]:
    return [] if got == wanted else [f"{what} was {got!r}, expected {wanted!r}"]


class Staffsync(Contender):
    def __init__(self, cli: Sequence[str], database: str, postgres: PostgresServer | None = None) -> None:
        super().__init__()
        self.cli = list(cli)
        self.database = database
        self.postgres = postgres
        self.key = f"staffsync-{database}"
        self.label = f"staffsync {'SQLite' if database == 'sqlite' else 'PostgreSQL'}"
        self.database_url: str | None = None
        self.connection_id = ""
        self.api_token = ""

    def prepare(self, setting: Setting) -> None:
        self.workdir = setting.workdir / self.key
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        if self.database == "postgresql":
            assert self.postgres is not None
            self.database_url = self.postgres.create(setting.label)
        else:
            self.database_url = f"sqlite:///{self.workdir / 'staffsync.db'}"
        self.env = {
            **setting.env,
            "STAFFSYNC_DATA_DIR": str(self.workdir),
            "STAFFSYNC_DATABASE_URL": self.database_url,
            "STAFFSYNC_KOMBO_API_KEY": setting.simulator.api_key,
            "STAFFSYNC_KOMBO_BASE_URL": setting.simulator.base_url,
        }
        account = self.run_cli("accounts", "create", "Benchmark Corp", "--json")
        self.api_token = account["api_token"]
        connection = self.run_cli(
            "connections",
            "add",
            "--account",
            account["account_id"],
            "--provider",
            "kombo",
            "--integration-id",
            setting.simulator.integration_id,
            "--name",
            "Kombo benchmark",
            "--json",
        )
        self.connection_id = connection["id"]

    def run_cli(self, *args: str) -> dict[str, Any]:
        finished = run_process([*self.cli, *args], env=self.env, cwd=self.workdir, timeout_s=600)
        if finished.returncode != 0:
            raise StepFailed(f"staffsync {' '.join(args[:2])} failed: {finished.stderr.strip()[-1000:]}")
        return last_json(finished.stdout, what=f"staffsync {' '.join(args[:2])}")

    def command_first_full(self) -> list[str]:
        return [*self.cli, "sync", self.connection_id, "--json", "--full"]

    def command(self, step: Step) -> list[str] | None:
        sync = [*self.cli, "sync", self.connection_id, "--json"]
        return {
            Step.FIRST_FULL: [*sync, "--full"],
            Step.FULL_RESYNC: [*sync, "--full"],
            Step.HOURLY_1: sync,
            Step.HOURLY_10: sync,
            Step.DRY_RUN: [*sync, "--full", "--dry-run"],
            Step.CLI_BASELINE: [*self.cli, "db", "upgrade", "--json"],
        }[step]

    def check(self, step: Step, output: Mapping[str, Any], expected: Expected) -> list[str]:
        if step == Step.CLI_BASELINE:
            return []
        counts = output.get("counts", {})
        problems = _problem("status", output.get("status"), "succeeded")
        if step == Step.FIRST_FULL:
            problems += _problem("created", counts.get("created"), expected.size)
        elif step == Step.FULL_RESYNC:
            problems += _problem("unchanged", counts.get("unchanged"), expected.size)
        elif step in (Step.HOURLY_1, Step.HOURLY_10):
            problems += _problem("kind", output.get("kind"), "incremental")
            problems += _problem("updated", counts.get("updated"), expected.changed)
        elif step == Step.DRY_RUN:
            problems += _problem("fetched", counts.get("fetched"), expected.size)
            problems += _problem("updated (planned)", counts.get("updated"), expected.changed)
        return problems

    def run_phases(self, run_id: str) -> dict[str, Any]:
        """The engine's own split of a run's time (fetch and plan, finish plan, apply), which it records
        on the run; the rest of the wall time is process start, imports and opening the database."""
        assert self.database_url is not None
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                raw = connection.execute(text("SELECT timings FROM sync_runs WHERE id = :id"), {"id": run_id}).scalar()
        finally:
            engine.dispose()
        found = json.loads(raw) if isinstance(raw, str) else raw
        return dict(found) if isinstance(found, dict) else {}

    def cleanup(self) -> None:
        if self.postgres is not None and self.database_url is not None:
            self.postgres.drop(self.database_url)
            self.database_url = None


class Floor(Contender):
    key = "floor"
    label = "floor"

    def __init__(self, python: str, script: Path) -> None:
        super().__init__()
        self.python = python
        self.script = script
        self.base: list[str] = []

    def prepare(self, setting: Setting) -> None:
        self.workdir = setting.workdir / self.key
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        self.env = dict(setting.env)
        sim = setting.simulator
        self.base = [
            self.python,
            str(self.script),
            "--base-url",
            sim.base_url,
            "--api-key",
            sim.api_key,
            "--integration-id",
            sim.integration_id,
            "--db",
            str(self.workdir / "directory.sqlite"),
        ]

    def command(self, step: Step) -> list[str] | None:
        if step in (Step.FIRST_FULL, Step.FULL_RESYNC):
            return self.base
        if step in (Step.HOURLY_1, Step.HOURLY_10):
            return [*self.base, "--incremental"]
        return None

    def check(self, step: Step, output: Mapping[str, Any], expected: Expected) -> list[str]:
        problems = _problem("rows_in_table", output.get("rows_in_table"), expected.size)
        if step in (Step.FIRST_FULL, Step.FULL_RESYNC):
            return problems + _problem("records", output.get("records"), expected.size)
        # Its watermark is the previous start cut to the second: changes published in that same second
        # come again. Fewer than the changed people would be a miss.
        records = output.get("records")
        if not isinstance(records, int) or records < expected.changed:
            problems.append(f"records was {records!r}, expected at least {expected.changed}")
        return problems


class Dlt(Contender):
    """dlt's first run is incremental from 1970 (everything, and it keeps the cursor); the hourly runs pick
    the cursor up again."""

    key = "dlt"
    label = "dlt"

    def __init__(self, python: str, script: Path) -> None:
        super().__init__()
        self.python = python
        self.script = script
        self.base: list[str] = []

    def prepare(self, setting: Setting) -> None:
        self.workdir = setting.workdir / self.key
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        self.env = dict(setting.env)
        sim = setting.simulator
        self.base = [
            self.python,
            str(self.script),
            "--base-url",
            sim.base_url,
            "--api-key",
            sim.api_key,
            "--integration-id",
            sim.integration_id,
            "--workdir",
            str(self.workdir),
        ]

    def command(self, step: Step) -> list[str] | None:
        # No full re-sync for dlt: no target compares it, and at 100,000 people its three repetitions alone
        # took five minutes of the command's half-hour budget.
        if step in (Step.FIRST_FULL, Step.HOURLY_1, Step.HOURLY_10):
            return self.base
        return None

    def check(self, step: Step, output: Mapping[str, Any], expected: Expected) -> list[str]:
        return _problem("rows_in_table", output.get("rows_in_table"), expected.size)


def dlt_version(python: str) -> str | None:
    try:
        finished = subprocess.run(
            [python, "-c", "import dlt; print(dlt.__version__)"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return finished.stdout.strip() if finished.returncode == 0 else None


def sample_summary(sample: Sample) -> str:
    return f"{sample.wall_s:.2f} s, {sample.peak_rss_mib:.0f} MiB"
