"""The mass-change circuit breaker, with the defaults of PRODUCT.md §4."""

from __future__ import annotations

from staffsync.domain.safeguards import PlanImpact, Thresholds, Verdict, weigh

DEFAULTS = Thresholds()


def impact(
    *, linked: int, detached: int = 0, end_dates: int = 0, fetched: int | None = None, complete: bool = True
) -> PlanImpact:
    return PlanImpact(
        linked_before=linked,
        detachments=detached,
        new_end_dates=end_dates,
        records_fetched=linked if fetched is None else fetched,
        complete_fetch=complete,
    )


def holds(plan: PlanImpact, thresholds: Thresholds = DEFAULTS) -> bool:
    return weigh(plan, thresholds).hold


def test_defaults_are_those_of_the_spec():
    assert (DEFAULTS.max_share, DEFAULTS.min_population_for_share) == (0.20, 10)
    assert DEFAULTS.max_count == 500
    assert DEFAULTS.hold_on_empty_feed


def test_a_run_removing_nobody_passes():
    assert weigh(impact(linked=1000), DEFAULTS) == Verdict()
    assert not Verdict().hold


def test_exactly_20_percent_does_not_hold():
    assert not holds(impact(linked=10, detached=2))


def test_more_than_20_percent_of_at_least_10_linked_holds():
    verdict = weigh(impact(linked=10, detached=3), DEFAULTS)
    assert verdict.hold
    (reason,) = verdict.reasons
    assert reason == ("3 of 10 linked people (30%) would be detached or get an end date, more than the limit of 20%")


def test_share_is_not_weighed_below_10_linked():
    assert not holds(impact(linked=9, detached=5))
    assert not holds(impact(linked=9, detached=9))


def test_share_applies_at_large_populations():
    assert not holds(impact(linked=2000, detached=400))
    assert holds(impact(linked=2000, detached=401))


def test_more_than_500_removals_hold_by_count():
    verdict = weigh(impact(linked=100_000, detached=501), DEFAULTS)
    assert verdict.hold
    assert verdict.reasons == ("501 people would be detached or get an end date, more than the limit of 500",)


def test_500_removals_do_not_hold():
    assert not holds(impact(linked=100_000, detached=500))


def test_detachments_and_new_end_dates_count_together():
    assert not holds(impact(linked=10, detached=2))
    assert not holds(impact(linked=10, end_dates=2))
    assert holds(impact(linked=10, detached=2, end_dates=1))
    assert holds(impact(linked=100_000, detached=300, end_dates=201))
    assert impact(linked=10, detached=2, end_dates=1).removals == 3


def test_empty_complete_feed_with_people_linked_holds():
    verdict = weigh(impact(linked=3, fetched=0), DEFAULTS)
    assert verdict.hold
    assert verdict.reasons[0].startswith("The source returned nobody while 3 people are linked")


def test_empty_incremental_feed_does_not_hold():
    assert not holds(impact(linked=3, fetched=0, complete=False))


def test_empty_feed_with_nobody_linked_does_not_hold():
    assert not holds(impact(linked=0, fetched=0))


def test_every_reason_is_given():
    verdict = weigh(impact(linked=1000, detached=1000, fetched=0), DEFAULTS)
    assert len(verdict.reasons) == 3


def test_custom_share_and_population():
    thresholds = Thresholds(max_share=0.5, min_population_for_share=4)
    assert not holds(impact(linked=4, detached=2), thresholds)
    assert holds(impact(linked=4, detached=3), thresholds)
    assert not holds(impact(linked=3, detached=3), thresholds)


def test_custom_count():
    thresholds = Thresholds(max_count=5)
    assert not holds(impact(linked=1000, detached=5), thresholds)
    assert holds(impact(linked=1000, detached=6), thresholds)


def test_empty_feed_check_can_be_turned_off():
    assert not holds(impact(linked=3, fetched=0), Thresholds(hold_on_empty_feed=False))


def test_share_with_no_minimum_population_never_divides_by_zero():
    assert not holds(impact(linked=0), Thresholds(min_population_for_share=0))
    assert holds(impact(linked=1, detached=1), Thresholds(min_population_for_share=0))


def test_thresholds_round_trip_through_their_mapping():
    custom = Thresholds(max_share=0.1, min_population_for_share=50, max_count=100, hold_on_empty_feed=False)
    assert Thresholds.from_mapping(custom.to_mapping()) == custom


def test_missing_or_partial_threshold_mapping_uses_defaults():
    assert Thresholds.from_mapping(None) == DEFAULTS
    assert Thresholds.from_mapping({}) == DEFAULTS
    assert Thresholds.from_mapping({"max_count": "50"}) == Thresholds(max_count=50)
