"""A pyinstrument profile of one staffsync first full sync, kept as an HTML and a text artifact, with
the functions that took the most time of their own."""

from __future__ import annotations

import pstats
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.contenders import Staffsync
from harness.measure import StepFailed, run_process, tail

HOTSPOTS = 10
SAMPLES = 2000


def pyinstrument_missing() -> str | None:
    found = subprocess.run([sys.executable, "-m", "pyinstrument", "--version"], capture_output=True, text=True)
    if found.returncode == 0:
        return None
    return f"pyinstrument is not installed in {sys.executable}'s environment (pip install pyinstrument)"


def sampling_interval(expected_s: float | None) -> float:
    """About SAMPLES stack samples whatever the run's length: the HTML report grows with every sample
    (some 600 bytes each), and a few thousand already place a hotspot to a fraction of a per cent."""
    if not expected_s:
        return 0.001
    return min(0.1, max(0.001, expected_s / SAMPLES))


def profile_first_sync(
    staffsync: Staffsync, *, out_dir: Path, stem: str, expected_s: float | None = None
) -> dict[str, Any]:
    """Profiles `sync --full` of a freshly prepared (never synced) staffsync state; `expected_s` (the
    measured first sync) sets the sampling interval."""
    out_dir.mkdir(parents=True, exist_ok=True)
    session = staffsync.workdir / f"{stem}.pyisession"
    command = staffsync.command_first_full()
    interval = sampling_interval(expected_s)
    finished = run_process(
        [
            *(sys.executable, "-m", "pyinstrument", "--interval", f"{interval:.4f}"),
            *("-r", "pyisession", "-o", str(session), *command),
        ],
        env=staffsync.env,
        cwd=staffsync.workdir,
    )
    if finished.returncode != 0:
        raise StepFailed(f"the profiled sync failed: {tail(finished.stderr)}")
    html, text, stats = out_dir / f"{stem}.html", out_dir / f"{stem}.txt", staffsync.workdir / f"{stem}.pstats"
    for renderer, target in (("html", html), ("text", text), ("pstats", stats)):
        rendered = run_process(
            [sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", renderer, "-o", str(target)],
            env=staffsync.env,
            cwd=staffsync.workdir,
        )
        if rendered.returncode != 0:
            raise StepFailed(f"pyinstrument could not render {renderer}: {tail(rendered.stderr)}")
    return {
        "wall_s_profiled": round(finished.wall_s, 3),
        "sampling_interval_s": interval,
        "html": html.name,
        "text": text.name,
        "self_time_top": self_time_hotspots(stats),
    }


def self_time_hotspots(stats_file: Path, limit: int = HOTSPOTS) -> list[dict[str, Any]]:
    """The functions with the most time of their own (not counting callees): where the CPU actually went."""
    stats = pstats.Stats(str(stats_file))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values()) or 1.0
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    return [
        {
            "function": name,
            "file": _short(file),
            "line": line,
            "self_s": round(entry[2], 3),
            "self_share": round(entry[2] / total, 3),
        }
        for (file, line, name), entry in ranked
    ]


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path
