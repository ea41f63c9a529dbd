"""The directory pages and the employee profile behind TestClient, on SQLite and PostgreSQL: tenancy, roles,
the keyset pages, and what a hand edit of a locked field answers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from ui_harness import UiWorld, open_ui_world, snapshot, state_changing_routes

from fakes import ListSource, person
from staffsync.domain.fields import FieldSetting, FieldSettings, SyncMode
from staffsync.domain.values import Ref
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import run_sync, utc_now

PROFILE_LINK = re.compile(r'href="/employees/([0-9a-f-]{36})"')
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')


@pytest.fixture
def world(db: Database) -> Iterator[UiWorld]:
    yield from open_ui_world(db)


@pytest.fixture
def foreign_employee_id(world: UiWorld) -> str:
    """Someone of Globex, the other account, synced from Globex's own source."""
    source = ListSource(records=[person(1, work_email="gina@globex.test", first_name="Gina", last_name="Globex")])
    with world.db.transaction() as session:
        connection_id = connections.create_connection(
            session, world.other_account_id, name="Globex HR", provider="test", now=utc_now()
        ).id
    assert run_sync(world.db, connection_id, account_id=world.other_account_id, connector=source).status == "succeeded"
    with world.db.session() as session:
        return session.execute(
            select(models.Employee.id).where(models.Employee.account_id == world.other_account_id)
        ).scalar_one()


def employee_actions(world: UiWorld, employee_id: str) -> list[str]:
    """Every page action on one employee, from the app's own routes: a new one is covered without a new test."""
    paths = [
        path
        for method, path in state_changing_routes(world.app)
        if method == "POST" and ("{employee_id}" in path or path.startswith("/employees/{"))
    ]
    assert len(paths) >= 4, paths
    return [
        re.sub(r"\{(\w+)\}", lambda m: employee_id if m.group(1) in {"employee_id", "id"} else "job_title", path)
        for path in paths
    ]


def test_another_accounts_employee_is_a_404_page_everywhere_and_nothing_changes(
    world: UiWorld, foreign_employee_id: str
) -> None:
    browser = world.signed_in(world.admin)
    profile = browser.client.get(f"/employees/{foreign_employee_id}")
    assert profile.status_code == 404
    assert "Employee not found" in profile.text
    assert "Gina" not in profile.text
    before = snapshot(world.db)
    for action in employee_actions(world, foreign_employee_id):
        response = browser.form_post(action, {"value": "Takeover", "back": "profile"})
        assert response.status_code == 404, action
        assert "Employee not found" in response.text, action
    assert snapshot(world.db) == before


