"""The simulated company: realistic, reproducible people, and the mutations later simulators replay."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffsync.simulators.names import COUNTRIES
from staffsync.simulators.population import (
    EMPLOYMENT_STATUSES,
    EMPLOYMENT_TYPES,
    Population,
    email_slug,
    generate_population,
)

TODAY = dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
COUNTRY = {country.code: country for country in COUNTRIES}
POSTCODE = {
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "US": r"\d{5}",
    "NL": r"\d{4} [A-Z]{2}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}",
}
PHONE_PREFIX = {"DE": "+49 ", "FR": "+33 ", "GB": "+44 ", "US": "+1 ", "NL": "+31 ", "ES": "+34 "}


@pytest.fixture(scope="module")
def company() -> Population:
    return generate_population(2_000, seed=7, today=TODAY)


def country_of(population: Population, entity_id: str | None) -> str:
    assert entity_id is not None
    return population.legal_entity(entity_id).country


def share(population: Population, predicate: object) -> float:
    assert callable(predicate)
    return sum(1 for person in population if predicate(person)) / len(population)


def test_same_seed_gives_the_same_people() -> None:
    first = generate_population(300, seed=3, today=TODAY)
    second = generate_population(300, seed=3, today=TODAY)
    assert list(first) == list(second)
    assert first.groups == second.groups
    assert first.legal_entities == second.legal_entities
    assert first.locations == second.locations


def test_another_seed_or_day_gives_other_people() -> None:
    base = list(generate_population(50, seed=3, today=TODAY))
    assert list(generate_population(50, seed=4, today=TODAY)) != base
    assert list(generate_population(50, seed=3, today=TODAY + dt.timedelta(days=1))) != base


@pytest.mark.parametrize("size", [0, 1, 2, 9, 10, 250])
def test_population_has_exactly_the_requested_size(size: int) -> None:
    population = generate_population(size, today=TODAY)
    assert len(population) == size
    assert len({person.id for person in population}) == size
    assert len({person.remote_id for person in population}) == size


def test_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        generate_population(-1, today=TODAY)


def test_ids_are_opaque_and_remote_ids_differ_from_them(company: Population) -> None:
    for person in company:
        assert re.fullmatch(r"emp_\d{6}", person.id)
        assert person.remote_id.isdigit()
        assert person.remote_id != person.id


def test_manager_tree_has_a_single_root_and_no_cycles(company: Population) -> None:
    roots = [person for person in company if person.manager_id is None]
    assert len(roots) == 1
    ceo = roots[0]
    assert ceo.job_title == "Chief Executive Officer"
    for person in company:
        seen = {person.id}
        current = person
        while current.manager_id is not None:
            current = company.get(current.manager_id)
            assert current.id not in seen, f"cycle through {current.id}"
            seen.add(current.id)
        assert current == ceo
        # Member -> team lead -> department head -> CEO at most.
        assert len(seen) <= 4


def test_team_members_report_to_the_lead_who_reports_to_the_department_head(company: Population) -> None:
    ceo = next(person for person in company if person.manager_id is None)
    for team in company.teams:
        lead_id = company.lead_of(team.id)
        assert lead_id is not None
        lead = company.get(lead_id)
        assert lead.team_id == team.id
        if lead != ceo:
            # The department head leads the first team of the department themselves.
            head = lead if lead.manager_id == ceo.id else company.get(lead.manager_id or "")
            assert head.department_id == team.parent_id
            assert head.manager_id == ceo.id
        members = [person for person in company if person.team_id == team.id and person.id != lead_id]
        assert all(member.manager_id == lead_id for member in members)


def test_groups_form_a_tree_of_departments_and_teams(company: Population) -> None:
    departments = {group.id: group for group in company.departments}
    assert departments and company.teams
    assert all(department.parent_id is None for department in departments.values())
    assert all(team.parent_id in departments for team in company.teams)
    assert len({group.id for group in company.groups}) == len(company.groups)


def test_every_person_points_at_existing_groups_entities_and_locations(company: Population) -> None:
    team_ids = {team.id for team in company.teams}
    for person in company:
        assert person.team_id in team_ids
        assert set(person.extra_team_ids) <= team_ids - {person.team_id}
        assert company.group(person.team_id or "").parent_id == person.department_id
        entity = company.legal_entity(person.legal_entity_id or "")
        location = company.location(person.work_location_id or "")
        assert location.legal_entity_id == entity.id
        assert location.country == entity.country
    assert any(person.extra_team_ids for person in company)


@pytest.mark.parametrize(("size", "entities"), [(50, 3), (500, 4), (2_000, 5), (6_000, 6)])
def test_legal_entities_grow_with_the_company_each_in_its_own_country(size: int, entities: int) -> None:
    population = generate_population(size, today=TODAY)
    assert len(population.legal_entities) == entities
    assert len({entity.country for entity in population.legal_entities}) == entities
    assert population.legal_entities[0].name == "Acme GmbH"


def test_work_emails_are_unique(company: Population) -> None:
    emails = [person.work_email or "" for person in company]
    assert len({email.lower() for email in emails}) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9.-]+@acme\.example", email) for email in emails)
    # Namesakes exist in a company this size; they are told apart by a number.
    assert any(re.search(r"\d@", email) for email in emails)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Müller", "mueller"),
        ("Weiß", "weiss"),
        ("Renée", "renee"),
        ("Núñez", "nunez"),
        ("van der Berg", "vanderberg"),
        ("O'Brien", "obrien"),
        ("Jean-Pierre", "jean-pierre"),
        ("Yılmaz", "yilmaz"),  # noqa: RUF001 - the Turkish dotless i is the case under test
        ("'t Hart", "thart"),
    ],
)
def test_email_addresses_transliterate_names_to_lowercase_ascii(name: str, slug: str) -> None:
    assert email_slug(name) == slug


def test_names_match_the_country_of_the_legal_entity(company: Population) -> None:
    for person in company:
        country = COUNTRY[country_of(company, person.legal_entity_id)]
        assert person.first_name in country.first_names
        last = person.last_name or ""
        assert last in country.last_names or any(
            last == f"{a} {b}" for a in country.last_names for b in country.last_names if last.startswith(a)
        )


def test_names_include_accents_and_multi_part_surnames(company: Population) -> None:
    names = [f"{person.first_name} {person.last_name}" for person in company]
    assert any(not name.isascii() for name in names)
    assert any(" " in (person.last_name or "") for person in company)


def test_phones_and_home_addresses_fit_the_country(company: Population) -> None:
    for person in company:
        country = country_of(company, person.legal_entity_id)
        address = person.home_address
        assert address is not None
        assert address.country == country
        assert re.fullmatch(POSTCODE[country], address.postal_code), address.postal_code
        assert (person.personal_phone or "").startswith(PHONE_PREFIX[country])
        assert (person.work_phone or "").startswith(PHONE_PREFIX[country])
        assert person.personal_email and "@example." in person.personal_email
        assert person.employee_number and person.employee_number.startswith(country)


def test_job_titles_fit_the_team(company: Population) -> None:
    ceo = next(person for person in company if person.manager_id is None)
    for person in company:
        team = company.group(person.team_id or "")
        assert person.job_title
        is_lead = company.lead_of(team.id) == person.id
        is_head = person.manager_id == ceo.id
        if is_lead and not is_head and person != ceo:
            assert person.job_title.endswith(f", {team.name}")
        if person.employment_type in ("intern", "apprentice") and not is_lead:
            assert person.job_title.endswith(person.employment_type.capitalize())
    assert len({person.job_title for person in company}) > 30


def test_population_has_future_hires_leavers_and_contractors(company: Population) -> None:
    horizon = TODAY + dt.timedelta(days=60)
    future = [person for person in company if person.start_date and person.start_date > TODAY]
    assert all(TODAY < (person.start_date or TODAY) <= horizon for person in future)
    assert all(person.employment_status == "pending" for person in future)
    assert 0.01 <= len(future) / len(company) <= 0.06

    leavers = [
        person
        for person in company
        if person.end_date and abs((person.end_date - TODAY).days) <= 45 and person.employment_type != "intern"
    ]
    assert 0.01 <= len(leavers) / len(company) <= 0.08
    assert all(person.employment_status == "inactive" for person in leavers if (person.end_date or TODAY) < TODAY)
    assert any((person.end_date or TODAY) >= TODAY for person in leavers)

    assert 0.05 <= share(company, lambda p: p.employment_type in ("contractor", "freelance")) <= 0.11
    assert 0.70 <= share(company, lambda p: p.employment_type == "permanent") <= 0.92
    assert any(person.employment_type == "intern" for person in company)
    assert any(person.employment_type == "apprentice" for person in company)
    assert any(person.employment_status == "leave" for person in company)


def test_fixed_term_contracts_end_far_ahead_unless_leaving(company: Population) -> None:
    fixed = [person for person in company if person.employment_type == "fixed_term"]
    assert fixed
    assert all(person.end_date is not None for person in fixed)
    far = [person for person in fixed if (person.end_date or TODAY) > TODAY + dt.timedelta(days=150)]
    assert len(far) / len(fixed) > 0.8


def test_dates_and_states_are_consistent(company: Population) -> None:
    midnight = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
    for person in company:
        assert person.employment_type in EMPLOYMENT_TYPES
        assert person.employment_status in EMPLOYMENT_STATUSES
        assert person.start_date is not None
        assert person.end_date is None or person.end_date > person.start_date
        assert person.updated_at.tzinfo is not None and person.updated_at <= midnight
        assert person.deleted_at is None


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=150), seed=st.integers(min_value=0, max_value=2**32))
def test_any_size_and_seed_gives_a_sound_company(size: int, seed: int) -> None:
    population = generate_population(size, seed=seed, today=TODAY)
    people = {person.id: person for person in population}
    assert len(people) == size
    assert sum(1 for person in population if person.manager_id is None) == min(size, 1)
    assert all(person.manager_id in people for person in population if person.manager_id)
    assert len({person.work_email for person in population}) == size


# -- mutations --------------------------------------------------------------------------------------


def test_hire_adds_a_pending_person_reporting_to_the_team_lead() -> None:
    population = generate_population(100, seed=1, today=TODAY)
    team = population.teams[1]
    hired = population.hire(now=NOW, team_id=team.id, start_date=TODAY + dt.timedelta(days=10))
    assert population.get(hired.id) == hired
    assert len(population) == 101
    assert hired.team_id == team.id
    assert hired.manager_id == population.lead_of(team.id)
    assert (hired.employment_status, hired.employment_type, hired.end_date) == ("pending", "permanent", None)
    assert hired.updated_at == NOW


def test_hire_accepts_overrides_and_never_reuses_a_work_email() -> None:
    population = generate_population(30, seed=2, today=TODAY)
    taken = population.get("emp_000001")
    hired = population.hire(
        now=NOW, start_date=TODAY, first_name=taken.first_name, last_name=taken.last_name, employment_type="contractor"
    )
    assert hired.employment_status == "active"
    assert hired.employment_type == "contractor"
    namesake = population.hire(now=NOW, first_name=taken.first_name, last_name=taken.last_name)
    emails = [person.work_email for person in population]
    assert len(set(emails)) == len(emails) == 32
    assert namesake.work_email != taken.work_email


def test_change_replaces_the_record_and_bumps_updated_at() -> None:
    population = generate_population(20, seed=2, today=TODAY)
    before = population.get("emp_000005")
    after = population.change("emp_000005", now=NOW, job_title="Principal Engineer", work_email=None)
    assert before.job_title != "Principal Engineer"
    assert (after.job_title, after.work_email, after.updated_at) == ("Principal Engineer", None, NOW)
    assert population.get("emp_000005") == after
    assert (
        dataclasses.replace(
            after, job_title=before.job_title, work_email=before.work_email, updated_at=before.updated_at
        )
        == before
    )


@pytest.mark.parametrize("field", ["id", "updated_at", "deleted_at", "salary"])
def test_change_refuses_identity_bookkeeping_and_unknown_fields(field: str) -> None:
    population = generate_population(5, today=TODAY)
    with pytest.raises(TypeError, match=field):
        population.change("emp_000002", now=NOW, **{field: "x"})


def test_terminate_with_a_past_end_date_makes_the_person_inactive() -> None:
    population = generate_population(20, seed=2, today=TODAY)
    past = population.terminate("emp_000004", TODAY - dt.timedelta(days=1), now=NOW)
    future = population.terminate("emp_000005", TODAY + dt.timedelta(days=30), now=NOW)
    assert (past.end_date, past.employment_status) == (TODAY - dt.timedelta(days=1), "inactive")
    assert future.employment_status == population.get("emp_000005").employment_status != "inactive"
    assert past.updated_at == future.updated_at == NOW


def test_delete_keeps_the_record_marked_with_deleted_at() -> None:
    population = generate_population(20, seed=2, today=TODAY)
    later = NOW + dt.timedelta(hours=1)
    deleted = population.delete("emp_000006", now=later)
    assert population.get("emp_000006") == deleted
    assert deleted.deleted and deleted.deleted_at == later == deleted.updated_at
    assert len(population) == 20


def test_mutations_need_a_timezone_aware_now() -> None:
    population = generate_population(5, today=TODAY)
    with pytest.raises(ValueError, match="timezone"):
        population.change("emp_000002", now=dt.datetime(2026, 3, 2, 9, 0), job_title="x")
    with pytest.raises(ValueError, match="timezone"):
        population.hire(now=dt.datetime(2026, 3, 2, 9, 0))


def test_mutations_normalise_now_to_utc() -> None:
    population = generate_population(5, today=TODAY)
    paris = dt.timezone(dt.timedelta(hours=1))
    changed = population.change("emp_000002", now=dt.datetime(2026, 3, 2, 10, 0, tzinfo=paris), job_title="x")
    assert changed.updated_at == NOW and changed.updated_at.tzinfo == dt.UTC
