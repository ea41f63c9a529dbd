"""One connected HR system: its remote state (a seeded `Population`), Kombo's mirror of it, and syncs.

The people are generated on first use, not when the integration is created, so a state can hold
integrations of 100,000 people that no test reads. Mutations go to the remote HR system; they reach
the API at the next sync: at once when the state's `auto_sync` is on, else when a `force-sync`
queued through the API comes due (after `sync_duration` on the simulator clock) or when the control
API runs a sync.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
from dataclasses import dataclass
from typing import Any, Final, Literal

from staffsync.simulators.kombo.ids import random_id
from staffsync.simulators.kombo.mirror import Mirror, SyncReport
from staffsync.simulators.kombo.render import Renderer
from staffsync.simulators.population import Person, Population, cycle_collector_paused, generate_population

SetupStatus = Literal["INCOMPLETE", "FINAL_SYNC_PENDING", "COMPLETED"]
SyncType = Literal["FULL", "DELTA"]
SETUP_STATUSES: Final = ("INCOMPLETE", "FINAL_SYNC_PENDING", "COMPLETED")


class Clock:
    """The simulator's time: the wall clock shifted by an offset, or frozen at one instant."""

    def __init__(self) -> None:
        self._offset = dt.timedelta()
        self._frozen: dt.datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._frozen or dt.datetime.now(dt.UTC) + self._offset

    def set(self, moment: dt.datetime, *, frozen: bool = False) -> None:
        if moment.utcoffset() is None:
            raise ValueError("the clock needs a timezone-aware instant")
        with self._lock:
            self._frozen = moment.astimezone(dt.UTC) if frozen else None
            self._offset = moment - dt.datetime.now(dt.UTC)

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._offset, self._frozen = dt.timedelta(), None


@dataclass(slots=True)
class SimulatorSettings:
    """Behaviour shared by every integration of a state; changed through `PUT /_control/settings`."""

    # Control mutations reach the mirror at once; off, they wait for a sync as at real Kombo.
    auto_sync: bool = True
    anonymise_after: dt.timedelta = dt.timedelta(days=14)
    # Kombo answers setup errors with 409 since 2026-05-19 (503 before); also used for INTEGRATION.INACTIVE.
    setup_error_status: int = 409
    sync_duration: dt.timedelta = dt.timedelta(seconds=5)
    cursor_lifetime: dt.timedelta | None = None
    connect_redirect_url: str | None = None
    # What the hosted connect flow creates: its size, and its state when filtering was not asked for.
    default_size: int = 200
    default_tool: str = "personio"
    initial_setup_status: SetupStatus = "COMPLETED"


@dataclass(slots=True)
class QueuedSync:
    id: str
    type: SyncType
    due: dt.datetime


