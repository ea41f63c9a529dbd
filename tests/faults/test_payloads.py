"""Kombo answering 200 with a body that is not what the SDK's models promise: cut off, not UTF-8, a person
without an id, an HTML login page, an error envelope; one person's unreadable value; and the benign drift the
directory must shrug off: unknown extra fields, missing keys staffsync does not read, an enum word Kombo added,
an unmapped employment status.

Invariants: a page that cannot be read fails the run, naming where, never quoting a value, with the
directory unchanged (never "an empty page", never "these people left"); one unreadable person is rejected
alone, with the reason, and never read as a leaver; extra fields are ignored and never stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from fault_harness import LATER, World, fails_unchanged, recovers, results
from sqlalchemy import select

from staffsync.storage import models
from staffsync.storage.models import Base


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda world: world.arm("truncated", skip=2, fraction=0.6), id="truncated"),
        pytest.param(
            lambda world: world.wire.tamper.rewrite(
                lambda _, page: b'{"status":"success","data":\xff\xfe', requests={3}
            ),
            id="not UTF-8",
        ),
    ],
)
def test_a_page_that_is_not_complete_json_fails_the_run_and_changes_nothing(synced: World, damage: Any) -> None:
    damage(synced)
    outcome = fails_unchanged(synced, "Kombo sent a response staffsync cannot read: the body is not complete JSON")
    assert "(at page 3 of Kombo's employees)" in (outcome.error or "")


def test_a_page_with_a_person_without_an_id_fails_the_run_and_changes_nothing(synced: World) -> None:
    """Nobody can tell who that was: a full fetch could not say who is no longer there."""
    synced.arm("missing_key", key="id", skip=1)
    fails_unchanged(synced, "employee 1 of the page has no `id` (at page 2 of Kombo's employees)")


@pytest.mark.parametrize("key", ["changed_at", "employments"])
def test_a_missing_key_staffsync_does_not_read_changes_nothing_about_the_run(
    pair: tuple[World, World], key: str
) -> None:
    synced, twin = pair
    synced.arm("missing_key", key=key, skip=1)
    recovers(synced, twin)


def test_a_group_type_kombo_added_later_is_not_a_team_and_stops_nobody(synced: World) -> None:
    synced.arm("unknown_enum", value="DIVISION", skip=1)
    outcome = synced.sync(at=LATER, full=True)
    assert outcome.status == "succeeded", outcome.error
    assert not [issue for issue in synced.issues(outcome.run_id) if issue.code == "rejected"]
    with synced.db.engine.connect() as connection:
        dump = "\n".join(str(row) for table in Base.metadata.sorted_tables for row in connection.execute(select(table)))
    assert "DIVISION" not in dump


def test_a_value_of_the_wrong_type_rejects_that_person_alone_with_the_reason(synced: World) -> None:
    before = synced.snapshot().tables
    versions = {row["id"]: row["version"] for row in before["employees"]}
    linked = {row["remote_id"]: row["employee_id"] for row in before["source_links"] if row["active"]}
    damaged: list[str] = []

    def soon(_: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        # Someone already in the directory and still in the feed: the company changes between the two syncs.
        for employee in results(page):
            if not damaged and employee["id"] in linked and not employee.get("remote_deleted_at"):
                damaged.append(employee["id"])
                employee["start_date"] = "soon-ish 4f1e"
        return page

    synced.wire.tamper.rewrite(soon, requests={2})
    outcome = synced.sync(at=LATER, full=True)

    assert outcome.status == "succeeded", outcome.error
    [rejected] = [issue for issue in synced.issues(outcome.run_id) if issue.code == "rejected"]
    assert rejected.remote_id == damaged[0] and rejected.field == "start_date"
    assert "start_date" in rejected.message and "is not an ISO 8601 date-time" in rejected.message
    assert outcome.counts["fetched"] == len(synced.people())
    # Kept as they were: a rejected person is never read as a leaver, nor changed.
    after = synced.snapshot().tables
    employee_id = linked[damaged[0]]
    [link] = [row for row in after["source_links"] if row["remote_id"] == damaged[0]]
    [employee] = [row for row in after["employees"] if row["id"] == employee_id]
    assert link["active"] and employee["detached_at"] is None
    assert employee["version"] == versions[employee_id]


def test_an_html_login_page_answered_with_200_fails_the_run_and_changes_nothing(synced: World) -> None:
    login = b"<!doctype html><html><body><form action='/login'>Sign in</form></body></html>"
    synced.wire.tamper.rewrite(lambda _, page: login, requests={2}, content_type="text/html; charset=utf-8")
    outcome = fails_unchanged(synced, "Kombo sent a response staffsync cannot read: HTTP 200 with text/html")
    assert "Sign in" not in (outcome.error or "")


def test_an_error_envelope_answered_with_200_fails_the_run_and_changes_nothing(synced: World) -> None:
    envelope = {"status": "error", "error": {"code": "PLATFORM.UNKNOWN_ERROR", "message": "oops", "title": None}}
    synced.wire.tamper.rewrite(lambda _, page: envelope, requests={2})
    fails_unchanged(synced, "Kombo sent a response staffsync cannot read: field `data`")


def test_unknown_extra_fields_are_ignored_never_stored_and_the_run_equals_a_clean_one(
    pair: tuple[World, World],
) -> None:
    synced, twin = pair
    sentinel = "drift-sentinel-0c3a"

    def drift(_: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        page["api_version"] = sentinel
        page["data"]["total_count"] = 10_000
        for employee in results(page):
            employee["pronouns"] = sentinel
            employee["custom_fields"] = {"shoe_size": sentinel}
            employee["work_location"] = (employee.get("work_location") or {}) | {"floor": sentinel}
            for group in employee["groups"]:
                group["colour"] = sentinel
        return page

    synced.wire.tamper.rewrite(drift)
    recovers(synced, twin)
    with synced.db.engine.connect() as connection:
        dump = "\n".join(str(row) for table in Base.metadata.sorted_tables for row in connection.execute(select(table)))
    assert sentinel not in dump


def test_an_unmapped_employment_status_rejects_that_person_alone_and_never_offboards_them(synced: World) -> None:
    before = {row["id"]: row for row in synced.snapshot().tables["employees"]}
    # Someone linked now and still active (not deleted) in the later feed: the simulated company changes between
    # the two syncs, so the person is picked from the page itself rather than by position.
    linked = {row["work_email"] for row in before.values() if row["detached_at"] is None}
    chosen: list[str] = []

    def suspended(_: dict[str, str], page: dict[str, Any]) -> dict[str, Any]:
        for employee in results(page):
            if (
                not chosen
                and employee["work_email"] in linked
                and employee.get("employment_status") == "ACTIVE"
                and not employee.get("remote_deleted_at")
            ):
                chosen.append(employee["work_email"])
            if chosen and employee["work_email"] == chosen[0]:
                employee["employment_status"] = "SUSPENDED"
        return page

    synced.wire.tamper.rewrite(suspended)
    outcome = synced.sync(at=LATER, full=True)

    assert outcome.status == "succeeded" and outcome.counts["updated"] > 0
    [rejected] = [
        issue
        for issue in synced.issues(outcome.run_id)
        if issue.remote_id and issue.code == "rejected" and issue.field == "employment_status"
    ]
    assert "SUSPENDED" in rejected.message
    with synced.db.session() as session:
        employee = session.execute(
            select(models.Employee).where(
                models.Employee.account_id == synced.account_id, models.Employee.work_email == chosen[0]
            )
        ).scalar_one()
        link = session.execute(
            select(models.SourceLink).where(models.SourceLink.employee_id == employee.id)
        ).scalar_one()
    assert link.active and employee.detached_at is None
    assert before[employee.id]["version"] == employee.version
    assert not [
        event
        for event in synced.events()
        if event.data.get("remote_id") == link.remote_id and event.data.get("run_id") == outcome.run_id
    ]


def test_a_feed_switched_to_the_hr_tool_s_raw_words_detaches_and_offboards_nobody(world: World) -> None:
    """Kombo passing "Terminated" or "On leave" through unmapped rejects those people; it never reads
    them as leavers."""
    assert world.sync().status == "succeeded"
    world.integration.raw_enums = True

    def links() -> list[tuple[str, bool, object]]:
        return [
            (row["remote_id"], row["active"], row["detached_at"]) for row in world.snapshot().tables["source_links"]
        ]

    links_before = links()
    outcome = world.sync(at=LATER, full=True)

    assert outcome.status == "succeeded"
    rejected = [issue for issue in world.issues(outcome.run_id) if issue.code == "rejected"]
    assert rejected and {issue.field for issue in rejected} == {"employment_status"}
    assert links() == links_before and all(active for _, active, _ in links_before)
    types = {event.type for event in world.events() if event.data.get("run_id") == outcome.run_id}
    assert not {"employee.detached", "offboarding.scheduled", "offboarding.cancelled"} & types
