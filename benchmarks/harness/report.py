"""From samples to the results document: medians and ranges, ratios, growth, targets, and markdown."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.contenders import STEP_LABELS, Step

# Rows of the main table, in the order the issue asks the questions.
TABLE_STEPS = (Step.FIRST_FULL, Step.FULL_RESYNC, Step.HOURLY_1, Step.HOURLY_10, Step.DRY_RUN, Step.CLI_BASELINE)
STAFFSYNC = "staffsync-sqlite"
TARGET_SIZE = 100_000


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def summarise(samples: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    good = [s for s in samples if "error" not in s]
    if not good:
        return None
    return {
        "n": len(good),
        "wall_s": spread([s["wall_s"] for s in good]),
        "cpu_s": spread([s["cpu_s"] for s in good]),
        "peak_rss_mib": spread([s["peak_rss_mib"] for s in good]),
    }


def median_of(doc: Mapping[str, Any], size: int, step: Step, contender: str, measure: str = "wall_s") -> float | None:
    entry = doc["sizes"].get(str(size), {}).get("steps", {}).get(step.value, {}).get(contender)
    if not entry or not entry.get("summary"):
        return None
    return float(entry["summary"][measure]["median"])


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom == 0:
        return None
    return round(top / bottom, 2)


def ratios(doc: Mapping[str, Any]) -> dict[str, dict[str, dict[str, float | None]]]:
    """staffsync (SQLite) over the floor, and dlt over staffsync, per size and step: all three write SQLite."""
    found: dict[str, dict[str, dict[str, float | None]]] = {}
    for size in doc["settings"]["sizes"]:
        per_step: dict[str, dict[str, float | None]] = {}
        for step in (Step.FIRST_FULL, Step.FULL_RESYNC, Step.HOURLY_1, Step.HOURLY_10):
            ours = median_of(doc, size, step, STAFFSYNC)
            our_cpu = median_of(doc, size, step, STAFFSYNC, "cpu_s")
            per_step[step.value] = {
                "staffsync_over_floor": _ratio(ours, median_of(doc, size, step, "floor")),
                "dlt_over_staffsync": _ratio(median_of(doc, size, step, "dlt"), ours),
                # CPU seconds of the process alone: steadier than wall time on a busy machine, but blind
                # to the time spent waiting for the source (the simulator's CPU is not in it).
                "cpu_staffsync_over_floor": _ratio(our_cpu, median_of(doc, size, step, "floor", "cpu_s")),
                "cpu_dlt_over_staffsync": _ratio(median_of(doc, size, step, "dlt", "cpu_s"), our_cpu),
            }
        found[str(size)] = per_step
    return found


def targets(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals, judged at the largest size measured (they are set for 100,000 people)."""
    sizes = sorted(doc["settings"]["sizes"])
    if not sizes:
        return []
    largest = sizes[-1]
    rows: list[dict[str, Any]] = []

    def add(target: str, value: float | None, met: bool | None, shown: str, at: str) -> None:
        rows.append({"target": target, "value": value, "met": met, "measured": shown, "at": at})

    at = f"{largest:,}"
    ours = median_of(doc, largest, Step.FIRST_FULL, STAFFSYNC)
    first = _ratio(ours, median_of(doc, largest, Step.FIRST_FULL, "floor"))
    add("first full sync ≤ 1.5× floor", first, None if first is None else first <= 1.5, _times(first), at)
    dlt = _ratio(median_of(doc, largest, Step.FIRST_FULL, "dlt"), ours)
    add("first full sync ≥ 5× faster than dlt (dlt/staffsync)", dlt, None if dlt is None else dlt >= 5, _times(dlt), at)
    hourly = _ratio(median_of(doc, largest, Step.HOURLY_1, STAFFSYNC), median_of(doc, largest, Step.HOURLY_1, "floor"))
    met = None if hourly is None else hourly <= 2
    add("hourly sync (1 %) ≤ 2× floor's incremental", hourly, met, _times(hourly), at)
    peaks = [
        (value, step)
        for step in TABLE_STEPS
        if step != Step.CLI_BASELINE and (value := median_of(doc, largest, step, STAFFSYNC, "peak_rss_mib")) is not None
    ]
    if peaks:
        peak, step = max(peaks)
        add("peak RSS ≤ 120 MiB", peak, peak <= 120, f"{peak:.0f} MiB ({STEP_LABELS[step]})", at)
    if len(sizes) >= 2:
        low, high = (10_000, TARGET_SIZE) if {10_000, TARGET_SIZE} <= set(sizes) else (sizes[-2], largest)
        before = median_of(doc, low, Step.FIRST_FULL, STAFFSYNC, "peak_rss_mib")
        after = median_of(doc, high, Step.FIRST_FULL, STAFFSYNC, "peak_rss_mib")
        growth = None if before is None or after is None else round(after / before - 1, 3)
        shown = "n/a" if growth is None else f"{growth:+.0%} ({before:.0f} → {after:.0f} MiB)"
        add(
            "peak RSS grows < 20 % from 10k to 100k",
            growth,
            None if growth is None else growth < 0.2,
            shown,
            f"{low:,} → {high:,}",
        )
    searches = [
        (run["endpoints"]["search_last_name"]["p99_ms"], run["database"])
        for run in doc.get("api_latency", [])
        if "search_last_name" in run.get("endpoints", {})
    ]
    if searches:
        worst, database = max(searches)
        add(
            "search p99 ≤ 50 ms",
            worst,
            worst <= 50,
            f"{worst:.1f} ms ({database})",
            f"{doc['api_latency'][0]['size']:,}",
        )
    return rows


