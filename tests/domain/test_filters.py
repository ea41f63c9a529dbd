"""Population filters (PRODUCT.md §3 steps 4 and 5): ORed inside a filter, ANDed across, every failure reported."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from staffsync.domain.filters import (
    INCLUDED,
    ExclusionReason,
    FilterDimension,
    FilterResult,
    FilterRules,
    evaluate,
)
from staffsync.domain.records import SourceEmployee
from staffsync.domain.values import EmploymentType, EmploymentTypeValue, Ref

FR = Ref("le-fr", "Example SAS")
DE = Ref("le-de", "Example GmbH")
ENG = Ref("t-eng", "Engineering")
SALES = Ref("t-sales", "Sales")
OPS = Ref("t-ops", "Operations")
PERMANENT = EmploymentTypeValue(EmploymentType.PERMANENT, "Unbefristet")
CONTRACTOR = EmploymentTypeValue(EmploymentType.CONTRACTOR)


def person(**values) -> SourceEmployee:
    return SourceEmployee(remote_id="r1", first_name="Ada", last_name="Lovelace", **values)


def dimensions(result: FilterResult) -> list[FilterDimension]:
    return [reason.dimension for reason in result.reasons]


def test_empty_filters_include_everyone():
    rules = FilterRules()
    assert rules.restricts_nothing
    assert evaluate(person(), rules) is INCLUDED
    assert evaluate(person(legal_entity=FR, team=ENG, employment_type=CONTRACTOR), rules).included


def test_values_inside_one_filter_are_ored():
    rules = FilterRules(legal_entities=frozenset({"le-fr", "le-de"}))
    assert evaluate(person(legal_entity=FR), rules).included
    assert evaluate(person(legal_entity=DE), rules).included
    assert not evaluate(person(legal_entity=Ref("le-us", "Example Inc")), rules).included


def test_filters_are_anded_and_every_failing_filter_is_reported():
    rules = FilterRules(
        legal_entities=frozenset({"le-fr"}),
        employment_types=frozenset({"permanent"}),
        teams=frozenset({"t-eng"}),
    )
    assert evaluate(person(legal_entity=FR, employment_type=PERMANENT, team=ENG), rules).included
    one_failing = evaluate(person(legal_entity=DE, employment_type=PERMANENT, team=ENG), rules)
    assert dimensions(one_failing) == [FilterDimension.LEGAL_ENTITY]
    all_failing = evaluate(person(legal_entity=DE, employment_type=CONTRACTOR, team=SALES), rules)
    assert not all_failing.included
    assert dimensions(all_failing) == [
        FilterDimension.LEGAL_ENTITY,
        FilterDimension.EMPLOYMENT_TYPE,
        FilterDimension.TEAM,
    ]


def test_unselected_legal_entity_is_excluded_with_its_name():
    result = evaluate(person(legal_entity=DE), FilterRules(legal_entities=frozenset({"le-fr"})))
    (reason,) = result.reasons
    assert reason == ExclusionReason(
        FilterDimension.LEGAL_ENTITY,
        ("Example GmbH",),
        "Excluded by the legal entity filter: 'Example GmbH' is not selected",
    )
    assert reason.to_json() == {
        "filter": "legal_entity",
        "values": ["Example GmbH"],
        "message": "Excluded by the legal entity filter: 'Example GmbH' is not selected",
    }


def test_missing_legal_entity_is_excluded_with_its_reason():
    result = evaluate(person(), FilterRules(legal_entities=frozenset({"le-fr"})))
    (reason,) = result.reasons
    assert reason.dimension is FilterDimension.LEGAL_ENTITY
    assert reason.values == ()
    assert reason.message == "Excluded by the legal entity filter: no legal entity in HR"


def test_nameless_ref_is_shown_by_its_id():
    result = evaluate(person(legal_entity=Ref("le-xx")), FilterRules(legal_entities=frozenset({"le-fr"})))
    assert result.reasons[0].values == ("le-xx",)


def test_employment_types_are_matched_on_the_normalised_value():
    rules = FilterRules(employment_types=frozenset({"permanent"}))
    assert evaluate(person(employment_type=PERMANENT), rules).included
    assert evaluate(person(employment_type=EmploymentTypeValue(EmploymentType.PERMANENT, "CDI")), rules).included
    assert not evaluate(person(employment_type=CONTRACTOR), rules).included


def test_excluded_employment_type_shows_the_raw_provider_word_too():
    rules = FilterRules(employment_types=frozenset({"contractor"}))
    (reason,) = evaluate(person(employment_type=PERMANENT), rules).reasons
    assert reason.values == ("permanent (Unbefristet)",)
    assert reason.message == "Excluded by the employment type filter: 'permanent (Unbefristet)' is not selected"
    same_word = EmploymentTypeValue(EmploymentType.INTERN, "intern")
    assert evaluate(person(employment_type=same_word), rules).reasons[0].values == ("intern",)


def test_missing_employment_type_is_excluded_with_its_reason():
    (reason,) = evaluate(person(), FilterRules(employment_types=frozenset({"permanent"}))).reasons
    assert reason.dimension is FilterDimension.EMPLOYMENT_TYPE
    assert reason.values == ()
    assert reason.message == "Excluded by the employment type filter: no employment type in HR"


def test_person_in_any_selected_team_is_included():
    rules = FilterRules(teams=frozenset({"t-ops"}))
    assert evaluate(person(team=ENG, teams=(ENG, OPS)), rules).included
    assert evaluate(person(team=OPS), rules).included


def test_person_in_no_selected_team_is_excluded_listing_all_their_teams():
    rules = FilterRules(teams=frozenset({"t-ops"}))
    (reason,) = evaluate(person(team=ENG, teams=(ENG, SALES)), rules).reasons
    assert reason.dimension is FilterDimension.TEAM
    assert reason.values == ("Engineering", "Sales")
    assert reason.message == "Excluded by the team filter: 'Engineering', 'Sales' are not selected"
    (single,) = evaluate(person(team=ENG), rules).reasons
    assert single.message == "Excluded by the team filter: 'Engineering' is not selected"


def test_missing_team_is_excluded_with_its_reason():
    (reason,) = evaluate(person(), FilterRules(teams=frozenset({"t-ops"}))).reasons
    assert reason.dimension is FilterDimension.TEAM
    assert reason.values == ()
    assert reason.message == "Excluded by the team filter: no team in HR"


def test_a_dimension_without_selection_ignores_missing_values():
    rules = FilterRules(teams=frozenset({"t-eng"}))
    assert evaluate(person(team=ENG), rules).included


def test_rules_round_trip_through_their_mapping_sorted():
    rules = FilterRules.from_mapping({"teams": ["t-b", "t-a"], "legal_entities": ["le-fr"]})
    assert rules == FilterRules(legal_entities=frozenset({"le-fr"}), teams=frozenset({"t-a", "t-b"}))
    assert rules.to_mapping() == {"legal_entities": ["le-fr"], "employment_types": [], "teams": ["t-a", "t-b"]}
    assert FilterRules.from_mapping(rules.to_mapping()) == rules
    assert FilterRules.from_mapping({}).restricts_nothing


# --- property: evaluate agrees with an independent oracle --------------------------------------

ENTITIES = [Ref("le-1", "One"), Ref("le-2", "Two"), Ref("le-3")]
TEAMS = [Ref("t-1", "Alpha"), Ref("t-2", "Beta"), Ref("t-3"), Ref("t-4", "Delta")]
TYPES = list(EmploymentType)


@st.composite
def source_employees(draw: st.DrawFn) -> SourceEmployee:
    teams = tuple(draw(st.lists(st.sampled_from(TEAMS), max_size=3, unique=True)))
    # `team` is the primary one of `teams` (records.py); a single-team provider gives only `team`.
    primary = draw(st.none() | st.sampled_from(teams or TEAMS))
    employment = draw(
        st.none() | st.builds(EmploymentTypeValue, st.sampled_from(TYPES), st.none() | st.sampled_from(["CDI", "Werk"]))
    )
    return SourceEmployee(
        remote_id="r",
        legal_entity=draw(st.none() | st.sampled_from(ENTITIES)),
        employment_type=employment,
        team=primary,
        teams=teams,
    )


def selections(ids: list[str]) -> st.SearchStrategy[frozenset[str]]:
    # Includes ids no person has, as admins may keep a selection after the source dropped a value.
    return st.frozensets(st.sampled_from([*ids, "unknown"]), max_size=3)


filter_rules = st.builds(
    FilterRules,
    legal_entities=selections([e.id for e in ENTITIES]),
    employment_types=selections([t.value for t in TYPES]),
    teams=selections([t.id for t in TEAMS]),
)


def oracle_failing(record: SourceEmployee, rules: FilterRules) -> set[FilterDimension]:
    failing = set()
    if rules.legal_entities and (record.legal_entity is None or record.legal_entity.id not in rules.legal_entities):
        failing.add(FilterDimension.LEGAL_ENTITY)
    if rules.employment_types and (
        record.employment_type is None or record.employment_type.type.value not in rules.employment_types
    ):
        failing.add(FilterDimension.EMPLOYMENT_TYPE)
    member_of = {t.id for t in record.teams} | ({record.team.id} if record.team else set())
    if rules.teams and not (member_of & rules.teams):
        failing.add(FilterDimension.TEAM)
    return failing


@given(record=source_employees(), rules=filter_rules)
def test_evaluate_includes_exactly_when_every_non_empty_filter_matches(record, rules):
    result = evaluate(record, rules)
    failing = oracle_failing(record, rules)
    assert result.included == (not failing)
    if not result.included:
        assert result.reasons
    reported = dimensions(result)
    assert len(reported) == len(set(reported)), "each failing filter is reported once"
    assert set(reported) == failing
    for reason in result.reasons:
        assert reason.message.startswith("Excluded by the ")


def test_the_primary_team_counts_even_when_missing_from_the_memberships():
    from staffsync.domain.records import SourceEmployee
    from staffsync.domain.values import Ref

    record = SourceEmployee("r1", team=Ref("t-eng", "Engineering"), teams=(Ref("t-guild", "Guild"),))
    assert evaluate(record, FilterRules(teams=frozenset({"t-eng"}))).included
