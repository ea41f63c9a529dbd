"""The connection page behind TestClient, on SQLite and PostgreSQL: tenancy (another account's connection or run
is a 404 on every page and action, and nothing changes), roles (a viewer reads, every action is a 403 page),
Sync now against a held lock, the status fragment's contract, held runs, disconnecting, and saving settings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from ui_harness import SignedInBrowser, UiWorld, open_ui_world, snapshot

from fakes import ListSource, person
from staffsync.domain.fields import FIELD_NAMES
from staffsync.services.employees import edit_employee
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.storage.locks import connection_lock
from staffsync.sync.engine import run_sync, utc_now
from staffsync.web.connection_detail import SyncStatus, span, sync_status


@dataclass
class Scene:
    world: UiWorld
    admin: SignedInBrowser
    viewer: SignedInBrowser
    held_run_id: str
    other_connection_id: str
    other_run_id: str

    @property
    def page(self) -> str:
        return f"/settings/employee-sync/{self.world.connection_id}"

    def runs(self, connection_id: str | None = None) -> list[models.SyncRun]:
        with self.world.db.session() as session:
            return list(
                session.execute(
                    select(models.SyncRun).where(
                        models.SyncRun.connection_id == (connection_id or self.world.connection_id)
                    )
                ).scalars()
            )


def _held(db: Database, account_id: str, connection_id: str, source: ListSource) -> str:
    """An empty feed while people are linked looks like a broken source: the run is held."""
    source.records = []
    outcome = run_sync(db, connection_id, account_id=account_id, connector=source)
    assert outcome.status == "held", outcome
    return outcome.run_id


@pytest.fixture
def scene(db: Database) -> Iterator[Scene]:
    for world in open_ui_world(db):
        people = list(world.source.records)
        held = _held(db, world.account_id, world.connection_id, world.source)
        world.source.records = people
        other_source = ListSource([person(n, work_email=f"g{n}@globex.test") for n in range(1, 4)])
        with db.transaction() as session:
            other = connections.create_connection(
                session, world.other_account_id, name="Globex HR", provider="test", now=utc_now()
            ).id
        run_sync(db, other, account_id=world.other_account_id, connector=other_source)
        other_run = _held(db, world.other_account_id, other, other_source)
        yield Scene(world, world.signed_in(world.admin), world.signed_in(world.viewer), held, other, other_run)


def settings_form(*, off: tuple[str, ...] = (), **modes: str) -> dict[str, list[str]]:
    """The settings form as the page posts it: every field, switched on unless `off`, in its default mode unless
    given; no filters."""
    form: dict[str, list[str]] = {"field": list(FIELD_NAMES)}
    for name in FIELD_NAMES:
        if name not in off:
            form[f"enabled_{name}"] = ["on"]
        if name in modes:
            form[f"mode_{name}"] = [modes[name]]
    return form


def follow(browser: SignedInBrowser, response: object) -> str:
    location = response.headers["location"]  # type: ignore[attr-defined]
    return str(browser.client.get(location).text)


# --- tenancy -----------------------------------------------------------------------------------------------


def test_every_page_of_another_accounts_connection_or_run_is_a_404(scene: Scene) -> None:
    theirs = f"/settings/employee-sync/{scene.other_connection_id}"
    mixed = f"{scene.page}/runs/{scene.other_run_id}"
    for url in (
        theirs,
        f"{theirs}/status",
        f"{theirs}/runs/{scene.other_run_id}",
        f"{theirs}/runs/{scene.other_run_id}/plan",
        f"{theirs}/settings",
        f"{theirs}/disconnect",
        mixed,
        f"{mixed}/plan",
    ):
        response = scene.admin.client.get(url)
        assert response.status_code == 404, url
        assert "Globex" not in response.text


def test_every_action_on_another_accounts_connection_or_run_is_a_404_and_changes_nothing(scene: Scene) -> None:
    theirs = f"/settings/employee-sync/{scene.other_connection_id}"
    before = snapshot(scene.world.db)
    for url, form in (
        (f"{theirs}/sync", {}),
        (f"{theirs}/runs/{scene.other_run_id}/approve", {}),
        (f"{theirs}/runs/{scene.other_run_id}/discard", {}),
        (f"{scene.page}/runs/{scene.other_run_id}/approve", {}),
        (f"{scene.page}/runs/{scene.other_run_id}/discard", {}),
        (f"{theirs}/disconnect", {}),
        (f"{theirs}/settings/review", settings_form()),
        (f"{theirs}/settings", settings_form()),
    ):
        response = scene.admin.form_post(url, form)  # type: ignore[arg-type]
        assert response.status_code == 404, url
    scene.world.app.state.api.join_syncs(timeout=30)
    assert snapshot(scene.world.db) == before


# --- roles ---------------------------------------------------------------------------------------------------


def test_a_viewer_reads_every_page_but_each_action_is_a_403_page_and_changes_nothing(scene: Scene) -> None:
    for url in (scene.page, f"{scene.page}/status", f"{scene.page}/runs/{scene.held_run_id}", f"{scene.page}/settings"):
        assert scene.viewer.client.get(url).status_code == 200, url
    page = scene.viewer.client.get(f"{scene.page}/runs/{scene.held_run_id}").text
    assert re.search(r'<button class="btn btn-primary" type="submit" disabled[^>]*>Approve and apply', page)

    before = snapshot(scene.world.db)
    for url, form in (
        (f"{scene.page}/sync", {}),
        (f"{scene.page}/runs/{scene.held_run_id}/approve", {}),
        (f"{scene.page}/runs/{scene.held_run_id}/discard", {}),
        (f"{scene.page}/disconnect", {}),
        (f"{scene.page}/settings/review", settings_form(off=("personal_email",))),
        (f"{scene.page}/settings", settings_form()),
    ):
        response = scene.viewer.form_post(url, form)  # type: ignore[arg-type]
        assert response.status_code == 403, url
        assert "Read-only access" in response.text
    scene.world.app.state.api.join_syncs(timeout=30)
    assert snapshot(scene.world.db) == before


# --- Sync now and the live status ----------------------------------------------------------------------------


def test_sync_now_while_a_run_holds_the_lock_says_so_and_starts_no_second_run(scene: Scene) -> None:
    runs_before = len(scene.runs())
    with connection_lock(scene.world.db, scene.world.connection_id):
        response = scene.admin.form_post(f"{scene.page}/sync")
        assert response.status_code == 303
        assert "A sync of Personio DE is already running" in follow(scene.admin, response)
        fragment = scene.admin.form_post(f"{scene.page}/sync", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        assert "A sync of Personio DE is already running" in fragment.text
        assert fragment.text.strip().startswith(f'<div id="sync-status-{scene.world.connection_id}"')
    scene.world.app.state.api.join_syncs(timeout=30)
    assert len(scene.runs()) == runs_before


def test_sync_now_starts_a_run_from_the_ui_and_returns_to_the_page_it_was_asked_from(scene: Scene) -> None:
    response = scene.admin.form_post(f"{scene.page}/sync", {"next": "/settings/employee-sync"})
    assert response.status_code == 303 and response.headers["location"] == "/settings/employee-sync"
    scene.world.app.state.api.join_syncs(timeout=30)
    newest = max(scene.runs(), key=lambda run: run.started_at)
    assert newest.trigger == "ui" and newest.status == "succeeded"
    elsewhere = scene.admin.form_post(f"{scene.page}/sync", {"next": "https://evil.test/"})
    assert elsewhere.headers["location"] == scene.page
    scene.world.app.state.api.join_syncs(timeout=30)


def test_the_status_fragment_is_one_div_that_polls_while_a_run_goes_on_then_announces_the_end(scene: Scene) -> None:
    connection_id = scene.world.connection_id
    with scene.world.db.transaction() as session:
        running = models.SyncRun(
            id="00000000-0000-0000-0000-00000000beef",
            account_id=scene.world.account_id,
            connection_id=connection_id,
            trigger="ui",
            kind="full",
            status="running",
            started_at=utc_now(),
        )
        session.add(running)
    polling = scene.admin.client.get(f"{scene.page}/status")
    assert polling.status_code == 200
    html = polling.text.strip()
    assert html.startswith(f'<div id="sync-status-{connection_id}"') and html.endswith("</div>")
    assert html.count('id="sync-status-') == 1
    assert f'hx-get="/settings/employee-sync/{connection_id}/status?running=true"' in html
    assert 'hx-trigger="every 2s"' in html and 'hx-swap="outerHTML"' in html
    assert re.search(r"Sync running…</span>\s*<span class=\"muted\">\(started (under 1|\d+) s ago\)", html)
    assert "HX-Trigger" not in polling.headers

    with scene.world.db.transaction() as session:
        row = session.get(models.SyncRun, running.id)
        assert row is not None
        row.status, row.finished_at = "failed", utc_now()
    ended = scene.admin.client.get(f"{scene.page}/status?running=true")
    assert ended.headers["HX-Trigger"] == "sync-finished"
    assert "hx-trigger" not in ended.text
    assert scene.admin.client.get(f"{scene.page}/status").headers.get("HX-Trigger") is None


def test_the_status_fragment_can_be_rendered_by_another_page_without_the_time_zone(scene: Scene) -> None:
    with scene.world.db.session() as session:
        connection = connections.get_connection(session, scene.world.account_id, scene.world.connection_id)
        assert connection is not None
        status = sync_status(session, connection, utc_now())
    assert isinstance(status, SyncStatus) and status.timezone == "Europe/Berlin"
    assert status.last is not None and status.last.status == "held" and status.running is None


def test_durations_read_as_an_admin_says_them() -> None:
    assert [span(s) for s in (0.4, 12, 65, 600, 3700, 7200)] == [
        "under 1 s",
        "12 s",
        "1 min 5 s",
        "10 min",
        "1 h 1 min",
        "2 h",
    ]


# --- held runs -----------------------------------------------------------------------------------------------


def test_the_page_shows_the_held_banner_and_the_held_run_its_reasons_and_plan(scene: Scene) -> None:
    page = scene.admin.client.get(scene.page).text
    assert "A sync is held for your review" in page
    assert "the source returned nobody while 6 people are linked" in page
    run = scene.admin.client.get(f"{scene.page}/runs/{scene.held_run_id}").text
    assert "Held for your review: nothing was applied" in run
    assert run.count("No longer returned by the HR system") == 6


def test_approving_a_plan_whose_people_changed_since_applies_nothing_and_names_them(scene: Scene) -> None:
    world = scene.world
    with world.db.transaction() as session:
        edit_employee(
            session,
            world.account_id,
            world.employee_id("person2@acme.test"),
            {"job_title": "Chief Tea Officer"},
            actor="admin:someone",
            now=utc_now(),
        )
    before = snapshot(world.db)
    response = scene.admin.form_post(f"{scene.page}/runs/{scene.held_run_id}/approve")
    message = follow(scene.admin, response)
    assert "Nothing was applied: 1 person of this plan changed after it was made (First2 Last2)" in message
    after = snapshot(world.db)
    assert after["employees"] == before["employees"] and after["source_links"] == before["source_links"]
    assert {run.status for run in scene.runs() if run.id == scene.held_run_id} == {"held"}


def test_approving_applies_exactly_the_plan_and_a_second_approval_says_the_run_is_no_longer_held(scene: Scene) -> None:
    response = scene.admin.form_post(f"{scene.page}/runs/{scene.held_run_id}/approve")
    assert "Approved: the held plan was applied (6 people detached)" in follow(scene.admin, response)
    with scene.world.db.session() as session:
        detached = session.scalar(
            select(func.count()).where(
                models.Employee.account_id == scene.world.account_id, models.Employee.detached_at.is_not(None)
            )
        )
    assert detached == 6
    again = scene.admin.form_post(f"{scene.page}/runs/{scene.held_run_id}/discard")
    assert "This run is no longer held" in follow(scene.admin, again)


def test_discarding_a_held_run_applies_nothing(scene: Scene) -> None:
    before = snapshot(scene.world.db)
    response = scene.admin.form_post(f"{scene.page}/runs/{scene.held_run_id}/discard")
    assert "Discarded: nothing of this run was applied." in follow(scene.admin, response)
    after = snapshot(scene.world.db)
    assert after["employees"] == before["employees"] and after["source_links"] == before["source_links"]
    assert {run.status for run in scene.runs() if run.id == scene.held_run_id} == {"discarded"}


# --- disconnecting and settings ----------------------------------------------------------------------------------


def test_disconnecting_keeps_the_people_detached_with_the_reason_and_stops_sync_now(scene: Scene) -> None:
    confirm = scene.admin.client.get(f"{scene.page}/disconnect").text
    assert "Stops syncing for good." in confirm and "source disconnected" in confirm
    response = scene.admin.form_post(f"{scene.page}/disconnect")
    assert "Personio DE is disconnected" in follow(scene.admin, response)
    with scene.world.db.session() as session:
        reasons = session.execute(
            select(models.Employee.detach_reason).where(models.Employee.account_id == scene.world.account_id)
        ).scalars()
        assert set(reasons) == {"source disconnected"}
    runs_before = len(scene.runs())
    refused = scene.admin.form_post(f"{scene.page}/sync")
    assert "Personio DE is disconnected: it no longer syncs" in follow(scene.admin, refused)
    assert len(scene.runs()) == runs_before


def test_a_proposal_with_a_core_field_switched_off_is_refused_and_nothing_is_saved(scene: Scene) -> None:
    before = snapshot(scene.world.db)
    form = settings_form(off=("first_name",))
    for url in (f"{scene.page}/settings/review", f"{scene.page}/settings"):
        response = scene.admin.form_post(url, form)  # type: ignore[arg-type]
        assert response.status_code == 422, url
        assert "core field" in response.text
    assert snapshot(scene.world.db) == before


def test_reviewing_the_saved_settings_unchanged_runs_no_dry_run(scene: Scene) -> None:
    runs_before = len(scene.runs())
    form = settings_form(job_title="import_once")
    response = scene.admin.form_post(f"{scene.page}/settings/review", form)  # type: ignore[arg-type]
    assert response.status_code == 303
    assert "Nothing to review" in follow(scene.admin, response)
    assert len(scene.runs()) == runs_before


def test_saving_stores_exactly_the_proposal_and_erases_switched_off_fields(scene: Scene) -> None:
    form = settings_form(off=("personal_email",), job_title="continuous")
    response = scene.admin.form_post(f"{scene.page}/settings", form)  # type: ignore[arg-type]
    assert "Erased: Personal email of 6 people." in follow(scene.admin, response)
    connection = scene.world.db.session().get(models.Connection, scene.world.connection_id)
    assert connection is not None
    assert connection.field_settings["personal_email"]["enabled"] is False
    assert connection.field_settings["job_title"]["mode"] == "continuous"
    with scene.world.db.session() as session:
        emails = session.execute(
            select(models.Employee.personal_email).where(models.Employee.account_id == scene.world.account_id)
        ).scalars()
        assert set(emails) == {None}


def test_saved_settings_and_a_held_run_approval_are_in_the_audit_trail_as_the_admin(scene: Scene) -> None:
    from staffsync.storage import audit

    form = settings_form(off=("personal_email",), job_title="continuous")
    scene.admin.form_post(f"{scene.page}/settings", form)  # type: ignore[arg-type]
    scene.admin.form_post(f"{scene.page}/runs/{scene.held_run_id}/discard")
    with scene.world.db.session() as session:
        entries = audit.list_entries(session, scene.world.account_id, limit=100)
    settings = next(e for e in entries if e.action == "connection.updated" and "field_settings" in e.changes)
    assert settings.actor == f"admin:{scene.world.admin.email}"
    assert settings.changes["field_settings"]["new"]["personal_email"]["enabled"] is False
    discarded = next(e for e in entries if e.action == "sync_run.discarded")
    assert discarded.actor == f"admin:{scene.world.admin.email}" and discarded.object_id == scene.held_run_id


def test_a_review_that_cannot_start_keeps_the_proposal_on_the_form_and_says_why(scene: Scene) -> None:
    runs_before = len(scene.runs())
    with connection_lock(scene.world.db, scene.world.connection_id):
        response = scene.admin.form_post(f"{scene.page}/settings/review", settings_form(off=("personal_email",)))
    assert response.status_code == 409
    assert "A sync of Personio DE is already running" in response.text
    assert re.search(r'name="enabled_personal_email"[^>]*>', response.text)
    assert not re.search(r'name="enabled_personal_email" value="on" checked', response.text)
    assert len(scene.runs()) == runs_before


def test_a_failed_run_says_why_in_plain_words_and_lists_its_rejected_records(scene: Scene) -> None:
    world = scene.world
    world.source.records.append(person(9, work_email=None))
    rejected = run_sync(world.db, world.connection_id, account_id=world.account_id, connector=world.source)
    world.source.fail_after = 2
    failed = run_sync(world.db, world.connection_id, account_id=world.account_id, connector=world.source)
    assert failed.status == "failed"

    page = scene.admin.client.get(f"{scene.page}/runs/{failed.run_id}").text
    assert "This sync failed: The fetch stopped with an unexpected ConnectionResetError" in page
    assert "Nothing was applied and nobody was detached" in page
    issues = scene.admin.client.get(f"{scene.page}/runs/{rejected.run_id}").text
    assert "Rejected records and warnings" in issues
    assert "No professional email in the HR system" in issues


def test_a_failing_connection_says_since_when_and_why(scene: Scene) -> None:
    world = scene.world
    world.source.fail_after = 2
    failed = run_sync(world.db, world.connection_id, account_id=world.account_id, connector=world.source)
    assert failed.status == "failed"

    page = scene.admin.client.get(scene.page).text

    assert re.search(
        r"Failing since \d\d \w{3} \d{4}, \d\d:\d\d: The fetch stopped with an unexpected ConnectionResetError", page
    ), "the connection's failing_since, in the admin's time zone"
