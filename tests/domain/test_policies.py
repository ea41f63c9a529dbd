"""IT policies: conditions on HR fields, ANDed; who is eligible; who gains and who loses an assignment."""

from __future__ import annotations

import datetime as dt

import pytest

from staffsync.domain.policies import (
    Assignment,
    Condition,
    Operator,
    Policy,
    PolicyError,
    Subject,
    is_eligible,
    parse_conditions,
    reconcile,
    validate_assignment,
    wanted_assignments,
)
from staffsync.domain.values import EmploymentType, EmploymentTypeValue, Location, Ref

TODAY = dt.date(2026, 3, 2)
ENGINEER = {
    "team": Ref("team-eng", "Engineering"),
    "legal_entity": Ref("le-de", "Acme GmbH"),
    "job_title": "Senior Backend Engineer",
    "employment_type": EmploymentTypeValue(EmploymentType.PERMANENT, "FULL_TIME"),
    "work_location": Location("loc-muc", "Munich Office", "DE"),
}


def policy(*conditions: Condition, enabled: bool = True) -> Policy:
    return Policy("p1", "GitHub for engineers", conditions, Assignment("GitHub", "member"), enabled)


def test_a_team_matches_by_name_or_id_whatever_the_case() -> None:
    assert Condition("team", Operator.EQUALS, ("engineering",)).matches(ENGINEER["team"])
    assert Condition("team", Operator.EQUALS, ("TEAM-ENG",)).matches(ENGINEER["team"])
    assert not Condition("team", Operator.EQUALS, ("Sales",)).matches(ENGINEER["team"])


def test_in_matches_any_of_its_values() -> None:
    condition = Condition("legal_entity", Operator.IN, ("Acme SAS", "Acme GmbH"))
    assert condition.matches(ENGINEER["legal_entity"])
    assert not condition.matches(Ref("le-us", "Acme Inc"))


def test_contains_and_starts_with_read_job_titles_loosely() -> None:
    assert Condition("job_title", Operator.CONTAINS, ("backend",)).matches(ENGINEER["job_title"])
    assert Condition("job_title", Operator.STARTS_WITH, ("senior ",)).matches(ENGINEER["job_title"])
    assert not Condition("job_title", Operator.STARTS_WITH, ("backend",)).matches(ENGINEER["job_title"])


def test_an_employment_type_matches_the_normalised_type_or_the_providers_word() -> None:
    assert Condition("employment_type", Operator.EQUALS, ("permanent",)).matches(ENGINEER["employment_type"])
    assert Condition("employment_type", Operator.EQUALS, ("full_time",)).matches(ENGINEER["employment_type"])


def test_an_empty_field_matches_no_condition() -> None:
    for operator in Operator:
        assert not Condition("work_location", operator, ("x",)).matches(None)


def test_conditions_are_anded() -> None:
    both = policy(
        Condition("team", Operator.EQUALS, ("Engineering",)), Condition("legal_entity", Operator.EQUALS, ("le-fr",))
    )
    assert not both.applies_to(ENGINEER)
    assert policy(Condition("team", Operator.EQUALS, ("Engineering",))).applies_to(ENGINEER)


def test_a_disabled_policy_applies_to_nobody() -> None:
    assert not policy(enabled=False).applies_to(ENGINEER)


def test_hidden_detached_and_departed_people_are_not_eligible_but_the_last_day_still_is() -> None:
    assert is_eligible(hidden=False, detached=False, end_date=None, today=TODAY)
    assert is_eligible(hidden=False, detached=False, end_date=TODAY, today=TODAY)
    assert not is_eligible(hidden=False, detached=False, end_date=TODAY - dt.timedelta(days=1), today=TODAY)
    assert not is_eligible(hidden=True, detached=False, end_date=None, today=TODAY)
    assert not is_eligible(hidden=False, detached=True, end_date=None, today=TODAY)


def test_wanted_assignments_skip_ineligible_people() -> None:
    subjects = [Subject("e1", ENGINEER, eligible=True), Subject("e2", ENGINEER, eligible=False)]
    assert wanted_assignments(subjects, [policy()]) == {("p1", "e1")}


def test_reconcile_says_who_gains_and_who_loses() -> None:
    diff = reconcile(current={("p1", "e1"), ("p1", "e2")}, wanted={("p1", "e2"), ("p1", "e3")})
    assert diff.added == {("p1", "e3")}
    assert diff.removed == {("p1", "e1")}
    assert not reconcile(current={("p1", "e1")}, wanted={("p1", "e1")})


def test_parsing_reports_every_problem_at_once() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_conditions(
            [
                {"field": "salary", "operator": "equals", "values": ["1"]},
                {"field": "team", "operator": "like", "values": ["x"]},
                {"field": "team", "operator": "equals", "values": [" "]},
                {"field": "team", "operator": "equals", "values": ["a", "b"]},
            ]
        )
    assert len(raised.value.problems) == 4
    assert "use 'in' for several" in raised.value.problems[3]


def test_parsing_keeps_valid_conditions_in_order() -> None:
    parsed = parse_conditions(
        [
            {"field": "team", "operator": "in", "values": ["Engineering", " Sales "]},
            {"field": "job_title", "operator": "contains", "values": ["engineer"]},
        ]
    )
    assert parsed == (
        Condition("team", Operator.IN, ("Engineering", "Sales")),
        Condition("job_title", Operator.CONTAINS, ("engineer",)),
    )
    assert parsed[0].describe() == "team in “Engineering”, “Sales”"


def test_an_assignment_needs_an_application() -> None:
    assert validate_assignment(" GitHub ", " ") == Assignment("GitHub", None)
    with pytest.raises(PolicyError):
        validate_assignment("  ", "admin")
