"""The benchmark command end to end at 1,000 people: one repetition, staffsync on SQLite beside the floor.

Timings on a shared machine say nothing, so no test here asserts one. They check that the command runs
to its end and writes results of the documented shape, with the counts that prove every measured step
did its whole job on the simulated company.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FLOOR = REPO.parent / "shared" / "peers" / "floor_kombo_sqlite.py"
PEOPLE = 1000
MEASURED_STEPS = {"first_full", "full_resync", "hourly_1pct", "hourly_10pct", "dry_run", "cli_baseline"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("benchmark")
    env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            *("--sizes", str(PEOPLE), "--repeat", "1", "--only", "staffsync,floor", "--databases", "sqlite"),
            *("--results-dir", str(out / "results"), "--workdir", str(out / "work")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    [results] = (out / "results").glob("*.json")
    document: dict[str, Any] = json.loads(results.read_text())
    return document, results.with_suffix(".md").read_text()


def steps(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["sizes"][str(PEOPLE)]["steps"]
    return found


def only_output(entry: dict[str, Any]) -> dict[str, Any]:
    [sample] = entry["samples"]
    output: dict[str, Any] = sample["output"]
    return output


def test_the_first_full_sync_creates_every_person_of_the_simulated_company(run: tuple[dict[str, Any], str]) -> None:
    document, _ = run
    output = only_output(steps(document)["first_full"]["staffsync-sqlite"])
    assert output["kind"] == "full"
    assert output["counts"]["created"] == PEOPLE


def test_a_full_resync_with_nothing_changed_finds_everyone_unchanged(run: tuple[dict[str, Any], str]) -> None:
    document, _ = run
    counts = only_output(steps(document)["full_resync"]["staffsync-sqlite"])["counts"]
    assert counts["unchanged"] == PEOPLE
    assert counts["created"] == counts["updated"] == 0


def test_each_hourly_sync_is_incremental_and_updates_exactly_the_people_changed_before_it(
    run: tuple[dict[str, Any], str],
) -> None:
    document, _ = run
    changed = document["sizes"][str(PEOPLE)]["changed"]
    assert changed == {"hourly_1pct": [PEOPLE // 100], "hourly_10pct": [PEOPLE // 10]}
    for step in ("hourly_1pct", "hourly_10pct"):
        output = only_output(steps(document)[step]["staffsync-sqlite"])
        assert output["kind"] == "incremental"
        assert output["counts"]["updated"] == changed[step][0]


def test_the_dry_run_plans_the_pending_changes_and_applies_nothing(run: tuple[dict[str, Any], str]) -> None:
    document, _ = run
    dry = only_output(steps(document)["dry_run"]["staffsync-sqlite"])
    assert dry["dry_run"] is True
    assert dry["counts"]["fetched"] == PEOPLE
    assert dry["counts"]["updated"] == PEOPLE // 10
    # Nothing was applied: the hourly sync after it still finds all ten per cent to update.
    assert only_output(steps(document)["hourly_10pct"]["staffsync-sqlite"])["counts"]["updated"] == PEOPLE // 10


def test_every_measured_step_has_a_wall_time_cpu_time_and_peak_memory_summary(
    run: tuple[dict[str, Any], str],
) -> None:
    document, _ = run
    assert set(steps(document)) == MEASURED_STEPS
    for step, contenders in steps(document).items():
        for key, entry in contenders.items():
            summary = entry["summary"]
            assert summary["n"] == 1, (step, key)
            for measure in ("wall_s", "cpu_s", "peak_rss_mib"):
                spread = summary[measure]
                assert spread["min"] <= spread["median"] <= spread["max"], (step, key, measure)
            assert summary["wall_s"]["median"] > 0
            assert summary["peak_rss_mib"]["median"] > 10, "a Python process holds more than 10 MiB"


def test_the_floor_syncs_the_same_data_beside_staffsync_or_the_results_say_why_not(
    run: tuple[dict[str, Any], str],
) -> None:
    document, _ = run
    if not FLOOR.is_file():
        assert "floor" in document["skipped"]
        return
    assert only_output(steps(document)["first_full"]["floor"])["records"] == PEOPLE
    assert only_output(steps(document)["hourly_1pct"]["floor"])["records"] == PEOPLE // 100
    assert only_output(steps(document)["hourly_10pct"]["floor"])["rows_in_table"] == PEOPLE
    assert document["ratios"][str(PEOPLE)]["first_full"]["staffsync_over_floor"] > 0


def test_the_results_name_the_machine_load_and_code_they_were_measured_on(run: tuple[dict[str, Any], str]) -> None:
    document, _ = run
    machine = document["machine"]
    assert machine["cpu_count"] >= 1
    assert len(machine["load_average_at_start"]) == 3
    assert machine["python"] == sys.version.split()[0]
    assert len(machine["git_commit"]) == 40
    assert document["settings"]["sizes"] == [PEOPLE]
    assert document["failures"] == []


def test_the_markdown_table_has_a_row_for_every_step(run: tuple[dict[str, Any], str]) -> None:
    _, table = run
    for row in ("first full sync", "full re-sync, nothing changed", "hourly sync, 1 % changed", "dry run"):
        assert f"| {row}" in table
    assert "| 1,000 people | staffsync SQLite |" in table
