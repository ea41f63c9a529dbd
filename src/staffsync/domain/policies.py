"""IT policies (PRODUCT.md §6): conditions on HR fields that give people an assignment (an application or a
group, with a role). Pure: which policies a person matches, and who gains or loses what when anything changes.

Comparisons ignore case and surrounding spaces, because HR systems spell "Engineering" and "engineering"
alike; a team, legal entity or work location matches by its id or by its name, an employment type by staffsync's
normalised type or the provider's own word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from staffsync.domain.values import EmploymentTypeValue, FieldValue, Location, Ref

POLICY_FIELDS: dict[str, str] = {
    "team": "Team",
    "legal_entity": "Legal entity",
    "job_title": "Job title",
    "employment_type": "Employment type",
    "work_location": "Work location",
}
MAX_CONDITIONS = 20
MAX_VALUES = 200
MAX_TEXT = 200


class Operator(StrEnum):
    EQUALS = "equals"
    IN = "in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"


class PolicyError(ValueError):
    """A policy that cannot be saved; `problems` says what to fix, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def comparable_texts(value: FieldValue) -> frozenset[str]:
    """Every spelling of a field value a condition may match."""
    if value is None:
        return frozenset()
    if isinstance(value, Ref | Location):
        return frozenset(_norm(t) for t in (value.id, value.name) if t)
    if isinstance(value, EmploymentTypeValue):
        return frozenset(_norm(t) for t in (value.type.value, value.raw) if t)
    if isinstance(value, str):
        return frozenset({_norm(value)})
    return frozenset()


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: Operator
    values: tuple[str, ...]

    def matches(self, value: FieldValue) -> bool:
        texts = comparable_texts(value)
        wanted = [_norm(v) for v in self.values]
        if self.operator is Operator.EQUALS:
            return wanted[0] in texts
        if self.operator is Operator.IN:
            return not texts.isdisjoint(wanted)
        if self.operator is Operator.CONTAINS:
            return any(w in text for text in texts for w in wanted)
        return any(text.startswith(w) for text in texts for w in wanted)

    def describe(self) -> str:
        label = POLICY_FIELDS[self.field].lower()
        shown = ", ".join(f"“{v}”" for v in self.values)
        return f"{label} {self.operator.value.replace('_', ' ')} {shown}"

    def to_mapping(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator.value, "values": list(self.values)}


@dataclass(frozen=True, slots=True)
class Assignment:
    application: str
    role: str | None = None

    def label(self) -> str:
        return f"{self.application} ({self.role})" if self.role else self.application


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    conditions: tuple[Condition, ...]
    assignment: Assignment
    enabled: bool = True

    def applies_to(self, values: Mapping[str, FieldValue]) -> bool:
        """All conditions hold (AND). A policy without conditions applies to everyone eligible."""
        return self.enabled and all(c.matches(values.get(c.field)) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Subject:
    """A person as policies see them: their HR values, and whether they may hold assignments at all."""

    employee_id: str
    values: Mapping[str, FieldValue]
    eligible: bool


def is_eligible(*, hidden: bool, detached: bool, end_date: dt.date | None, today: dt.date) -> bool:
    """Hidden, detached and departed people hold no assignment; someone on their last day still does."""
    departed = end_date is not None and end_date < today
    return not (hidden or detached or departed)


def wanted_assignments(subjects: Iterable[Subject], policies: Iterable[Policy]) -> set[tuple[str, str]]:
    """(policy id, employee id) for every eligible person a policy applies to."""
    active = [p for p in policies if p.enabled]
    return {(p.id, s.employee_id) for s in subjects if s.eligible for p in active if p.applies_to(s.values)}


@dataclass(frozen=True, slots=True)
class AssignmentDiff:
    added: frozenset[tuple[str, str]]
    removed: frozenset[tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def reconcile(current: Iterable[tuple[str, str]], wanted: Iterable[tuple[str, str]]) -> AssignmentDiff:
    held, target = frozenset(current), frozenset(wanted)
    return AssignmentDiff(added=target - held, removed=held - target)


def parse_conditions(raw: Iterable[Mapping[str, Any]]) -> tuple[Condition, ...]:
    """Conditions from a form or a request body; every problem is reported at once."""
    problems: list[str] = []
    conditions: list[Condition] = []
    items = list(raw)
    if len(items) > MAX_CONDITIONS:
        raise PolicyError([f"a policy has at most {MAX_CONDITIONS} conditions"])
    for position, item in enumerate(items, start=1):
        field_name = str(item.get("field", ""))
        operator_name = str(item.get("operator", ""))
        values = [str(v).strip() for v in item.get("values") or [] if str(v).strip()]
        if field_name not in POLICY_FIELDS:
            problems.append(f"condition {position}: choose a field among {', '.join(POLICY_FIELDS)}")
            continue
        try:
            operator = Operator(operator_name)
        except ValueError:
            problems.append(f"condition {position}: choose an operator among {', '.join(o.value for o in Operator)}")
            continue
        if not values:
            problems.append(f"condition {position} ({POLICY_FIELDS[field_name].lower()}): give a value")
            continue
        if operator is not Operator.IN and len(values) > 1:
            problems.append(f"condition {position}: '{operator.value}' takes one value; use 'in' for several")
            continue
        if len(values) > MAX_VALUES or any(len(v) > MAX_TEXT for v in values):
            problems.append(f"condition {position}: at most {MAX_VALUES} values of {MAX_TEXT} characters")
            continue
        conditions.append(Condition(field_name, operator, tuple(values)))
    if problems:
        raise PolicyError(problems)
    return tuple(conditions)


def validate_assignment(application: str, role: str | None) -> Assignment:
    application, role = application.strip(), (role or "").strip() or None
    problems = []
    if not application or len(application) > MAX_TEXT:
        problems.append(f"name the application or group (1 to {MAX_TEXT} characters)")
    if role is not None and len(role) > MAX_TEXT:
        problems.append(f"a role has at most {MAX_TEXT} characters")
    if problems:
        raise PolicyError(problems)
    return Assignment(application, role)
