"""The connection page in a real browser: status and Sync now, runs and their changes, held runs approved or
discarded, settings changed after a dry run has shown their effect (PRODUCT.md §3.6, §4)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from playwright.sync_api import Page, expect
from web_harness import WebWorld, screenshot

from fakes import person
from staffsync.connectors.base import FetchRequest
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.values import Ref
from staffsync.storage import models


def connection_page(world: WebWorld) -> str:
    return f"/settings/employee-sync/{world.connection_id}"


def detached_people(world: WebWorld) -> set[str]:
    with world.db.session() as session:
        rows = session.query(models.Employee).filter(
            models.Employee.account_id == world.account_id, models.Employee.detached_at.is_not(None)
        )
        return {row.work_email or "" for row in rows}


def hold_the_next_sync(world: WebWorld) -> str:
    """The source suddenly returns 3 of its 12 people: detaching the other 9 is far over the 20 % limit."""
    world.source.records = world.source.records[:3]
    outcome = world.sync()
    assert outcome.status == "held", outcome
    return outcome.run_id


def test_a_held_run_is_approved_from_the_connection_page(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    run_id = hold_the_next_sync(world)
    page.goto(connection_page(world))
    banner = page.get_by_role("alert").filter(has_text="A sync is held for your review")
    expect(banner).to_contain_text("9 of 12 linked people (75%)")
    screenshot(page, "connection")

    banner.get_by_role("link", name="Review the held run").click()
    expect(page).to_have_url(re.compile(f"/runs/{run_id}$"))
    expect(page.get_by_role("heading", name="Held for your review: nothing was applied")).to_be_visible()
    changes = page.get_by_role("table").filter(has_text="Detach")
    expect(changes.get_by_role("row").filter(has_text="Detach")).to_have_count(9)
    expect(changes).to_contain_text("No longer returned by the HR system")
    assert detached_people(world) == set()
    screenshot(page, "held-run")

    page.get_by_role("button", name="Approve and apply").click()
    expect(page.get_by_role("status").filter(has_text="Approved:")).to_contain_text("9 people detached")
    expect(page.get_by_text("Held, then approved by")).to_be_visible()
    assert detached_people(world) == {f"person{n}@acme.test" for n in range(4, 13)}
    page.get_by_role("link", name="Personio DE").click()
    expect(page.get_by_role("alert").filter(has_text="A sync is held")).to_have_count(0)
    latest = page.get_by_role("table").get_by_role("row").nth(1)
    expect(latest).to_contain_text("Succeeded")
    expect(latest.get_by_role("cell").nth(8)).to_have_text("9")


class Gate:
    """Holds the source's fetch until the test opens it: the running state is observable without sleeps."""

    def __init__(self, world: WebWorld) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()
        source = world.source
        fetch = source.employees

        def held_fetch(request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
            self.reached.set()
            assert self.opened.wait(30), "the test never let the fetch go on"
            yield from fetch(request)

        source.employees = held_fetch  # type: ignore[method-assign]


def test_sync_now_shows_the_running_state_then_the_result(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    world.source.replace("r5", job_title="Staff Engineer", last_name="Renamed")
    gate = Gate(world)
    page.goto(connection_page(world))
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status").filter(has_text="Sync of Personio DE started")).to_be_visible()
    status = page.locator(f"#sync-status-{world.connection_id}")
    expect(status).to_contain_text("Sync running…")
    expect(status).to_contain_text(re.compile(r"\(started (under 1|\d+) s ago\)"))
    assert gate.reached.wait(10)
    screenshot(page, "connection-running")

    gate.opened.set()
    # The fragment polls every 2 s; once the run has ended the page refreshes its runs by itself.
    expect(status).to_contain_text("Succeeded", timeout=15_000)
    expect(status).to_contain_text("1 updated")
    latest = page.get_by_role("table").get_by_role("row").nth(1)
    expect(latest).to_contain_text("Sync now")
    expect(latest.get_by_role("cell").nth(5)).to_have_text("1")


def test_a_runs_changes_page_shows_who_was_created_updated_and_detached(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    world.source.replace("r5", last_name="Renamed", team=Ref("team-sales", "Sales"))
    world.source.remove("r12")
    world.source.records.append(person(13, first_name="Nora", last_name="Neuhaus"))
    outcome = world.sync()
    assert outcome.counts["created"] == outcome.counts["updated"] == outcome.counts["detached"] == 1

    page.goto(connection_page(world))
    page.get_by_role("table").get_by_role("row").nth(1).get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/runs/{outcome.run_id}$"))
    changes = page.get_by_role("table")
    created = changes.get_by_role("row").filter(has_text="Nora Neuhaus")
    expect(created).to_contain_text("Create")
    expect(created).to_contain_text("person13@acme.test")
    updated = changes.get_by_role("row").filter(has_text="Update")
    expect(updated).to_contain_text(re.compile(r"Last name\s*Last5\s*→\s*Renamed"))
    expect(updated).to_contain_text(re.compile(r"Team\s*(Engineering|Operations)\s*→\s*Sales"))
    detached = changes.get_by_role("row").filter(has_text="Detach")
    expect(detached).to_contain_text("person12@acme.test")
    expect(detached).to_contain_text("No longer returned by the HR system")
    screenshot(page, "run-detail")


def test_updating_settings_shows_the_dry_run_diff_and_saving_applies_exactly_the_proposal(
    admin_page: Page, world: WebWorld
) -> None:
    page = admin_page
    world.source.replace("r4", job_title="Head of Sales")
    page.goto(connection_page(world))
    page.get_by_role("link", name="Update settings").click()
    page.get_by_label("Sync Personal email").uncheck()
    page.get_by_label("Job title sync mode").select_option("continuous")
    screenshot(page, "connection-settings")
    page.get_by_role("button", name="Review changes").click()

    expect(page.get_by_role("heading", name="Review the new settings")).to_be_visible()
    proposal = page.get_by_role("table").first
    expect(proposal.get_by_role("row").filter(has_text="Personal email")).to_contain_text("Off")
    expect(proposal.get_by_role("row").filter(has_text="Job title")).to_contain_text("Synced · Continuous")
    expect(page.get_by_role("alert").filter(has_text="Saving erases data")).to_contain_text(
        "Personal email of 12 people will be erased"
    )
    plan = page.locator("section.plan")
    expect(plan).to_contain_text("Head of Sales", timeout=15_000)
    expect(plan.get_by_role("row").filter(has_text="Head of Sales")).to_contain_text(
        re.compile(r"Job title\s*Engineer\s*→\s*Head of Sales")
    )
    expect(plan.locator(".stat").filter(has_text="Would be updated")).to_contain_text("1")
    with world.db.session() as session:
        connection = session.get(models.Connection, world.connection_id)
        assert connection is not None and connection.field_settings["personal_email"]["enabled"] is True
        emails = {e.personal_email for e in session.query(models.Employee).filter_by(account_id=world.account_id)}
    assert None not in emails
    screenshot(page, "settings-review")

    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text("Erased: Personal email of 12 people")
    with world.db.session() as session:
        connection = session.get(models.Connection, world.connection_id)
        assert connection is not None
        assert connection.field_settings["personal_email"] == {"enabled": False, "mode": "import_once"}
        assert connection.field_settings["job_title"] == {"enabled": True, "mode": "continuous"}
        emails = {e.personal_email for e in session.query(models.Employee).filter_by(account_id=world.account_id)}
    assert emails == {None}


def test_a_held_run_is_discarded_from_the_ui_and_nobody_is_detached(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    run_id = hold_the_next_sync(world)
    page.goto(f"{connection_page(world)}/runs/{run_id}")
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("status").filter(has_text="Discarded:")).to_contain_text("nothing of this run was applied")
    expect(page.get_by_role("heading", name="Held for your review: nothing was applied")).to_have_count(0)
    assert detached_people(world) == set()
    page.get_by_role("link", name="Personio DE").click()
    expect(page.get_by_role("alert").filter(has_text="A sync is held")).to_have_count(0)
    expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text("Discarded")


def test_disconnecting_explains_what_happens_then_keeps_the_people_detached(admin_page: Page, world: WebWorld) -> None:
    page = admin_page
    page.goto(connection_page(world))
    page.get_by_role("link", name="Disconnect…").click()
    expect(page.get_by_role("heading", name="Disconnect Personio DE?")).to_be_visible()
    expect(page.get_by_text("Stops syncing for good.")).to_be_visible()
    screenshot(page, "connection-disconnect")
    page.get_by_role("button", name="Disconnect and keep the directory").click()
    expect(page.get_by_role("status").filter(has_text="is disconnected")).to_be_visible()
    expect(page.get_by_role("button", name="Sync now")).to_have_count(0)
    assert len(detached_people(world)) == 12
