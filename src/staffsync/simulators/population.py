"""A seeded, vendor-neutral population: the people of a fictional multinational company.

Provider simulators render these people in their own wire format; nothing here knows any provider.
The same size, seed and `today` always give the same people, so tests and benchmarks can rely on
them. Generation is linear and draws every random number from one `random.Random`, because the demo
and the benchmarks create 100,000 people and must stay reproducible.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import itertools
import random
from collections.abc import Iterator
from typing import Any

from staffsync.simulators.people import (
    EMPLOYMENT_STATUSES,
    EMPLOYMENT_TYPES,
    Group,
    LegalEntity,
    Person,
    PostalAddress,
    WorkLocation,
    email_slug,
    person_id,
)
from staffsync.simulators.workforce import EXTRA_TEAM_SHARE, PeopleFactory, Role, Team, organise, pick

# The records are part of this module's interface: callers import everything from one place.
__all__ = [
    "EMPLOYMENT_STATUSES",
    "EMPLOYMENT_TYPES",
    "Group",
    "LegalEntity",
    "Person",
    "Population",
    "PostalAddress",
    "WorkLocation",
    "email_slug",
    "generate_population",
    "person_id",
]

_CHANGEABLE = frozenset(f.name for f in dataclasses.fields(Person)) - {"id", "updated_at", "deleted_at"}


def generate_population(size: int, *, seed: int = 0, today: dt.date, domain: str = "acme.example") -> Population:
    """`size` people: a CEO, one head per department, one lead per team, and their reports."""
    if size < 0:
        raise ValueError("a population cannot have a negative size")
    with cycle_collector_paused():
        # B311 is a false positive here: reproducible fakes.
        return _generate(size, random.Random(seed), today=today, domain=domain)  # nosec B311


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """People (and the simulator's mirrored records) hold no reference cycles, yet the cycle collector
    rescans them again and again while 100,000 are created: a quarter to a half of the time. Reference
    counting still frees everything; the collector resumes (if it was on) as soon as they exist."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _generate(size: int, rng: random.Random, *, today: dt.date, domain: str) -> Population:
    factory = PeopleFactory(rng, today=today, domain=domain, size=size)
    teams = organise(size)
    people: dict[str, Person] = {}
    leads: dict[str, str] = {}
    heads: dict[str | None, str] = {}
    for index, team in enumerate(teams[:size]):
        number = index + 1
        if index == 0:
            role: Role = "ceo"
            manager_id = None
        elif team.led_by_head:
            role, manager_id = "head", person_id(1)
        else:
            role, manager_id = "lead", heads[team.group.parent_id]
        person = factory.person(number, team, role, manager_id)
        people[person.id] = person
        leads[team.group.id] = person.id
        if team.led_by_head:
            heads[team.group.parent_id] = person.id
    teams_of_department: dict[str | None, list[str]] = {}
    for team in teams:
        teams_of_department.setdefault(team.group.parent_id, []).append(team.group.id)
    rnd = rng.random
    members = rng.choices(teams, cum_weights=list(itertools.accumulate(t.weight for t in teams)), k=size - len(people))
    for number, team in enumerate(members, start=len(people) + 1):
        extra: tuple[str, ...] = ()
        siblings = teams_of_department[team.group.parent_id]
        if len(siblings) > 1 and rnd() < EXTRA_TEAM_SHARE:
            other = pick(siblings, rng.getrandbits)
            extra = (other,) if other != team.group.id else ()
        person = factory.person(number, team, "member", leads[team.group.id], extra)
        people[person.id] = person
    return Population(factory=factory, teams=teams, people=people, leads=leads, today=today)


def _utc(now: dt.datetime) -> dt.datetime:
    if now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware: updated_at is compared across time zones")
    return now.astimezone(dt.UTC)


class Population:
    """The company at one moment. Mutations replace a person's record and bump its `updated_at`."""

    def __init__(
        self,
        *,
        factory: PeopleFactory,
        teams: list[Team],
        people: dict[str, Person],
        leads: dict[str, str],
        today: dt.date,
    ) -> None:
        self._factory = factory
        self._team_specs = teams
        self._team_by_id = {team.group.id: team for team in teams}
        self._team_cumulative = list(itertools.accumulate(team.weight for team in teams))
        self._leads = leads
        self._next_number = len(people) + 1
        self.people = people
        self.today = today
        self.legal_entities = tuple(locale.entity for locale in factory.locales)
        self.locations = tuple(office.location for locale in factory.locales for office in locale.offices)
        self.departments = tuple(
            {
                team.group.parent_id: Group(team.group.parent_id, team.department.name, "department")
                for team in teams
                if team.group.parent_id
            }.values()
        )
        self.teams = tuple(team.group for team in teams)
        self.groups = self.departments + self.teams
        self.group_names = {group.id: group.name for group in self.groups}
        self._groups = {group.id: group for group in self.groups}
        self._entities = {entity.id: entity for entity in self.legal_entities}
        self._locations = {location.id: location for location in self.locations}

    def __len__(self) -> int:
        return len(self.people)

    def __iter__(self) -> Iterator[Person]:
        return iter(self.people.values())

    def get(self, person_id: str) -> Person:
        return self.people[person_id]

    def group(self, group_id: str) -> Group:
        return self._groups[group_id]

    def legal_entity(self, entity_id: str) -> LegalEntity:
        return self._entities[entity_id]

    def location(self, location_id: str) -> WorkLocation:
        return self._locations[location_id]

    def lead_of(self, team_id: str) -> str | None:
        return self._leads.get(team_id)

    def hire(
        self,
        *,
        now: dt.datetime,
        start_date: dt.date | None = None,
        team_id: str | None = None,
        **fields: Any,
    ) -> Person:
        """A new permanent member of `team_id` (else a team drawn like the others), reporting to its lead.

        Pending until `start_date` (default: two weeks after `now`); `fields` override anything drawn.
        """
        now = _utc(now)
        self._check_changeable(fields)
        if team_id is None:
            team = self._factory.rng.choices(self._team_specs, cum_weights=self._team_cumulative)[0]
        else:
            team = self._team_by_id[team_id]
        start = start_date or now.date() + dt.timedelta(days=14)
        drawn = self._factory.person(self._next_number, team, "member", self._leads.get(team.group.id))
        self._next_number += 1
        defaults: dict[str, Any] = {
            "employment_type": "permanent",
            "employment_status": "pending" if start > now.date() else "active",
            "start_date": start,
            "end_date": None,
        }
        if "work_email" not in fields and ("first_name" in fields or "last_name" in fields):
            first, last = fields.get("first_name", drawn.first_name), fields.get("last_name", drawn.last_name)
            defaults["work_email"] = self._factory.work_email(first or "", last or "")
        person = dataclasses.replace(drawn, updated_at=now, **{**defaults, **fields})
        self._factory.claim_email(person.work_email)
        self.people[person.id] = person
        return person

    def change(self, person_id: str, *, now: dt.datetime, **fields: Any) -> Person:
        self._check_changeable(fields)
        person = dataclasses.replace(self.people[person_id], updated_at=_utc(now), **fields)
        self._factory.claim_email(person.work_email)
        self.people[person_id] = person
        return person

    def terminate(self, person_id: str, end_date: dt.date, *, now: dt.datetime) -> Person:
        """Sets the last day; a last day already past makes the person inactive at once."""
        current = self.people[person_id]
        status = "inactive" if end_date < _utc(now).date() else current.employment_status
        return self.change(person_id, now=now, end_date=end_date, employment_status=status)

    def delete(self, person_id: str, *, now: dt.datetime) -> Person:
        """Marks the record deleted in the source; it stays, as HR systems keep tombstones."""
        now = _utc(now)
        person = dataclasses.replace(self.people[person_id], deleted_at=now, updated_at=now)
        self.people[person_id] = person
        return person

    @staticmethod
    def _check_changeable(fields: dict[str, Any]) -> None:
        unknown = sorted(set(fields) - _CHANGEABLE)
        if unknown:
            raise TypeError(f"these Person fields cannot be set: {', '.join(unknown)}")
