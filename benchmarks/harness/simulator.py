"""The Kombo simulator as the benchmark uses it: `staffsync kombo-sim` in a process of its own, its
roster read once over the Kombo API, and shares of people changed through `/_control`.

Changes are held back (`auto_sync` off) and published with one simulator sync, as Kombo's own sync
would: otherwise every single change re-syncs the whole mirror, which at 100,000 people costs more
than the benchmark itself.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT_S = 300.0
PAGE_SIZE = 250


@dataclass(frozen=True, slots=True)
class Roster:
    """What the benchmark needs to know of the people: who may change without touching others (people
    nobody reports to: a manager's new name moves every report's record too), and real last names.
    `last_name_of` follows the changes the benchmark makes, so a new name always differs from the old."""

    size: int
    changeable: tuple[str, ...]
    last_names: tuple[str, ...]
    last_name_of: dict[str, str]


@dataclass(frozen=True, slots=True)
class Simulator:
    base_url: str
    api_key: str
    integration_id: str
    control_url: str
    process: subprocess.Popen[bytes]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "X-Integration-Id": self.integration_id}

    def roster(self) -> Roster:
        ids: list[str] = []
        managers: set[str] = set()
        last_name_of: dict[str, str] = {}
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60) as client:
            cursor: str | None = None
            while True:
                params: dict[str, str | int] = {"page_size": PAGE_SIZE}
                if cursor:
                    params["cursor"] = cursor
                response = client.get("/hris/employees", params=params)
                response.raise_for_status()
                data = response.json()["data"]
                for record in data["results"]:
                    ids.append(record["id"])
                    if record.get("manager_id"):
                        managers.add(record["manager_id"])
                    last_name_of[record["id"]] = record.get("last_name") or ""
                cursor = data.get("next")
                if not cursor:
                    break
        return Roster(
            size=len(ids),
            changeable=tuple(sorted(set(ids) - managers)),
            last_names=tuple(sorted({name for name in last_name_of.values() if name})),
            last_name_of=last_name_of,
        )

    def hold_changes(self) -> None:
        with httpx.Client(base_url=self.control_url, timeout=60) as client:
            client.put("/settings", json={"auto_sync": False}).raise_for_status()

    def change_share(self, roster: Roster, percent: float, *, seed: int) -> int:
        """Gives `percent` % of the people a new last name (a continuously synced field), then publishes
        them in one simulator sync; returns how many records the simulator reports changed."""
        rng = random.Random(seed)
        wanted = max(1, round(roster.size * percent / 100))
        chosen = rng.sample(roster.changeable, min(wanted, len(roster.changeable)))
        changes = []
        for employee_id in chosen:
            current = roster.last_name_of[employee_id]
            name = rng.choice(roster.last_names)
            if name == current:
                name = f"{current}-Moreau"
            changes.append({"employee": employee_id, "last_name": name})
            roster.last_name_of[employee_id] = name
        with httpx.Client(base_url=self.control_url, timeout=300) as client:
            # One request for all of them: one per person took half a minute at 10 % of 100,000.
            client.post(
                f"/integrations/{self.integration_id}/employees/change", json={"changes": changes}
            ).raise_for_status()
            report = client.post(f"/integrations/{self.integration_id}/sync", json={"type": "FULL"})
            report.raise_for_status()
        changed = report.json().get("changed", 0)
        return int(changed)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_simulator(
    staffsync: Sequence[str], *, size: int, seed: int, workdir: Path, env: Mapping[str, str]
) -> Iterator[Simulator]:
    """Starts `staffsync kombo-sim` on a free port of 127.0.0.1 and waits for the details it prints."""
    workdir.mkdir(parents=True, exist_ok=True)
    out_path = workdir / "kombo-sim.out"
    err_path = workdir / "kombo-sim.err"
    # stdout to a file: uvicorn writes its access log there, and an undrained pipe would stall the server.
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [*staffsync, "kombo-sim", "--port", "0", "--employees", str(size), "--seed", str(seed), "--json"],
            stdout=out,
            stderr=err,
            env=dict(env),
            cwd=workdir,
        )
    simulator: Simulator | None = None
    try:
        details = _wait_for_details(process, out_path, err_path)
        simulator = Simulator(
            base_url=details["base_url"],
            api_key=details["api_key"],
            integration_id=details["integration_id"],
            control_url=details["control_url"],
            process=process,
        )
        _wait_until_answering(simulator)
        simulator.hold_changes()
        yield simulator
    finally:
        if simulator is not None:
            simulator.stop()
        elif process.poll() is None:
            process.kill()
            process.wait()


def _wait_for_details(process: subprocess.Popen[bytes], out_path: Path, err_path: Path) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    decoder = json.JSONDecoder()
    while time.monotonic() < deadline:
        text = out_path.read_text(errors="replace")
        start = text.find("{")
        if start >= 0:
            try:
                details, _ = decoder.raw_decode(text[start:])
            except ValueError:
                details = None
            if isinstance(details, dict):
                return details
        if process.poll() is not None:
            raise RuntimeError(f"the Kombo simulator exited: {err_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError("the Kombo simulator printed no details in time")


def _wait_until_answering(simulator: Simulator) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{simulator.control_url}/state", timeout=5).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
