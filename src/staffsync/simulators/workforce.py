"""Drawing the people of the simulated company one at a time, and the teams they work in.

Everything here runs once per person when 100,000 are generated, so the hot path indexes with
`getrandbits` instead of calling `rng.choice()`, and draws phone numbers, postcodes and timestamps
from pools made once per generation. All randomness comes from the one `random.Random` handed in.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, TypeVar

from staffsync.simulators.names import (
    COUNTRIES,
    DEPARTMENTS,
    MANAGEMENT,
    PERSONAL_EMAIL_DOMAINS,
    City,
    Country,
    DepartmentSpec,
)
from staffsync.simulators.people import Group, LegalEntity, Person, PostalAddress, WorkLocation, email_slug

# Roughly a European tech company: contractors and freelancers together about 8 %.
_TYPE_SHARES = {
    "permanent": 0.80,
    "fixed_term": 0.07,
    "contractor": 0.05,
    "freelance": 0.03,
    "intern": 0.025,
    "apprentice": 0.015,
    "other": 0.01,
}
_TYPE_NAMES = tuple(_TYPE_SHARES)
_TYPE_CUMULATIVE = tuple(itertools.accumulate(_TYPE_SHARES.values()))

FUTURE_HIRE_SHARE = 0.03
LEAVER_SHARE = 0.03
ON_LEAVE_SHARE = 0.02
EXTRA_TEAM_SHARE = 0.04
TEAM_SIZE = 9
COMPANY_AGE_DAYS = 12 * 365
APPRENTICESHIP_DAYS = 3 * 365
# Reporting windows the sync engine cares about: onboardings ahead, offboardings around today.
FUTURE_HIRE_DAYS = 60
LEAVER_WINDOW_DAYS = 45
UPDATE_WINDOW_SECONDS = 180 * 86_400
Role = Literal["ceo", "head", "lead", "member"]
_T = TypeVar("_T")
# UK inward codes never use C, I, K, M, O or V; Dutch postcodes are happy with the same letters.
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@cache
def _email_base(first: str, last: str) -> str:
    return f"{email_slug(first)}.{email_slug(last)}"


@cache
def _compact_slug(name: str) -> str:
    return email_slug(name).replace("-", "")


class _Template:
    """A pattern where `#` is a random digit and `@` a random letter, compiled once per pattern.

    All digits come from one random draw and the result from one %-format: this is the hot path of
    every phone number and postal code.
    """

    __slots__ = ("_digits", "_format", "_kinds", "_scale")

    def __init__(self, pattern: str) -> None:
        self._kinds = "".join(c for c in pattern if c in "#@")
        # A pattern with nothing to fill (a town with a single postcode) is its own result.
        self._format = "".join("%s" if c in "#@" else c.replace("%", "%%") for c in pattern) if self._kinds else pattern
        width = self._kinds.count("#")
        self._digits = f"%0{width}d"
        self._scale = 10**width

    def fill(self, rnd: Callable[[], float]) -> str:
        if not self._kinds:
            return self._format
        digits = self._digits % int(rnd() * self._scale)
        if "@" not in self._kinds:
            return self._format % tuple(digits)
        next_digit = iter(digits).__next__
        return self._format % tuple(
            next_digit() if kind == "#" else _LETTERS[int(rnd() * len(_LETTERS))] for kind in self._kinds
        )


_template = cache(_Template)


def pick(items: Sequence[_T], bits: Callable[[int], int]) -> _T:
    """`items[bits(32) % len(items)]`, written out in the hot loop: several times faster than
    rng.choice(), and the modulo bias over lists this short is below one in a million."""
    return items[bits(32) % len(items)]


@dataclass(frozen=True, slots=True)
class Team:
    group: Group
    department: DepartmentSpec
    titles: tuple[str, ...]
    # The department head leads the first team of their department.
    led_by_head: bool
    weight: float


@dataclass(frozen=True, slots=True)
class _Office:
    location: WorkLocation
    city: City
    phones: tuple[str, ...]


def _pool(pattern: str, count: int, rnd: Callable[[], float]) -> tuple[str, ...]:
    template = _template(pattern)
    return tuple(template.fill(rnd) for _ in range(count))


def _halves(pattern: str, count: int, rnd: Callable[[], float]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pools for the two halves of a number: `count`² distinct numbers for the price of twice `count`."""
    middle = [i for i, c in enumerate(pattern) if c == "#"][pattern.count("#") // 2]
    return _pool(pattern[:middle], count, rnd), _pool(pattern[middle:], count, rnd)


@dataclass(frozen=True, slots=True)
class _Locale:
    """One country's entity, offices and vocabulary, in the shape the hot loop wants.

    A city has a few hundred postcodes and an office a few hundred extensions, so drawing those from
    a pool made up front is as realistic as filling a template per person, and much cheaper; mobile
    numbers join two pooled halves, which keeps them practically unique.
    """

    country: Country
    entity: LegalEntity
    offices: tuple[_Office, ...]
    mobile_phones: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    postal_codes: dict[str, tuple[str, ...]]
    streets: tuple[str, ...]

    @classmethod
    def build(cls, country: Country, size: int, rnd: Callable[[], float]) -> _Locale:
        entity = LegalEntity(f"le_{country.code.lower()}", country.entity_name, country.code)
        cities = [city for city in country.cities if city.office_phone]
        # A small company has one office per country; branch offices come with growth.
        offices = tuple(
            _Office(
                WorkLocation(
                    f"loc_{country.code.lower()}_{email_slug(city.name)}",
                    f"{city.name} Office",
                    country.code,
                    city.name,
                    entity.id,
                ),
                city,
                _pool(city.office_phone or "", min(1_000, 10 + size // 10), rnd),
            )
            for city in (cities[:1] if size < 500 else cities)
        )
        postcodes_per_pattern = min(100, 10 + size // 100)
        return cls(
            country,
            entity,
            offices,
            tuple(_halves(p, min(1_000, 10 + size // 10), rnd) for p in country.mobile_phones),
            {
                city.name: tuple(code for p in city.postal_codes for code in _pool(p, postcodes_per_pattern, rnd))
                for city in country.cities
            },
            # One %-template per street ("Hauptstraße %d"): the house number is the only part left.
            tuple(country.street_format.format(street=s.replace("%", "%%"), number="%d") for s in country.streets),
        )


class PeopleFactory:
    """Draws one person at a time; keeps what must stay unique (work emails, employee numbers)."""

    def __init__(self, rng: random.Random, *, today: dt.date, domain: str, size: int) -> None:
        self.rng = rng
        self._rnd = rng.random
        self._bits = rng.getrandbits
        self._today = today.toordinal()
        self._founded = self._today - COMPANY_AGE_DAYS
        # When HR last touched each record, within the past half year: people share these instants as
        # records share the timestamps of bulk edits, and drawing from a pool skips a datetime per person.
        midnight = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC).timestamp()
        self._instants = tuple(
            dt.datetime.fromtimestamp(midnight - int(self._rnd() * UPDATE_WINDOW_SECONDS), dt.UTC)
            for _ in range(min(4_096, 16 + size))
        )
        self._domain = domain
        entity_count = 3 if size < 200 else 4 if size < 1_000 else 5 if size < 5_000 else 6
        self.locales = tuple(_Locale.build(country, size, self._rnd) for country in COUNTRIES[:entity_count])
        self._entity_cumulative = tuple(itertools.accumulate(loc.country.weight for loc in self.locales))
        # Generated addresses are unique by construction (names hold no digits); only addresses set
        # from outside, through `claim_email`, need looking up.
        self._claimed: set[str] = set()
        self._namesakes: dict[str, int] = {}
        self._employee_numbers = dict.fromkeys((loc.entity.id for loc in self.locales), 0)

    def claim_email(self, email: str | None) -> None:
        if email and email.lower().endswith("@" + self._domain):
            self._claimed.add(email.lower())

    def work_email(self, first: str, last: str) -> str:
        """`first.last@domain`, then `first.last2@domain` for the first namesake, and so on."""
        base = _email_base(first, last)
        count = self._namesakes.get(base, 0) + 1
        email = f"{base}{count if count > 1 else ''}@{self._domain}"
        while email in self._claimed:
            count += 1
            email = f"{base}{count}@{self._domain}"
        self._namesakes[base] = count
        return email

    def person(
        self,
        number: int,
        team: Team,
        role: Role,
        manager_id: str | None,
        extra_team_ids: tuple[str, ...] = (),
    ) -> Person:
        """Person number `number`; their contract follows `role` (leaders are permanent and active)."""
        # Indexes are drawn as in `pick`, written out: this runs 100,000 times in a row.
        rnd, bits = self._rnd, self._bits
        cumulative = self._entity_cumulative
        locale = self.locales[0 if role == "ceo" else bisect.bisect(cumulative, rnd() * cumulative[-1])]
        country, offices = locale.country, locale.offices
        office = offices[0] if len(offices) == 1 or rnd() < 0.6 else offices[bits(32) % len(offices)]
        first_names, last_names = country.first_names, country.last_names
        first = first_names[bits(32) % len(first_names)]
        last = last_names[bits(32) % len(last_names)]
        if rnd() < country.double_surname_share:
            last = f"{last} {last_names[bits(32) % len(last_names)]}"
        kind = "permanent" if role != "member" else _TYPE_NAMES[bisect.bisect(_TYPE_CUMULATIVE, rnd())]
        start, end, status = self._contract(kind, role)
        entity_id = locale.entity.id
        numbers = self._employee_numbers
        numbers[entity_id] += 1
        # Most people live in the city of their office; some commute or work remotely.
        home = office.city if rnd() < 0.7 else country.cities[bits(32) % len(country.cities)]
        postal_codes, streets = locale.postal_codes[home.name], locale.streets
        heads, tails = locale.mobile_phones[bits(32) % len(locale.mobile_phones)]
        return Person(
            f"emp_{number:06d}",
            str(100_000 + number),
            first,
            last,
            self.work_email(first, last),
            self._personal_email(first, last),
            heads[bits(32) % len(heads)] + tails[bits(32) % len(tails)],
            office.phones[bits(32) % len(office.phones)],
            PostalAddress(
                streets[bits(32) % len(streets)] % (1 + bits(32) % 150),
                home.name,
                postal_codes[bits(32) % len(postal_codes)],
                home.region,
                country.code,
            ),
            f"{country.code}{numbers[entity_id]:05d}",
            self._job_title(team, role, kind),
            team.group.id,
            extra_team_ids,
            team.group.parent_id,
            entity_id,
            office.location.id,
            manager_id,
            kind,
            status,
            dt.date.fromordinal(start),
            None if end is None else dt.date.fromordinal(end),
            self._instants[bits(32) % len(self._instants)],
        )

    def _contract(self, kind: str, role: Role) -> tuple[int, int | None, str]:
        """Start and end as ordinals, and the status they imply on `today`."""
        rnd, today = self._rnd, self._today
        if role == "ceo":
            return self._founded, None, "active"
        if role != "member":
            return today - 30 - int(rnd() * (COMPANY_AGE_DAYS - 30)), None, "active"
        length = APPRENTICESHIP_DAYS if kind == "apprentice" else 90 + int(rnd() * 90) if kind == "intern" else None
        draw = rnd()
        if draw < FUTURE_HIRE_SHARE:
            start = today + 1 + int(rnd() * FUTURE_HIRE_DAYS)
            if kind == "fixed_term":
                length = 365 * (1 + int(rnd() * 2))
            return start, start + length if length else None, "pending"
        if draw < FUTURE_HIRE_SHARE + LEAVER_SHARE:
            end = today + int(rnd() * (2 * LEAVER_WINDOW_DAYS + 1)) - LEAVER_WINDOW_DAYS
            start = max(self._founded, end - (length or 60 + int(rnd() * 2_500)))
            return start, end, "inactive" if end < today else "active"
        status = "leave" if draw < FUTURE_HIRE_SHARE + LEAVER_SHARE + ON_LEAVE_SHARE else "active"
        if kind == "fixed_term":
            return today - 1 - int(rnd() * 700), today + 180 + int(rnd() * 720), status
        if length:
            # Still under contract for at least another month, so not a leaver.
            start = today - int(rnd() * (length - 30))
            return start, start + length, status
        # A growing company: recent hires outnumber veterans.
        return today - 1 - int(rnd() ** 1.6 * (COMPANY_AGE_DAYS - 1)), None, status

    def _job_title(self, team: Team, role: Role, kind: str) -> str:
        department = team.department
        if role == "member":
            if kind == "intern":
                return f"{department.name} Intern"
            if kind == "apprentice":
                return f"{department.name} Apprentice"
            return pick(team.titles, self._bits)
        if role == "lead":
            return f"{department.lead_title}, {team.group.name}"
        return MANAGEMENT.head_title if role == "ceo" else department.head_title

    def _personal_email(self, first: str, last: str) -> str:
        rnd = self._rnd
        given, family = _compact_slug(first), _compact_slug(last)
        style = rnd()
        if style < 0.4:
            local = f"{given}.{family}"
        elif style < 0.7:
            local = f"{given}{family}{10 + int(rnd() * 90)}"
        else:
            local = f"{given[:1]}{family}"
        return f"{local}@{pick(PERSONAL_EMAIL_DOMAINS, self._bits)}"


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Splits `total` (at least one each) in proportion to `weights`, by largest remainder."""
    rest = total - len(weights)
    scale = sum(weights)
    shares = [rest * weight / scale for weight in weights]
    counts = [1 + int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def organise(size: int) -> list[Team]:
    """About one team per `TEAM_SIZE` people; departments open in order as the company grows."""
    other_teams = max(1, size // TEAM_SIZE) - 1
    departments = DEPARTMENTS[: min(len(DEPARTMENTS), -(-other_teams // 3))]
    counts = _apportion(other_teams, [d.weight for d in departments]) if departments else []
    average_weight = sum(d.weight for d in departments) / other_teams if other_teams else 1.0
    executive_office = Group("team_00000", MANAGEMENT.teams[0].name, "team", "dept_00")
    # Assistants and chiefs of staff: a small team whatever the company size.
    teams = [Team(executive_office, MANAGEMENT, MANAGEMENT.teams[0].titles, True, average_weight / 2)]
    for number, (spec, count) in enumerate(zip(departments, counts, strict=True), start=1):
        for j in range(count):
            base = spec.teams[j % len(spec.teams)]
            name = base.name if j < len(spec.teams) else f"{base.name} {j // len(spec.teams) + 1}"
            group = Group(f"team_{len(teams):05d}", name, "team", f"dept_{number:02d}")
            teams.append(Team(group, spec, base.titles, j == 0, spec.weight / count))
    return teams
