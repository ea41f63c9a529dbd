"""The five HRIS list routes read through the official SDK: every page, every key, every filter."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import pytest
from kombo import errors, models
from kombo_sim_harness import Simulator
from pydantic import BaseModel

from staffsync.simulators.kombo.integration import Integration


def _all(first: Any) -> list[Any]:
    """Follows `res.next()` to the end, as the SDK documents it."""
    items: list[Any] = []
    page = first
    while page:
        items += page.result.data.results
        page = page.next()
    return items


def _required(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items() if field.is_required()}


def _visible(integration: Integration) -> list[str]:
    return [integration.mirror.employee_id(p.id) for p in integration.population if not p.deleted]


def test_every_list_route_parses_across_all_pages_with_each_record_once(sim: Simulator) -> None:
    integration = sim.integration(size=600, seed=11)
    mirror = integration.mirror
    with sim.kombo(integration) as kombo:
        employees = _all(kombo.hris.get_employees(page_size=70))
        employments = _all(kombo.hris.get_employments(page_size=250))
        groups = _all(kombo.hris.get_groups(page_size=9))
        entities = _all(kombo.hris.get_legal_entities(page_size=2))
        locations = _all(kombo.hris.get_locations(page_size=1))
    assert len(employees) == 600
    assert sorted(e.id for e in employees) == sorted(_visible(integration))
    assert [e.id for e in employees] == sorted(e.id for e in employees)  # a stable order: by id
    assert {e.employee_id for e in employments} == {e.id for e in employees}
    assert len(employments) == 600
    assert sorted(g.id for g in groups) == mirror.group_order
    assert sorted(e.id for e in entities) == mirror.entity_order
    assert sorted(loc.id for loc in locations) == mirror.location_order
    assert len(sim.requests("/v1/hris/employees")) == -(-600 // 70)


def test_every_required_key_is_sent_and_the_content_type_is_exactly_json(sim: Simulator) -> None:
    integration = sim.integration()
    routes = {
        "employees": models.GetHrisEmployeesPositiveResponseResult,
        "employments": models.GetHrisEmploymentsPositiveResponseResult,
        "groups": models.GetHrisGroupsPositiveResponseResult,
        "legal-entities": models.GetHrisLegalEntitiesPositiveResponseResult,
        "locations": models.GetHrisLocationsPositiveResponseResult,
    }
    for route, model in routes.items():
        response = sim.http.get(f"{sim.api}/hris/{route}", headers=sim.headers(integration))
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {"status", "data"} and set(body["data"]) == {"results", "next"}
        for result in body["data"]["results"]:
            assert _required(model) <= set(result), route
    employee = sim.http.get(f"{sim.api}/hris/employees", headers=sim.headers(integration)).json()["data"]["results"][0]
    nested = {
        "manager": models.Manager,
        "legal_entity": models.GetHrisEmployeesPositiveResponseLegalEntity,
        "work_location": models.WorkLocation,
    }
    for key, model in nested.items():
        assert _required(model) <= set(employee[key]), key
    assert _required(models.Employment) <= set(employee["employments"][0])
    assert employee["start_date"].endswith("T00:00:00.000Z") and employee["changed_at"].endswith("Z")


def test_employees_carry_memberships_references_and_mapped_enums(sim: Simulator) -> None:
    integration = sim.integration(size=800, seed=3)
    with sim.kombo(integration) as kombo:
        employees = _all(kombo.hris.get_employees(page_size=250))
        groups = {g.id: g for g in _all(kombo.hris.get_groups(page_size=250))}
        entities = {e.id for e in _all(kombo.hris.get_legal_entities())}
        locations = {loc.id for loc in _all(kombo.hris.get_locations())}
    by_id = {e.id: e for e in employees}
    by_remote = {p.remote_id: p for p in integration.population}
    kinds: dict[str, collections.Counter[str | None]] = collections.defaultdict(collections.Counter)
    for employee in employees:
        person = by_remote[employee.remote_id]
        assert [g.type for g in employee.groups].count("DEPARTMENT") == 1
        assert {g.type for g in employee.groups} == {"DEPARTMENT", "TEAM"}
        assert all(groups[g.id].name == g.name for g in employee.groups)
        assert employee.legal_entity.id == employee.legal_entity_id in entities
        assert employee.work_location.id == employee.work_location_id in locations
        assert employee.time_off_balances == [] and len(employee.employments) == 1
        assert employee.start_date == dt.datetime.combine(person.start_date, dt.time(), dt.UTC)
        assert employee.work_email == person.work_email and employee.personal_email == person.personal_email
        assert employee.employment_status == person.employment_status.upper()
        kinds[person.employment_type][employee.employment_type] += 1
        if employee.manager_id is None:
            assert employee.manager is None
        else:
            manager = by_id[employee.manager_id]
            assert employee.manager.id == manager.id and employee.manager.last_name == manager.last_name
        if person.employment_type == "fixed_term":
            assert employee.termination_date is not None
    assert set(kinds["permanent"]) == {"FULL_TIME", "PART_TIME"}
    assert set(kinds["contractor"]) == {"CONTRACT"} and set(kinds["freelance"]) == {"FREELANCE"}
    assert set(kinds["intern"]) == {"INTERNSHIP"} and set(kinds["apprentice"]) == {"APPRENTICESHIP"}
    assert set(kinds["other"]) == {None}


def test_groups_form_a_department_team_hierarchy_and_filter_by_type_and_name(sim: Simulator) -> None:
    integration = sim.integration(size=400)
    with sim.kombo(integration) as kombo:
        groups = _all(kombo.hris.get_groups(page_size=250))
        teams = _all(kombo.hris.get_groups(types=["TEAM"]))
        engineering = _all(kombo.hris.get_groups(name_contains="engin"))
        offices = _all(kombo.hris.get_locations(name_contains="office"))
    by_id = {g.id: g for g in groups}
    for group in groups:
        if group.type == "TEAM":
            assert by_id[group.parent_id].type == "DEPARTMENT"
        else:
            assert group.type == "DEPARTMENT" and group.parent_id is None
    assert {g.id for g in teams} == {g.id for g in groups if g.type == "TEAM"}
    assert engineering and all("engin" in g.name.lower() for g in engineering)
    assert len(offices) == len(integration.population.locations)


def test_page_size_250_is_served_and_251_is_input_invalid(sim: Simulator) -> None:
    integration = sim.integration(size=300)
    with sim.kombo(integration) as kombo:
        assert len(kombo.hris.get_employees(page_size=250).result.data.results) == 250
        with pytest.raises(errors.KomboHrisError) as raised:
            kombo.hris.get_employees(page_size=251)
    assert raised.value.status_code == 400 and raised.value.data.error.code == "PLATFORM.INPUT_INVALID"


def test_filters_are_anded_across_parameters_and_ored_within_one(sim: Simulator) -> None:
    integration = sim.integration(size=700, seed=8)
    with sim.kombo(integration) as kombo:
        everyone = _all(kombo.hris.get_employees(page_size=250))

        def ids(**filters: Any) -> set[str]:
            return {e.id for e in _all(kombo.hris.get_employees(page_size=250, **filters))}

        entity, other_entity = sorted({e.legal_entity_id for e in everyone})[:2]
        department = next(g for g in everyone[0].groups if g.type == "DEPARTMENT")
        sample = everyone[:3]
        assert ids(employment_statuses=["ACTIVE"]) == {e.id for e in everyone if e.employment_status == "ACTIVE"}
        assert ids(employment_statuses=["PENDING", "LEAVE"]) == {
            e.id for e in everyone if e.employment_status in ("PENDING", "LEAVE")
        }
        assert ids(legal_entity_ids=[entity], employment_statuses=["ACTIVE"]) == {
            e.id for e in everyone if e.legal_entity_id == entity and e.employment_status == "ACTIVE"
        }
        assert ids(legal_entity_ids=[entity, other_entity]) == {
            e.id for e in everyone if e.legal_entity_id in (entity, other_entity)
        }
        assert ids(group_ids=[department.id]) == {e.id for e in everyone if department.id in {g.id for g in e.groups}}
        location = everyone[5].work_location_id
        assert ids(work_location_ids=[location]) == {e.id for e in everyone if e.work_location_id == location}
        assert ids(work_emails=[e.work_email.upper() for e in sample]) == {e.id for e in sample}
        assert ids(personal_emails=[sample[0].personal_email]) >= {sample[0].id}
        assert ids(ids=[e.id for e in sample]) == {e.id for e in sample}
        assert ids(remote_ids=[sample[1].remote_id]) == {sample[1].id}
        assert ids(ids=[sample[0].id], remote_ids=[sample[1].remote_id]) == set()
        cost_center = sample[0].custom_fields["cost_center"]
        assert ids(custom_fields=f'{{"cost_center": "{cost_center}"}}') == {
            e.id for e in everyone if e.custom_fields["cost_center"] == cost_center
        }
        with pytest.raises(errors.KomboHrisError, match="employment_statuses"):
            kombo.hris.get_employees(employment_statuses=["RETIRED"])


def test_a_cursor_resent_with_other_filters_or_garbled_is_input_invalid(sim: Simulator) -> None:
    integration = sim.integration(size=200)
    with sim.kombo(integration) as kombo:
        first = kombo.hris.get_employees(page_size=50, employment_statuses=["ACTIVE"])
        cursor = first.result.data.next
        assert cursor
        assert kombo.hris.get_employees(page_size=50, employment_statuses=["ACTIVE"], cursor=cursor).result.data.results
        for bad in ({"employment_statuses": ["PENDING"], "cursor": cursor}, {"cursor": "not-a-cursor"}):
            with pytest.raises(errors.KomboHrisError) as raised:
                kombo.hris.get_employees(page_size=50, **bad)
            assert raised.value.data.error.code == "PLATFORM.INPUT_INVALID"
        with pytest.raises(errors.KomboHrisError):
            kombo.hris.get_groups(cursor=cursor)


def test_updated_after_sees_nested_changes_that_leave_changed_at_behind(sim: Simulator) -> None:
    integration = sim.integration(size=150, seed=4)
    sim.control("POST", "/clock", json={"now": "2030-01-01T12:00:00Z", "frozen": True})
    mirror = integration.mirror
    member = next(p for p in integration.population if p.manager_id and p.extra_team_ids == ())
    reports_of_manager = [p for p in integration.population if p.manager_id == member.manager_id]
    other_team = next(g.id for g in integration.population.teams if g.id != member.team_id)
    before = dt.datetime(2030, 1, 1, 11, 0, tzinfo=dt.UTC)
    integration.change(member.id, team_id=other_team)  # a membership change only
    integration.change(member.manager_id or "", last_name="Renamed")  # linked data of every report
    with sim.kombo(integration) as kombo:
        changed = {e.id: e for e in _all(kombo.hris.get_employees(updated_after=before, include_deleted=True))}
    moved = changed[mirror.employee_id(member.id)]
    assert moved.changed_at < before  # the quirk of notes §4
    assert changed[mirror.employee_id(member.manager_id or "")].changed_at == dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)
    assert {mirror.employee_id(p.id) for p in reports_of_manager} <= set(changed)
    assert len(changed) == len(reports_of_manager) + 1
    for text in (
        "2030-01-01T11:00:00Z",
        "2030-01-01T11:00:00.123Z",
        "2030-01-01T11:00:00",
        "2030-01-01T11:00:00+00:00",
    ):
        response = sim.http.get(
            f"{sim.api}/hris/employees", params={"updated_after": text}, headers=sim.headers(integration)
        )
        assert len(response.json()["data"]["results"]) == len(changed), text
    with sim.kombo(integration) as kombo:
        assert _all(kombo.hris.get_employees(updated_after=dt.datetime(2030, 1, 1, 13, tzinfo=dt.UTC))) == []


def test_deleted_people_are_tombstones_then_anonymised_after_fourteen_days(sim: Simulator) -> None:
    integration = sim.integration(size=100, seed=6)
    sim.control("POST", "/clock", json={"now": "2031-03-01T08:00:00Z", "frozen": True})
    person = next(p for p in integration.population if p.manager_id)
    kombo_id = integration.mirror.employee_id(person.id)
    sim.control("POST", f"/integrations/{integration.id}/employees/{person.remote_id}/delete")
    with sim.kombo(integration) as kombo:
        assert kombo_id not in {e.id for e in _all(kombo.hris.get_employees())}
        tombstone = kombo.hris.get_employees(ids=[kombo_id], include_deleted=True).result.data.results[0]
        assert tombstone.remote_deleted_at == dt.datetime(2031, 3, 1, 8, tzinfo=dt.UTC)
        assert tombstone.last_name == person.last_name and tombstone.employments[0].remote_deleted_at
        assert len(_all(kombo.hris.get_employees(include_deleted=True))) == 100
        employment = kombo.hris.get_employments(include_deleted=True, ids=[tombstone.employments[0].id])
        assert employment.result.data.results[0].job_title == person.job_title
        sim.control("POST", "/clock", json={"advance_days": 14})
        anonymous = kombo.hris.get_employees(ids=[kombo_id], include_deleted=True).result.data.results[0]
        employment = kombo.hris.get_employments(include_deleted=True, ids=[tombstone.employments[0].id])
    assert (anonymous.id, anonymous.remote_id) == (kombo_id, person.remote_id)
    assert anonymous.first_name is anonymous.last_name is anonymous.work_email is anonymous.manager is None
    assert anonymous.groups == [] and anonymous.employments == [] and anonymous.start_date is None
    assert employment.result.data.results[0].job_title is None


def test_raw_enums_pass_through_the_sdk_as_unmapped_strings(sim: Simulator) -> None:
    integration = sim.integration(size=200)
    sim.control("PATCH", f"/integrations/{integration.id}", json={"raw_enums": True})
    with sim.kombo(integration) as kombo:
        employees = _all(kombo.hris.get_employees(page_size=250))
    assert {e.employment_status for e in employees} <= {"Active", "Onboarding", "On leave", "Terminated"}
    assert "Permanent employee" in {e.employment_type for e in employees}


def test_without_auto_sync_changes_wait_for_a_sync_and_only_full_syncs_see_deletions(sim: Simulator) -> None:
    integration = sim.integration(size=80)
    sim.control("PUT", "/settings", json={"auto_sync": False})
    hired = sim.control(
        "POST", f"/integrations/{integration.id}/hire", json={"first_name": "Ada", "last_name": "Byron"}
    )
    assert hired["synced"] is False
    gone = next(iter(integration.population))
    sim.control("POST", f"/integrations/{integration.id}/employees/{gone.id}/delete")
    with sim.kombo(integration) as kombo:
        assert len(_all(kombo.hris.get_employees())) == 80
        queued = kombo.general.trigger_sync(type_="DELTA").data
        again = kombo.general.trigger_sync(type_="DELTA").data
        assert (queued.already_queued, again.already_queued, again.sync_id) == (False, True, queued.sync_id)
        assert len(_all(kombo.hris.get_employees())) == 80  # queued, not run: a sync takes time
        sim.control("POST", "/clock", json={"advance_seconds": 6})
        ids = {e.id for e in _all(kombo.hris.get_employees())}
        assert hired["id"] in ids and integration.mirror.employee_id(gone.id) in ids  # a delta sees no deletion
        sim.control("POST", f"/integrations/{integration.id}/sync", json={"type": "FULL"})
        assert len(_all(kombo.hris.get_employees())) == 80
