#!/usr/bin/env python3
"""staffsync's sync benchmark: staffsync, the floor and dlt side by side, in one run, on the same data.

    .venv/bin/python benchmarks/run.py --sizes 1000,10000,100000

For each size and repetition: a fresh Kombo simulator (`staffsync kombo-sim`) on 127.0.0.1, a fresh
state for every contender, then each step as a fresh process, the contenders one after another:
first full sync; full re-sync with nothing changed; 1 % of people changed, hourly sync; 10 % changed,
staffsync's full dry run, hourly sync. At the largest size, the API latency (`staffsync serve` and a
second process firing requests) and a pyinstrument profile of one first full sync.
Writes results/<date>-<machine>.json and .md; see benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import report
from harness.api_latency import measure_api
from harness.contenders import (
    CHANGE_PERCENT,
    STEP_LABELS,
    Contender,
    Dlt,
    Expected,
    Floor,
    Setting,
    Staffsync,
    Step,
    dlt_version,
)
from harness.machine import load_average, machine_facts, machine_name
from harness.measure import StepFailed, measure
from harness.peers import find_dlt, find_floor
from harness.postgres import DEFAULT_SERVER, PostgresServer
from harness.profile import profile_first_sync, pyinstrument_missing
from harness.simulator import Roster, Simulator, running_simulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PARTS = ("staffsync", "floor", "dlt", "api", "profile")
DATABASES = ("sqlite", "postgresql")
README_START = "<!-- benchmark-results:start -->"
README_END = "<!-- benchmark-results:end -->"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="people per run, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every step (default 3)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {','.join(PARTS)}")
    parser.add_argument("--databases", default=",".join(DATABASES), help="staffsync's databases: sqlite,postgresql")
    parser.add_argument("--dlt-repeat", type=int, help="repetitions for dlt, the slowest contender (default: --repeat)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the simulated company")
    parser.add_argument("--api-requests", type=int, default=500, help="requests per API endpoint")
    parser.add_argument("--api-size", type=int, help="size for the API latency (default: the largest)")
    parser.add_argument(
        "--api-databases",
        help="databases served for the API latency (default: sqlite, the embedded default; both cost two more "
        "minutes of the half-hour budget)",
    )
    parser.add_argument("--profile-size", type=int, help="size of the profiled first sync (default: the largest)")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temporary one, removed)")
    parser.add_argument("--peers-dir", type=Path, default=REPO.parent / "shared" / "peers")
    parser.add_argument("--dlt-venv", type=Path, default=HERE / ".venv-dlt")
    parser.add_argument("--postgres-url", default=DEFAULT_SERVER, help="server for staffsync's PostgreSQL runs")
    parser.add_argument("--note", action="append", default=[], help="a note to keep with the results")
    parser.add_argument("--update-readme", action="store_true", help="put the table into the README files")
    parser.add_argument("--render", type=Path, help="only re-render the markdown of an existing results JSON")
    args = parser.parse_args(argv)
    args.sizes = sorted({int(size) for size in csv(args.sizes)})
    args.only = csv(args.only)
    args.databases = csv(args.databases)
    args.api_databases = csv(args.api_databases) if args.api_databases else [d for d in args.databases if d == "sqlite"]
    unknown = sorted(set(args.only) - set(PARTS)) + sorted(set(args.databases) - set(DATABASES))
    bad_dlt = args.dlt_repeat is not None and args.dlt_repeat < 1
    if unknown or args.repeat < 1 or bad_dlt or not args.sizes or min(args.sizes) < 1:
        parser.error(f"bad --only/--databases/--repeat/--sizes {unknown or ''}")
    return args


class Benchmark:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.cli = [str(Path(sys.executable).with_name("staffsync"))]
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("STAFFSYNC_")}
        self.skipped: dict[str, str] = {}
        self.failures: list[str] = []
        self.versions: dict[str, str | None] = {}
        self.postgres: PostgresServer | None = None
        self.contenders: list[Contender] = self._contenders()
        self.doc: dict[str, Any] = {}

    def _contenders(self) -> list[Contender]:
        args = self.args
        found: list[Contender] = []
        if "staffsync" in args.only:
            for database in args.databases:
                if database == "postgresql":
                    server = PostgresServer(args.postgres_url)
                    problem = server.reachable()
                    if problem:
                        self.skipped["staffsync-postgresql"] = f"PostgreSQL does not answer: {problem}"
                        continue
                    self.postgres = server
                    self.versions["postgresql"] = server.version()
                found.append(Staffsync(self.cli, database, self.postgres if database == "postgresql" else None))
        if "floor" in args.only:
            floor = find_floor(args.peers_dir)
            if floor.skipped:
                self.skipped["floor"] = floor.skipped
            else:
                assert floor.python and floor.path
                found.append(Floor(floor.python, floor.path))
        if "dlt" in args.only:
            dlt = find_dlt(args.peers_dir, args.dlt_venv)
            if dlt.skipped:
                self.skipped["dlt"] = dlt.skipped
            else:
                assert dlt.python and dlt.path
                self.versions["dlt"] = dlt_version(dlt.python)
                found.append(Dlt(dlt.python, dlt.path))
        return found

    def run(self) -> dict[str, Any]:
        args = self.args
        started = dt.datetime.now(dt.UTC)
        self.doc = {
            "schema": 1,
            "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
            "started_at": started.isoformat(timespec="seconds"),
            "machine": machine_facts(REPO),
            "versions": self.versions,
            "settings": {
                "sizes": args.sizes,
                "repeat": args.repeat,
                "dlt_repeat": min(args.dlt_repeat or args.repeat, args.repeat),
                "parts": args.only,
                "databases": args.databases,
                "seed": args.seed,
                "api_requests": args.api_requests,
                "change_percent": {step.value: share for step, share in CHANGE_PERCENT.items()},
            },
            "contenders": {c.key: c.label for c in self.contenders},
            "steps": {step.value: label for step, label in STEP_LABELS.items()},
            "skipped": self.skipped,
            "notes": list(args.note),
            "failures": self.failures,
            "sizes": {},
            "api_latency": [],
        }
        for size in args.sizes:
            self.doc["sizes"][str(size)] = self.run_size(size)
        finished = dt.datetime.now(dt.UTC)
        self.doc["finished_at"] = finished.isoformat(timespec="seconds")
        self.doc["duration_s"] = round((finished - started).total_seconds(), 1)
        self.doc["machine"]["load_average_at_end"] = load_average()
        self.doc["ratios"] = report.ratios(self.doc)
        self.doc["targets"] = report.targets(self.doc)
        return self.doc

    def run_size(self, size: int) -> dict[str, Any]:
        args = self.args
        started = time.perf_counter()
        entry: dict[str, Any] = {
            "load_average_at_start": load_average(),
            "people": None,
            "changed": {Step.HOURLY_1.value: [], Step.HOURLY_10.value: []},
            "steps": {},
        }
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for repetition in range(args.repeat):
            label = f"{size}_r{repetition + 1}"
            last = repetition == args.repeat - 1
            log(f"{size:,} people, repetition {repetition + 1}/{args.repeat}")
            with ExitStack() as stack:
                simulator = stack.enter_context(
                    running_simulator(
                        self.cli, size=size, seed=args.seed, workdir=self.workdir / label / "simulator", env=self.env
                    )
                )
                roster = simulator.roster()
                entry["people"] = roster.size
                setting = Setting(simulator, self.workdir / label, self.env, label)
                # Turn by turn, each contender goes first once: who runs right after a change is not always the same.
                running = [c for c in self.contenders if repetition < self.repetitions_of(c)]
                shift = repetition % max(1, len(running))
                order = running[shift:] + running[:shift]
                for contender in order:
                    stack.callback(contender.cleanup)
                    contender.prepare(setting)
                base = Expected(size=roster.size)
                self.step_all(order, Step.FIRST_FULL, base, samples)
                self.step_all(order, Step.FULL_RESYNC, base, samples)
                self.step_all(order, Step.CLI_BASELINE, base, samples)
                for step in (Step.HOURLY_1, Step.HOURLY_10):
                    changed = self.change(simulator, roster, step, seed=args.seed * 1000 + repetition)
                    entry["changed"][step.value].append(changed)
                    expected = Expected(size=roster.size, changed=changed)
                    if step == Step.HOURLY_10:
                        self.step_all(order, Step.DRY_RUN, expected, samples)
                    self.step_all(order, step, expected, samples)
                if last and "api" in args.only and size == (args.api_size or max(args.sizes)):
                    self.api(order, roster, size)
                if last and "profile" in args.only and size == (args.profile_size or max(args.sizes)):
                    first_syncs = [
                        sample["wall_s"]
                        for sample in samples.get(Step.FIRST_FULL.value, {}).get("staffsync-sqlite", [])
                        if "wall_s" in sample
                    ]
                    self.profile(setting, size, expected_s=min(first_syncs) if first_syncs else None)
        entry["steps"] = {
            step: {key: {"summary": report.summarise(found), "samples": found} for key, found in per_contender.items()}
            for step, per_contender in samples.items()
        }
        entry["load_average_at_end"] = load_average()
        entry["duration_s"] = round(time.perf_counter() - started, 1)
        return entry

    def repetitions_of(self, contender: Contender) -> int:
        if isinstance(contender, Dlt) and self.args.dlt_repeat is not None:
            return int(min(self.args.dlt_repeat, self.args.repeat))
        return int(self.args.repeat)

    def change(self, simulator: Simulator, roster: Roster, step: Step, *, seed: int) -> int:
        percent = CHANGE_PERCENT[step]
        clock = time.perf_counter()
        changed = simulator.change_share(roster, percent, seed=seed + int(percent * 10))
        log(f"  changed {changed:,} people ({percent:g} %) in {time.perf_counter() - clock:.1f} s")
        return changed

    def step_all(self, order: Sequence[Contender], step: Step, expected: Expected, samples: dict[str, Any]) -> None:
        for contender in order:
            command = contender.command(step)
            if command is None:
                continue
            what = f"{contender.label}: {STEP_LABELS[step]}"
            try:
                sample = measure(command, env=contender.env, cwd=contender.workdir, what=what)
            except StepFailed as error:
                self.failures.append(str(error))
                log(f"  FAILED {error}")
                samples.setdefault(step.value, {}).setdefault(contender.key, []).append({"error": str(error)})
                continue
            record = sample.as_dict()
            problems = contender.check(step, sample.output, expected)
            if problems:
                record["problems"] = problems
                self.failures.append(f"{what} at {expected.size:,}: {'; '.join(problems)}")
            if isinstance(contender, Staffsync) and "run_id" in sample.output:
                record["phases"] = contender.run_phases(str(sample.output["run_id"]))
            samples.setdefault(step.value, {}).setdefault(contender.key, []).append(record)
            flag = f"  PROBLEM {problems}" if problems else ""
            log(f"  {what:<48} {sample.wall_s:8.2f} s {sample.peak_rss_mib:6.0f} MiB{flag}")

    def api(self, order: Sequence[Contender], roster: Roster, size: int) -> None:
        # Real last names, most of which stay found: the hourly steps renamed at most a tenth of the people.
        names = list(roster.last_names[:: max(1, len(roster.last_names) // 100)])[:100]
        for contender in order:
            if not isinstance(contender, Staffsync) or contender.database not in self.args.api_databases:
                continue
            log(f"  API latency on {contender.label}, {self.args.api_requests} requests per endpoint")
            try:
                result = measure_api(contender, last_names=names, requests=self.args.api_requests)
            except StepFailed as error:
                self.failures.append(f"API latency on {contender.label}: {error}")
                log(f"  FAILED {error}")
                continue
            result["size"] = size
            self.doc["api_latency"].append(result)
            for name, found in result["endpoints"].items():
                log(f"    {name:<20} p50 {found['p50_ms']:7.1f} ms  p99 {found['p99_ms']:7.1f} ms")

    def profile(self, setting: Setting, size: int, *, expected_s: float | None) -> None:
        missing = pyinstrument_missing()
        if missing:
            self.skipped["profile"] = missing
            return
        log(f"  profiling one first full sync of {size:,} people (pyinstrument)")
        subject = Staffsync(self.cli, "sqlite")
        profiled = Setting(setting.simulator, setting.workdir / "profile", setting.env, f"{setting.label}_profile")
        try:
            subject.prepare(profiled)
            stem = f"{dt.date.today().isoformat()}-{machine_name()}-first-full-sync-{size}"
            found = profile_first_sync(
                subject, out_dir=self.args.results_dir / "profiles", stem=stem, expected_s=expected_s
            )
        except StepFailed as error:
            self.failures.append(f"profile: {error}")
            return
        finally:
            subject.cleanup()
        self.doc["profile"] = {"size": size, **found}


def results_stem(results_dir: Path) -> str:
    stem = f"{dt.date.today().isoformat()}-{machine_name()}"
    candidate, number = stem, 1
    while (results_dir / f"{candidate}.json").exists():
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def update_readme(path: Path, block: str) -> bool:
    """Replaces the text between the markers; a README without them is left alone."""
    if not path.exists():
        return False
    text = path.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    path.write_text(text[: start + len(README_START)] + "\n" + block + text[end:])
    return True


def write_outputs(doc: dict[str, Any], results_dir: Path, stem: str, *, readme: bool) -> str:
    doc["results"] = {"json": f"{stem}.json", "markdown": f"{stem}.md"}
    (results_dir / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
    table = report.markdown(doc, title=f"staffsync benchmark {stem}")
    (results_dir / f"{stem}.md").write_text(table)
    if readme:
        readmes = (
            (HERE / "README.md", f"results/{stem}.md", True),
            (REPO / "README.md", f"benchmarks/results/{stem}.md", False),
        )
        for path, link, all_sizes in readmes:
            if update_readme(path, report.readme_block(doc, results_link=link, all_sizes=all_sizes)):
                log(f"updated {path}")
    return table


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Stopped by Ctrl-C or SIGTERM, even when started in the background (where SIGINT starts ignored),
    # the run still stops its simulator and servers and drops its PostgreSQL databases; and the
    # processes it starts get the default handlers back, so `staffsync serve` stops on SIGINT.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    if args.render:
        doc = json.loads(args.render.read_text())
        print(write_outputs(doc, args.render.parent, args.render.stem, readme=args.update_readme))
        return 0
    args.results_dir.mkdir(parents=True, exist_ok=True)
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="staffsync-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    benchmark = Benchmark(args, workdir)
    for key, why in benchmark.skipped.items():
        log(f"skipping {key}: {why}")
    try:
        doc = benchmark.run()
    except KeyboardInterrupt:
        log("interrupted: the simulator, servers and benchmark databases are stopped and dropped; no results written")
        return 130
    finally:
        if benchmark.postgres is not None:
            benchmark.postgres.dispose()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    stem = results_stem(args.results_dir)
    table = write_outputs(doc, args.results_dir, stem, readme=args.update_readme)
    log(f"wrote {args.results_dir / stem}.json and .md in {doc['duration_s']:.0f} s")
    print(table)
    return 1 if doc["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
