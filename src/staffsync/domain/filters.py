"""Population filters: who of a source's people the directory manages, and why the others are not.

One evaluation serves both the preview and the sync, so what an admin sees is what a sync does.
Values inside one filter are ORed, filters are ANDed, an empty filter restricts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from staffsync.domain.records import SourceEmployee
from staffsync.domain.values import Ref


class FilterDimension(StrEnum):
    LEGAL_ENTITY = "legal_entity"
    EMPLOYMENT_TYPE = "employment_type"
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class FilterRules:
    """Selected ids per dimension; employment types are the normalised values (`contractor`, …)."""

    legal_entities: frozenset[str] = frozenset()
    employment_types: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Iterable[str]]) -> FilterRules:
        return cls(
            legal_entities=frozenset(data.get("legal_entities", ())),
            employment_types=frozenset(data.get("employment_types", ())),
            teams=frozenset(data.get("teams", ())),
        )

    def to_mapping(self) -> dict[str, list[str]]:
        return {
            "legal_entities": sorted(self.legal_entities),
            "employment_types": sorted(self.employment_types),
            "teams": sorted(self.teams),
        }

    @property
    def restricts_nothing(self) -> bool:
        return not (self.legal_entities or self.employment_types or self.teams)


@dataclass(frozen=True, slots=True)
class ExclusionReason:
    dimension: FilterDimension
    # The person's value(s) on that dimension, by label; empty when the source gave none.
    values: tuple[str, ...]
    message: str

    def to_json(self) -> dict[str, object]:
        return {"filter": self.dimension.value, "values": list(self.values), "message": self.message}


@dataclass(frozen=True, slots=True)
class FilterResult:
    reasons: tuple[ExclusionReason, ...] = field(default=())

    @property
    def included(self) -> bool:
        return not self.reasons


INCLUDED = FilterResult()


def evaluate(record: SourceEmployee, rules: FilterRules) -> FilterResult:
    """Every failing filter is reported, not just the first: an admin fixes them all in one go."""
    if rules.restricts_nothing:
        return INCLUDED
    reasons: list[ExclusionReason] = []
    if rules.legal_entities:
        entity = record.legal_entity
        if entity is None:
            reasons.append(
                ExclusionReason(
                    FilterDimension.LEGAL_ENTITY,
                    (),
                    "Excluded by the legal entity filter: no legal entity in HR",
                )
            )
        elif entity.id not in rules.legal_entities:
            reasons.append(
                ExclusionReason(
                    FilterDimension.LEGAL_ENTITY,
                    (entity.label(),),
                    f"Excluded by the legal entity filter: '{entity.label()}' is not selected",
                )
            )
    if rules.employment_types:
        employment = record.employment_type
        if employment is None:
            reasons.append(
                ExclusionReason(
                    FilterDimension.EMPLOYMENT_TYPE,
                    (),
                    "Excluded by the employment type filter: no employment type in HR",
                )
            )
        elif employment.type.value not in rules.employment_types:
            shown = (
                employment.type.value
                if employment.raw in (None, employment.type.value)
                else (f"{employment.type.value} ({employment.raw})")
            )
            reasons.append(
                ExclusionReason(
                    FilterDimension.EMPLOYMENT_TYPE,
                    (shown,),
                    f"Excluded by the employment type filter: '{shown}' is not selected",
                )
            )
    if rules.teams:
        memberships = _team_memberships(record)
        if not memberships:
            reasons.append(ExclusionReason(FilterDimension.TEAM, (), "Excluded by the team filter: no team in HR"))
        elif not any(team.id in rules.teams for team in memberships):
            labels = tuple(team.label() for team in memberships)
            reasons.append(
                ExclusionReason(
                    FilterDimension.TEAM,
                    labels,
                    "Excluded by the team filter: "
                    + ", ".join(f"'{label}'" for label in labels)
                    + (" is" if len(labels) == 1 else " are")
                    + " not selected",
                )
            )
    return FilterResult(tuple(reasons)) if reasons else INCLUDED


def _team_memberships(record: SourceEmployee) -> tuple[Ref, ...]:
    """The primary team counts even when a connector forgot to list it among the memberships."""
    if record.team is None or record.team in record.teams:
        return record.teams
    return (record.team, *record.teams)