def _times(value: float | None, word: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}×" + (f" {word}" if word else "")


def seconds(value: float) -> str:
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def cell(summary: Mapping[str, Any] | None) -> str:
    if not summary:
        return "—"
    wall, rss = summary["wall_s"], summary["peak_rss_mib"]
    text = f"{seconds(wall['median'])} s"
    if summary["n"] > 1:
        text += f" ({seconds(wall['min'])}–{seconds(wall['max'])})"
    return f"{text} · {rss['median']:.0f} MiB"


def size_table(doc: Mapping[str, Any], size: int, *, cpu: bool = False) -> list[str]:
    """Wall time (median, min–max) and peak RSS per step and contender; with `cpu`, the CPU seconds."""
    entry = doc["sizes"][str(size)]
    columns = [key for key in doc["contenders"] if any(key in entry["steps"].get(s.value, {}) for s in TABLE_STEPS)]
    labels = [doc["contenders"][key] for key in columns]
    found_ratios = doc.get("ratios", {}).get(str(size), {})
    prefix = "cpu_" if cpu else ""
    title = f"{size:,} people, CPU s" if cpu else f"{size:,} people"
    lines = [
        f"| {title} | " + " | ".join(labels) + " | staffsync/floor | dlt/staffsync |",
        "|---|" + "---|" * (len(columns) + 2),
    ]
    for step in TABLE_STEPS:
        row = entry["steps"].get(step.value, {})
        if not row:
            continue
        if cpu:
            cells = [
                seconds(summary["cpu_s"]["median"]) if (summary := row.get(key, {}).get("summary")) else "—"
                for key in columns
            ]
        else:
            cells = [cell(row.get(key, {}).get("summary")) for key in columns]
        pair = found_ratios.get(step.value, {})
        lines.append(
            f"| {STEP_LABELS[step]} | "
            + " | ".join(cells)
            + f" | {_times(pair.get(prefix + 'staffsync_over_floor'))}"
            + f" | {_times(pair.get(prefix + 'dlt_over_staffsync'))} |"
        )
    return lines


def growth_table(doc: Mapping[str, Any]) -> list[str]:
    """Time per 1,000 people (flat when time grows linearly) and peak RSS (flat when memory does not grow)."""
    sizes = sorted(doc["settings"]["sizes"])
    if len(sizes) < 2:
        return []
    header = " / ".join(f"{size:,}" for size in sizes)
    lines = [
        f"| contender, step | s per 1,000 people at {header} people | peak RSS MiB at {header} people |",
        "|---|---|---|",
    ]
    for key, label in doc["contenders"].items():
        for step in (Step.FIRST_FULL, Step.HOURLY_1):
            per_k = [median_of(doc, size, step, key) for size in sizes]
            rss = [median_of(doc, size, step, key, "peak_rss_mib") for size in sizes]
            if all(v is None for v in per_k):
                continue
            pairs = zip(per_k, sizes, strict=True)
            per_thousand = " / ".join("—" if v is None else f"{v / size * 1000:.3f}" for v, size in pairs)
            memory = " / ".join("—" if v is None else f"{v:.0f}" for v in rss)
            lines.append(f"| {label}, {STEP_LABELS[step]} | {per_thousand} | {memory} |")
    return lines


PHASES = ("fetch_and_plan_s", "finish_plan_s", "apply_s")


