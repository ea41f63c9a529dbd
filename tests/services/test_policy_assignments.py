"""IT policies on the directory: the preview before saving equals what saving does; assignments follow every
sync and every manual change; hidden, detached and departed people hold none; each change is an event."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from fakes import NOW, TODAY, Directory, ListSource, make_directory, person
from staffsync.domain.policies import PolicyError
from staffsync.domain.values import Ref
from staffsync.services import policies
from staffsync.services.employees import edit_employee, set_flag
from staffsync.storage import models
from staffsync.storage.db import Database

SALES = Ref("team-sales", "Sales")


@pytest.fixture
def directory(db: Database) -> Directory:
    people = [person(n, team=SALES if n > 3 else Ref("team-eng", "Engineering")) for n in range(1, 7)]
    directory = make_directory(db, ListSource(people))
    assert directory.sync().status == "succeeded"
    return directory


def github_for_engineers(policy_id: str | None = None) -> policies.Policy:
    return policies.draft(
        policy_id=policy_id,
        name="GitHub for engineers",
        conditions=[{"field": "team", "operator": "equals", "values": ["Engineering"]}],
        application="GitHub",
        role="member",
    )


def holders(directory: Directory) -> set[str]:
    with directory.db.session() as session:
        rows = session.execute(
            select(models.Employee.work_email)
            .join(models.PolicyAssignment, models.PolicyAssignment.employee_id == models.Employee.id)
            .where(models.PolicyAssignment.account_id == directory.account_id)
        ).scalars()
        return set(rows)


def policy_events(directory: Directory) -> list[tuple[str, str]]:
    return [(e.type, e.data["employee_id"]) for e in directory.events() if e.type.startswith("policy.")]


def test_the_preview_before_saving_is_exactly_what_saving_assigns(directory: Directory) -> None:
    policy = github_for_engineers()
    with directory.db.session() as session:
        preview = policies.preview_policy(session, directory.account_id, policy, now=NOW)
    assert preview.loses == [] and preview.keeps == 0
    with directory.db.transaction() as session:
        policies.save_policy(session, directory.account_id, policy, now=NOW)
    assert holders(directory) == {p.work_email for p in preview.gains}
    assert holders(directory) == {"person1@acme.test", "person2@acme.test", "person3@acme.test"}
    assert len(policy_events(directory)) == 3
    assert {t for t, _ in policy_events(directory)} == {"policy.assignment.added"}


def test_changing_a_policy_previews_and_applies_gains_and_losses(directory: Directory) -> None:
    with directory.db.transaction() as session:
        policy_id = policies.save_policy(session, directory.account_id, github_for_engineers(), now=NOW).id
    changed = policies.draft(
        policy_id=policy_id,
        name="GitHub for sales",
        conditions=[{"field": "team", "operator": "in", "values": ["Sales"]}],
        application="GitHub",
        role=None,
    )
    with directory.db.session() as session:
        preview = policies.preview_policy(session, directory.account_id, changed, now=NOW)
    assert len(preview.gains) == 3 and len(preview.loses) == 3
    with directory.db.transaction() as session:
        policies.save_policy(session, directory.account_id, changed, now=NOW)
    assert holders(directory) == {p.work_email for p in preview.gains}
    kinds = [t for t, _ in policy_events(directory)]
    assert kinds.count("policy.assignment.removed") == 3


def test_assignments_follow_the_sync(directory: Directory) -> None:
    with directory.db.transaction() as session:
        policies.save_policy(session, directory.account_id, github_for_engineers(), now=NOW)
    directory.source.replace("r4", team=Ref("team-eng", "Engineering"))
    directory.source.replace("r1", team=SALES)
    assert directory.sync().status == "succeeded"
    assert holders(directory) == {"person2@acme.test", "person3@acme.test", "person4@acme.test"}
    # Nothing changed: no assignment event on a re-sync.
    before = policy_events(directory)
    assert directory.sync().status == "succeeded"
    assert policy_events(directory) == before


def test_departed_and_detached_people_lose_their_assignments(directory: Directory) -> None:
    with directory.db.transaction() as session:
        policies.save_policy(session, directory.account_id, github_for_engineers(), now=NOW)
    directory.source.replace("r1", end_date=TODAY - dt.timedelta(days=1))
    directory.source.remove("r2")
    assert directory.sync().status == "succeeded"
    assert holders(directory) == {"person3@acme.test"}


def test_hiding_removes_at_once_and_unhiding_gives_back(directory: Directory) -> None:
    with directory.db.transaction() as session:
        policies.save_policy(session, directory.account_id, github_for_engineers(), now=NOW)
    employee_id = directory.employee("person1@acme.test").id
    with directory.db.transaction() as session:
        set_flag(session, directory.account_id, employee_id, flag="hidden", value=True, actor="admin:a", now=NOW)
    assert "person1@acme.test" not in holders(directory)
    with directory.db.transaction() as session:
        set_flag(session, directory.account_id, employee_id, flag="hidden", value=False, actor="admin:a", now=NOW)
    assert "person1@acme.test" in holders(directory)


def test_a_manual_edit_moves_the_person_between_policies(directory: Directory) -> None:
    titles = policies.draft(
        policy_id=None,
        name="Figma for designers",
        conditions=[{"field": "job_title", "operator": "contains", "values": ["design"]}],
        application="Figma",
        role="editor",
    )
    with directory.db.transaction() as session:
        policies.save_policy(session, directory.account_id, titles, now=NOW)
    assert holders(directory) == set()
    employee_id = directory.employee("person5@acme.test").id
    with directory.db.transaction() as session:
        edit_employee(session, directory.account_id, employee_id, {"job_title": "Product Designer"}, actor="a", now=NOW)
    assert holders(directory) == {"person5@acme.test"}


def test_deleting_a_policy_removes_every_assignment_with_events(directory: Directory) -> None:
    with directory.db.transaction() as session:
        policy_id = policies.save_policy(session, directory.account_id, github_for_engineers(), now=NOW).id
    with directory.db.transaction() as session:
        policies.delete_policy(session, directory.account_id, policy_id, now=NOW)
    assert holders(directory) == set()
    assert [t for t, _ in policy_events(directory)].count("policy.assignment.removed") == 3


def test_a_draft_reports_every_problem(directory: Directory) -> None:
    with pytest.raises(PolicyError) as raised:
        policies.draft(policy_id=None, name=" ", conditions=[{"field": "salary"}], application="", role=None)
    assert len(raised.value.problems) == 3


def test_another_accounts_policy_is_not_found(db: Database, directory: Directory) -> None:
    with directory.db.transaction() as session:
        policy_id = policies.save_policy(session, directory.account_id, github_for_engineers(), now=NOW).id
    other = make_directory(db)
    with db.session() as session, pytest.raises(policies.PolicyNotFound):
        policies.get_policy(session, other.account_id, policy_id)
    with db.transaction() as session, pytest.raises(policies.PolicyNotFound):
        policies.save_policy(session, other.account_id, dataclasses.replace(github_for_engineers(policy_id)), now=NOW)
