"""The mass-change circuit breaker: a run that would remove too many people is held for an admin.

Defaults follow what trusted identity systems ship with (Okta stops imports at 20 %, Entra at 500
deletions) and count detachments and new end dates together, as Entra counts disables with deletes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_share: float = 0.20
    # Below this many linked people a share means little (2 of 5 is 40 %): only the count applies.
    min_population_for_share: int = 10
    max_count: int = 500
    hold_on_empty_feed: bool = True

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> Thresholds:
        if not data:
            return cls()
        defaults = cls()
        return cls(
            max_share=float(data.get("max_share", defaults.max_share)),
            min_population_for_share=int(data.get("min_population_for_share", defaults.min_population_for_share)),
            max_count=int(data.get("max_count", defaults.max_count)),
            hold_on_empty_feed=bool(data.get("hold_on_empty_feed", defaults.hold_on_empty_feed)),
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "max_share": self.max_share,
            "min_population_for_share": self.min_population_for_share,
            "max_count": self.max_count,
            "hold_on_empty_feed": self.hold_on_empty_feed,
        }


@dataclass(frozen=True, slots=True)
class PlanImpact:
    linked_before: int
    detachments: int
    new_end_dates: int
    records_fetched: int
    complete_fetch: bool

    @property
    def removals(self) -> int:
        return self.detachments + self.new_end_dates


@dataclass(frozen=True, slots=True)
class Verdict:
    reasons: tuple[str, ...] = ()

    @property
    def hold(self) -> bool:
        return bool(self.reasons)


def weigh(impact: PlanImpact, thresholds: Thresholds) -> Verdict:
    reasons: list[str] = []
    if (
        thresholds.hold_on_empty_feed
        and impact.complete_fetch
        and impact.records_fetched == 0
        and impact.linked_before > 0
    ):
        reasons.append(
            f"The source returned nobody while {impact.linked_before} people are linked: "
            "this looks like a broken feed, not a company without staff"
        )
    if impact.removals > thresholds.max_count:
        reasons.append(
            f"{impact.removals} people would be detached or get an end date, more than the limit of "
            f"{thresholds.max_count}"
        )
    if impact.linked_before >= thresholds.min_population_for_share and impact.linked_before > 0:
        share = impact.removals / impact.linked_before
        if share > thresholds.max_share:
            reasons.append(
                f"{impact.removals} of {impact.linked_before} linked people ({share:.0%}) would be detached "
                f"or get an end date, more than the limit of {thresholds.max_share:.0%}"
            )
    return Verdict(tuple(reasons))