def phases_table(doc: Mapping[str, Any], size: int) -> list[str]:
    """staffsync's wall time split into the engine's own phases (recorded on each run) and the rest:
    process start, imports, opening the database, printing."""
    entry = doc["sizes"].get(str(size), {}).get("steps", {})
    lines = [
        "| step | contender | wall s | fetch + plan s | finish plan s | apply s | outside the engine s | fetched |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for step in TABLE_STEPS:
        for key, label in doc["contenders"].items():
            samples = [s for s in entry.get(step.value, {}).get(key, {}).get("samples", []) if "phases" in s]
            if not key.startswith("staffsync") or not samples:
                continue
            wall = statistics.median(s["wall_s"] for s in samples)
            parts = [statistics.median(s["phases"].get(name, 0.0) for s in samples) for name in PHASES]
            fetched = statistics.median(s["output"]["counts"]["fetched"] for s in samples)
            lines.append(
                f"| {STEP_LABELS[step]} | {label} | {seconds(wall)} | "
                + " | ".join(seconds(part) for part in parts)
                + f" | {seconds(max(0.0, wall - sum(parts)))} | {fetched:,.0f} |"
            )
    return lines if len(lines) > 2 else []


def targets_table(doc: Mapping[str, Any]) -> list[str]:
    rows = doc.get("targets", [])
    if not rows:
        return []
    lines = ["| target (set for 100,000 people) | measured | at | met |", "|---|---|---|---|"]
    for row in rows:
        met = "—" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| {row['target']} | {row['measured']} | {row['at']} | {met} |")
    return lines


def api_table(doc: Mapping[str, Any]) -> list[str]:
    runs = doc.get("api_latency", [])
    if not runs:
        return []
    lines = [
        "| endpoint | database | p50 ms | p99 ms | mean ms | max ms | requests | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for name, result in run["endpoints"].items():
            lines.append(
                f"| {name} | {run['database']} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | "
                f"{result['mean_ms']:.1f} | {result['max_ms']:.1f} | {result['requests']} | {result['errors']} |"
            )
    return lines


def markdown(doc: Mapping[str, Any], *, title: str) -> str:
    machine = doc["machine"]
    settings = doc["settings"]
    out = [
        f"# {title}",
        "",
        f"`{doc['command']}`",
        "",
        f"{machine['cpu_count']} CPUs ({machine['cpu_model']}), {machine['memory_mib']} MiB, "
        f"Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"PostgreSQL {doc['versions'].get('postgresql') or 'not run'}, dlt {doc['versions'].get('dlt') or 'not run'}; "
        f"commit {str(machine['git_commit'])[:10]} "
        f"({machine['git_uncommitted_files']} uncommitted files); load average at start "
        f"{machine['load_average_at_start']}; {settings['repeat']} repetition(s) per step"
        + (
            f" ({settings['dlt_repeat']} for dlt)"
            if settings.get("dlt_repeat", settings["repeat"]) != settings["repeat"]
            else ""
        )
        + ", each a fresh process. "
        "Cells: median wall time (min–max) · median peak RSS.",
        "",
    ]
    for size in settings["sizes"]:
        if str(size) in doc["sizes"]:
            out += [*size_table(doc, size), ""]
    out += [
        "CPU time (user + system) of each process, medians: steadier than wall time on a busy machine, "
        "but it leaves out the time spent waiting for the source.",
        "",
    ]
    for size in settings["sizes"]:
        if str(size) in doc["sizes"]:
            out += [*size_table(doc, size, cpu=True), ""]
    largest = max(int(size) for size in doc["sizes"]) if doc["sizes"] else 0
    for heading, lines in (
        (f"Where staffsync's time goes at {largest:,} people (medians)", phases_table(doc, largest)),
        ("Growth", growth_table(doc)),
        ("Targets", targets_table(doc)),
        (f"API latency at {doc['api_latency'][0]['size']:,} people" if doc.get("api_latency") else "", api_table(doc)),
    ):
        if lines:
            out += [f"## {heading}", "", *lines, ""]
    profile = doc.get("profile")
    if profile and "self_time_top" in profile:
        out += [f"## Profile of one first full sync at {profile['size']:,} people", ""]
        out.append(f"[{profile['html']}](profiles/{profile['html']}); functions by time of their own:")
        out.append("")
        for spot in profile["self_time_top"][:5]:
            out.append(
                f"- `{spot['function']}` ({spot['file']}:{spot['line']}): {spot['self_s']:.2f} s, "
                f"{spot['self_share']:.0%}"
            )
        out.append("")
    if doc.get("notes") or doc.get("skipped") or doc.get("failures"):
        out += ["## Notes", ""]
        out += [f"- {note}" for note in doc.get("notes", [])]
        out += [f"- {key} skipped: {why}" for key, why in doc.get("skipped", {}).items()]
        out += [f"- failed: {failure}" for failure in doc.get("failures", [])]
        out.append("")
    return "\n".join(out)


def readme_block(doc: Mapping[str, Any], *, results_link: str, all_sizes: bool = True) -> str:
    """The short form for README files: the tables (or only the largest size's), the targets, and a
    link to the rest."""
    sizes = [size for size in doc["settings"]["sizes"] if str(size) in doc["sizes"]]
    if not all_sizes:
        sizes = sizes[-1:]
    lines = [
        f"Latest run: [{results_link.rsplit('/', 1)[-1]}]({results_link}) "
        f"({doc['machine']['cpu_count']} CPUs, {doc['settings']['repeat']} repetitions, median (min–max) · peak RSS).",
        "",
    ]
    for size in sizes:
        lines += [*size_table(doc, size), ""]
    lines += targets_table(doc)
    return "\n".join(lines).rstrip() + "\n"