class Integration:
    def __init__(
        self,
        *,
        id: str,
        tool: str,
        size: int,
        seed: int,
        setup_status: SetupStatus,
        organization_name: str,
        end_user_email: str | None,
        origin_id: str | None,
        filtering_enabled: bool,
        clock: Clock,
        settings: SimulatorSettings,
    ) -> None:
        self.id = id
        self.tool = tool
        self.size = size
        self.seed = seed
        self.setup_status: SetupStatus = setup_status
        self.organization_name = organization_name
        self.end_user_email = end_user_email
        self.origin_id = origin_id
        self.filtering_enabled = filtering_enabled
        self.enabled = True
        self.raw_enums = False
        self.created_at = clock.now()
        self.queued: dict[SyncType, QueuedSync] = {}
        self.last_sync: SyncReport | None = None
        self._clock = clock
        self._settings = settings
        self._population: Population | None = None
        self._mirror: Mirror | None = None
        if setup_status == "FINAL_SYNC_PENDING":
            self.start_final_sync()

    def _load(self) -> tuple[Population, Mirror]:
        if self._population is None or self._mirror is None:
            now = self._clock.now()
            self._population = generate_population(self.size, seed=self.seed, today=now.date())
            with cycle_collector_paused():
                self._mirror = Mirror(self.id, self._population, now=now)
        return self._population, self._mirror

    @property
    def population(self) -> Population:
        return self._load()[0]

    @property
    def mirror(self) -> Mirror:
        return self._load()[1]

    def renderer(self) -> Renderer:
        return Renderer(
            self.mirror, now=self._clock.now(), anonymise_after=self._settings.anonymise_after, raw_enums=self.raw_enums
        )

    # Syncs ---------------------------------------------------------------------------------------

    def sync(self, kind: SyncType = "FULL") -> SyncReport:
        population, mirror = self._load()
        self.last_sync = mirror.sync(population, now=self._clock.now(), full=kind == "FULL")
        if self.setup_status == "FINAL_SYNC_PENDING":
            self.setup_status = "COMPLETED"
        return self.last_sync

    def start_final_sync(self) -> None:
        """Kombo starts the sync that completes the setup by itself, as soon as the setup is confirmed."""
        self.setup_status = "FINAL_SYNC_PENDING"
        self.force_sync("FULL")

    def force_sync(self, kind: SyncType) -> tuple[QueuedSync, bool]:
        """Kombo queues at most one sync of each type; asking again returns the queued one."""
        self.run_due_syncs()
        queued = self.queued.get(kind)
        if queued is not None:
            return queued, True
        queued = QueuedSync(random_id(), kind, self._clock.now() + self._settings.sync_duration)
        self.queued[kind] = queued
        return queued, False

    def run_due_syncs(self) -> None:
        """Finishes the queued syncs whose time has come; a disabled integration's syncs stay paused."""
        if not self.enabled:
            return
        now = self._clock.now()
        for kind, queued in sorted(self.queued.items()):
            if queued.due <= now:
                del self.queued[kind]
                self.sync(kind)

    def _changed(self) -> None:
        if self._settings.auto_sync and self.enabled:
            self.sync("FULL")

    # Mutations of the remote HR system ---------------------------------------------------------------

    def resolve_person(self, reference: str) -> str:
        """The simulator id of a person named by Kombo id, simulator id (`emp_000001`) or remote id."""
        population, mirror = self._load()
        record = mirror.employees.get(reference)
        if record is not None:
            return record.person.id
        if reference in population.people:
            return reference
        for person in population:
            if person.remote_id == reference:
                return person.id
        raise KeyError(reference)

    def hire(self, **fields: Any) -> Person:
        population = self.population
        person = population.hire(now=self._clock.now(), **fields)
        self._changed()
        return person

    def change(self, reference: str, **fields: Any) -> Person:
        person = self.population.change(self.resolve_person(reference), now=self._clock.now(), **fields)
        self._changed()
        return person

    def terminate(self, reference: str, end_date: dt.date) -> Person:
        person = self.population.terminate(self.resolve_person(reference), end_date, now=self._clock.now())
        self._changed()
        return person

    def delete(self, reference: str) -> Person:
        person = self.population.delete(self.resolve_person(reference), now=self._clock.now())
        self._changed()
        return person

    def mass_delete(self, *, count: int | None = None, percent: float | None = None, seed: int = 0) -> list[str]:
        """Deletes `count` people, or `percent` % of those still present, drawn reproducibly from `seed`."""
        population = self.population
        present = sorted(person.id for person in population if not person.deleted)
        if (count is None) == (percent is None):
            raise ValueError("give either count or percent")
        wanted = count if count is not None else round(len(present) * (percent or 0.0) / 100)
        if not 0 <= wanted <= len(present):
            raise ValueError(f"cannot delete {wanted} of {len(present)} people")
        # B311 is a false positive here: a reproducible fake company.
        chosen = sorted(random.Random(seed).sample(present, wanted))  # nosec B311
        now = self._clock.now()
        for local_id in chosen:
            population.delete(local_id, now=now)
        self._changed()
        return chosen

    def summary(self) -> dict[str, Any]:
        loaded = self._mirror is not None
        mirror = self._mirror
        return {
            "id": self.id,
            "tool": self.tool,
            "size": self.size,
            "seed": self.seed,
            "setup_status": self.setup_status,
            "enabled": self.enabled,
            "raw_enums": self.raw_enums,
            "filtering_enabled": self.filtering_enabled,
            "organization_name": self.organization_name,
            "end_user_email": self.end_user_email,
            "origin_id": self.origin_id,
            "generated": loaded,
            "remote_people": len(self._population) if self._population is not None else None,
            "mirrored_employees": len(mirror.employees) if mirror is not None else None,
            "queued_syncs": [dataclasses.asdict(queued) for queued in self.queued.values()],
            "last_sync": self.last_sync.as_dict() if self.last_sync else None,
        }
