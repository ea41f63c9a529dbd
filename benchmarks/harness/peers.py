"""Finding the peer programs (they live outside this repository, in the shared peers folder) and the
separate virtual environment dlt runs in, so its dependencies never touch staffsync's."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.measure import tail

FLOOR_SCRIPT = "floor_kombo_sqlite.py"
DLT_SCRIPT = "dlt_kombo_sqlite.py"
DLT_REQUIREMENTS = ("dlt[sqlalchemy]", "httpx")


@dataclass(frozen=True, slots=True)
class Found:
    """A usable peer (`path` and the `python` to run it with), or why it is skipped."""

    path: Path | None = None
    python: str | None = None
    skipped: str | None = None


def find_floor(peers_dir: Path) -> Found:
    script = peers_dir / FLOOR_SCRIPT
    if not script.is_file():
        return Found(skipped=f"the floor program {script} does not exist (set --peers-dir)")
    # The floor needs only httpx, which staffsync's own environment has.
    return Found(path=script, python=sys.executable)


def find_dlt(peers_dir: Path, venv: Path) -> Found:
    script = peers_dir / DLT_SCRIPT
    if not script.is_file():
        return Found(skipped=f"the dlt program {script} does not exist (set --peers-dir)")
    python = venv / "bin" / "python"
    if python.exists() and _imports(python):
        return Found(path=script, python=str(python))
    problem = _install(venv)
    if problem is not None:
        return Found(skipped=f"dlt could not be installed into {venv}: {problem}")
    return Found(path=script, python=str(python))


def _imports(python: Path) -> bool:
    try:
        found = subprocess.run([str(python), "-c", "import dlt, httpx"], capture_output=True, timeout=120)
        return found.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _install(venv: Path) -> str | None:
    print(f"[bench] installing {', '.join(DLT_REQUIREMENTS)} into {venv} (once)", file=sys.stderr, flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *DLT_REQUIREMENTS],
    ]
    for command in steps:
        try:
            finished = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{type(error).__name__}: {error}"
        if finished.returncode != 0:
            return tail(finished.stderr or finished.stdout, 3)
    if not _imports(venv / "bin" / "python"):
        return "dlt does not import after the install"
    return None
