"""One measured step: a fresh process, its wall time, CPU time and peak resident memory.

Peak RSS and CPU time are the kernel's accounting of that one process (`wait4`'s rusage), read by
`/usr/bin/time` or, where it is missing, by `launcher.py`. Never by the harness itself: Linux carries a
parent's high-water RSS into a child across fork and exec, so a child spawned straight from this
(large) Python process would report at least the harness's own peak.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MIB = 1024 * 1024
GNU_TIME = Path("/usr/bin/time")
LAUNCHER = Path(__file__).with_name("launcher.py")


@dataclass(frozen=True, slots=True)
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    output: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "output": self.output,
        }


class StepFailed(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str


def spawn(
    command: Sequence[str], *, usage: Path, env: Mapping[str, str], cwd: Path, stdout: IO[bytes], stderr: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Starts `command` under the usage reader, in a process group of its own: `stop` reaches both."""
    return subprocess.Popen(
        _wrapped(command, usage), stdout=stdout, stderr=stderr, env=dict(env), cwd=cwd, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signals the whole group: killing only the usage reader would leave the command running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _wrapped(command: Sequence[str], usage: Path) -> list[str]:
    """`command` run under a small process that reaps it and writes "maxrss_kib user_s system_s"."""
    if GNU_TIME.exists():
        return [str(GNU_TIME), "-f", "%M %U %S", "-o", str(usage), *command]
    return [sys.executable, "-S", str(LAUNCHER), str(usage), *command]


def read_usage(path: Path) -> tuple[float, float]:
    """(peak RSS MiB, CPU s) from the last line: GNU time puts "Command exited with …" lines before it."""
    try:
        maxrss_kib, user, system = path.read_text().strip().splitlines()[-1].split()
        return int(maxrss_kib) * 1024 / MIB, float(user) + float(system)
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0


def run_process(command: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout_s: float = 3600.0) -> Finished:
    """Runs `command` to its end in a new process; output goes through files, so a chatty child can
    never block on a full pipe. Interrupted (Ctrl-C, SIGTERM), the child is stopped too."""
    with tempfile.TemporaryDirectory(prefix="bench-step-") as scratch:
        usage = Path(scratch) / "usage"
        out_path, err_path = Path(scratch) / "out", Path(scratch) / "err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            process = spawn(command, usage=usage, env=env, cwd=cwd, stdout=out, stderr=err)
            try:
                returncode = process.wait(timeout=timeout_s)
            except BaseException:
                stop(process)
                process.wait()
                raise
            wall = time.perf_counter() - started
        peak_rss, cpu = read_usage(usage)
        return Finished(
            returncode=returncode,
            wall_s=wall,
            cpu_s=cpu,
            peak_rss_mib=peak_rss,
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
        )


def measure(command: Sequence[str], *, env: Mapping[str, str], cwd: Path, what: str) -> Sample:
    """A measured step must succeed and print one JSON document: a failed or silent step measures nothing."""
    finished = run_process(command, env=env, cwd=cwd)
    if finished.returncode != 0:
        raise StepFailed(f"{what} exited with {finished.returncode}: {tail(finished.stderr or finished.stdout)}")
    return Sample(finished.wall_s, finished.cpu_s, finished.peak_rss_mib, last_json(finished.stdout, what=what))


def last_json(text: str, *, what: str) -> dict[str, Any]:
    """The document a tool printed: the whole of stdout, or else its last line that is a JSON object
    (libraries may print their own lines before it)."""
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        return whole
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                continue
            if isinstance(found, dict):
                return found
    raise StepFailed(f"{what} printed no JSON result: {tail(text)}")


def tail(text: str, lines: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"