def test_a_viewer_is_refused_every_action_with_a_403_page_and_nothing_changes(world: UiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    browser = world.signed_in(world.viewer)
    before = snapshot(world.db)
    for action in employee_actions(world, employee_id):
        response = browser.form_post(action, {"value": "Viewer was here", "back": "profile"})
        assert response.status_code == 403, action
        assert "Read-only access" in response.text, action
    assert snapshot(world.db) == before


def test_the_lists_never_show_another_accounts_people(world: UiWorld, foreign_employee_id: str) -> None:
    browser = world.signed_in(world.admin)
    for path in ("/employees", "/onboardings", "/offboardings", "/detached"):
        page = browser.client.get(path, params={"q": "globex", "include_hidden": "true"})
        assert page.status_code == 200, path
        assert foreign_employee_id not in page.text
        assert "gina@globex.test" not in page.text


def test_keyset_pages_show_everyone_exactly_once_even_without_last_names_or_with_equal_ones(world: UiWorld) -> None:
    extra = [
        person(7, last_name=None, first_name="Mononym"),
        person(8, last_name=None, first_name=None, work_email="person8@acme.test", job_title="Ghost"),
        person(9, last_name="Same", first_name="Bea"),
        person(10, last_name="Same", first_name="Bea"),
        person(11, last_name="Same", first_name=None),
        person(12, last_name="van der Berg", first_name="Ada"),
        person(13, last_name=None, first_name="Aaron", team=Ref("team-x", "X")),
    ]
    world.source.records.extend(extra)
    assert run_sync(world.db, world.connection_id, account_id=world.account_id, connector=world.source).status == (
        "succeeded"
    )
    with world.db.session() as session:
        everyone = set(
            session.execute(
                select(models.Employee.id).where(
                    models.Employee.account_id == world.account_id, models.Employee.detached_at.is_(None)
                )
            ).scalars()
        )
    # person8 has neither name and is rejected by the sync: the directory has 12 people.
    assert len(everyone) == 12
    browser = world.signed_in(world.admin)
    url: str | None = "/employees?limit=2"
    seen: list[str] = []
    while url is not None:
        page = browser.client.get(url.replace("&amp;", "&"))
        assert page.status_code == 200
        results = page.text.split('id="directory-results"', 1)[1]
        ids = PROFILE_LINK.findall(results)
        assert 0 < len(ids) <= 2
        seen.extend(ids)
        following = NEXT_LINK.search(results)
        url = following.group(1) if following else None
        assert len(seen) <= len(everyone)
    assert sorted(seen) == sorted(everyone)


def test_a_cursor_this_app_did_not_make_shows_the_first_page(world: UiWorld) -> None:
    browser = world.signed_in(world.admin)
    for cursor in ("garbage", "eyJub3QiOiJhIGN1cnNvciJ9", "WzAsWyJkOjIwMjQtMDEtMDEiLCJzOngiLCJzOnkiXV0"):
        page = browser.client.get("/employees", params={"cursor": cursor, "limit": "2"})
        assert page.status_code == 200, cursor
        assert "Showing 1\u20132 of 6" in page.text, cursor


def test_a_search_as_you_type_answers_only_the_results_with_a_tidy_address(world: UiWorld) -> None:
    browser = world.signed_in(world.admin)
    page = browser.client.get(
        "/employees?q=Last3&team=&legal_entity=&employment_type=",
        headers={"HX-Request": "true", "HX-Target": "directory-results"},
    )
    assert page.status_code == 200
    assert "<html" not in page.text
    assert page.text.lstrip().startswith('<section class="card directory-results"')
    assert "person3@acme.test" in page.text and "person4@acme.test" not in page.text
    assert page.headers["HX-Push-Url"] == "/employees?q=Last3"


def test_a_forced_edit_of_a_continuous_field_is_refused_with_the_lock_reason(world: UiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    browser = world.signed_in(world.admin)
    before = snapshot(world.db)
    # Whatever is typed, even what would not be a valid value, the answer is the lock and its reason.
    for field, value, label in (("last_name", "Forged", "Last name"), ("manager", "nobody@nowhere", "Manager")):
        response = browser.form_post(f"/employees/{employee_id}/fields/{field}", {"value": value})
        assert response.status_code == 303, field
        profile = browser.client.get(response.headers["location"])
        assert f"{label} is managed by HR sync of Personio DE (continuous synchronisation)" in profile.text
        assert 'class="flash flash-error"' in profile.text
    assert _without_sessions(snapshot(world.db)) == _without_sessions(before)


def test_an_import_once_edit_is_saved_with_the_admin_in_history(world: UiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    browser = world.signed_in(world.admin)
    response = browser.form_post(f"/employees/{employee_id}/fields/job_title", {"value": "Head of Things"})
    assert response.status_code == 303
    with world.db.session() as session:
        employee = session.get(models.Employee, employee_id)
        assert employee is not None and employee.job_title == "Head of Things"
        [latest] = session.execute(
            select(models.Change)
            .where(models.Change.employee_id == employee_id)
            .order_by(models.Change.id.desc())
            .limit(1)
        ).scalars()
    assert latest.actor == f"admin:{world.admin.email}"
    assert latest.fields[0]["old"] == "Engineer" and latest.fields[0]["new"] == "Head of Things"


def test_an_edit_that_is_not_valid_is_answered_next_to_the_field_and_nothing_is_saved(world: UiWorld) -> None:
    switch_to_import_once(world, "manager", "work_location", "start_date", "end_date")
    employee_id = world.employee_id("person3@acme.test")
    browser = world.signed_in(world.admin)
    assert browser.form_post(f"/employees/{employee_id}/fields/end_date", {"value": "2025-01-31"}).status_code == 303
    before = snapshot(world.db)
    for field, form, message in (
        ("personal_email", {"value": "no-at-sign"}, "is not an email address"),
        ("manager", {"value": "nobody@acme.test"}, "No one in the directory has the professional email"),
        ("manager", {"value": "person3@acme.test"}, "cannot be their own manager"),
        ("job_title", {"value": "x" * 301}, "At most 300 characters"),
        ("start_date", {"value": "31/12/2024"}, "Enter a date as YYYY-MM-DD"),
        ("start_date", {"value": "2025-06-01"}, "End date 2025-01-31 is before start date 2025-06-01"),
        ("work_location", {"name": "", "country": "DE"}, "Give the location a name"),
    ):
        page = browser.form_post(f"/employees/{employee_id}/fields/{field}", form)
        assert page.status_code == 422, field
        assert f'id="error-{field}"' in page.text and message in page.text, field
    assert snapshot(world.db) == before


def test_switching_a_field_to_import_once_makes_it_editable_in_the_profile(world: UiWorld) -> None:
    switch_to_import_once(world, "team")
    employee_id = world.employee_id("person3@acme.test")
    browser = world.signed_in(world.admin)
    page = browser.client.get(f"/employees/{employee_id}")
    assert f'action="/employees/{employee_id}/fields/team"' in page.text
    assert f'action="/employees/{employee_id}/fields/last_name"' not in page.text
    cleared = browser.form_post(f"/employees/{employee_id}/fields/team", {"value": ""})
    assert cleared.status_code == 303
    assert team_of(world, employee_id) is None
    chosen = browser.form_post(f"/employees/{employee_id}/fields/team", {"value": "team-eng"})
    assert chosen.status_code == 303
    assert team_of(world, employee_id) == {"id": "team-eng", "name": "Engineering"}
    invented = browser.form_post(f"/employees/{employee_id}/fields/team", {"value": "team-invented"})
    assert invented.status_code == 422 and "Pick one of the team values the directory has" in invented.text
    assert team_of(world, employee_id) == {"id": "team-eng", "name": "Engineering"}


def team_of(world: UiWorld, employee_id: str) -> object:
    with world.db.session() as session:
        employee = session.get(models.Employee, employee_id)
        assert employee is not None
        return employee.team


def switch_to_import_once(world: UiWorld, *fields: str) -> None:
    import_once = FieldSetting(enabled=True, mode=SyncMode.IMPORT_ONCE)
    with world.db.transaction() as session:
        connection = connections.get_connection(session, world.account_id, world.connection_id)
        assert connection is not None
        settings = FieldSettings({**FieldSettings.defaults().settings, **dict.fromkeys(fields, import_once)})
        connections.save_field_settings(session, connection, settings, now=utc_now())


def _without_sessions(state: dict[str, list[tuple[str, ...]]]) -> dict[str, list[tuple[str, ...]]]:
    """The flash message a refused action leaves for the next page is the only trace it may leave."""
    return {table: rows for table, rows in state.items() if table != "web_sessions"}


def test_a_home_address_is_edited_part_by_part_and_shown_on_one_line(world: UiWorld) -> None:
    employee_id = world.employee_id("person3@acme.test")
    browser = world.signed_in(world.admin)
    address = {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "region": "", "country": "DE"}
    response = browser.form_post(f"/employees/{employee_id}/fields/home_address", address)
    assert response.status_code == 303
    with world.db.session() as session:
        employee = session.get(models.Employee, employee_id)
        assert employee is not None
        assert employee.home_address == {**address, "region": None}
    profile = browser.client.get(f"/employees/{employee_id}")
    assert "Hauptstr. 1, 10115 Berlin, DE" in profile.text
