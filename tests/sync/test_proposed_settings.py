"""A dry run with proposed settings (PRODUCT.md §4 "Dry run": also used to preview the effect of changing
settings before saving them): it plans with the proposal, stores it nowhere, applies nothing, and its plan is
exactly what a real sync makes once the proposal is saved."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select

from fakes import NOW, Directory, ListSource, make_directory, person
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.domain.values import Ref
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import ProposedSettings

PARIS = Ref("le-fr", "Acme SAS")


def proposal() -> ProposedSettings:
    """Personal email off, job title continuous, and only Acme GmbH's people."""
    fields = FieldSettings.defaults().to_mapping()
    fields["personal_email"] = {"enabled": False, "mode": "import_once"}
    fields["job_title"] = {"enabled": True, "mode": "continuous"}
    return ProposedSettings(FieldSettings.from_mapping(fields), FilterRules(legal_entities=frozenset({"le-de"})))


@pytest.fixture
def synced(db: Database) -> Directory:
    """Six people, two of them in Paris; then the source moves on: a new hire, a retitled engineer."""
    people = [person(n, legal_entity=PARIS if n in (2, 4) else Ref("le-de", "Acme GmbH")) for n in range(1, 7)]
    directory = make_directory(db, ListSource(list(people), supports_incremental=True))
    assert directory.sync().status == "succeeded"
    directory.source.replace("r1", job_title="Staff Engineer", last_name="Renamed")
    directory.source.records.append(person(7))
    return directory


def planned(db: Database, run_id: str, status: str) -> list[tuple[Any, ...]]:
    """A run's changes, comparable across runs: new employees get fresh ids, so creations are keyed by remote id."""
    with db.session() as session:
        rows = session.execute(
            select(models.Change)
            .where(models.Change.run_id == run_id, models.Change.status == status)
            .order_by(models.Change.id)
        ).scalars()
        found = [
            (
                row.action,
                row.remote_id,
                None if row.action == "create" else row.employee_id,
                sorted((item["field"], str(item["old"]), str(item["new"])) for item in row.fields),
                row.reason,
            )
            for row in rows
        ]
    return sorted(found, key=str)


def saved_settings(directory: Directory) -> tuple[dict[str, Any], dict[str, Any], Any]:
    connection = directory.connection()
    return connection.field_settings, connection.filters, connection.settings_changed_at


def test_a_dry_run_with_proposed_settings_plans_with_them_and_stores_and_applies_nothing(synced: Directory) -> None:
    before, settings_before = synced.state(), saved_settings(synced)

    outcome = synced.sync(dry_run=True, proposed=proposal())

    assert outcome.status == "succeeded" and outcome.dry_run
    # Paris leaves the filters (detached), the new hire arrives, the retitled engineer's title now follows HR.
    assert outcome.counts["detached"] == 2 and outcome.counts["created"] == 1 and outcome.counts["updated"] == 1
    assert outcome.counts["excluded"] == 2
    assert saved_settings(synced) == settings_before
    assert synced.state() == before
    assert synced.employee("person1@acme.test").job_title == "Engineer"
    assert synced.employee("person1@acme.test").personal_email == "private1@mail.test"
    with synced.db.session() as session:
        statuses = session.execute(
            select(models.Change.status, func.count())
            .where(models.Change.run_id == outcome.run_id)
            .group_by(models.Change.status)
        ).all()
    assert {status for status, _ in statuses} == {"simulated"}


def test_the_proposed_plan_is_exactly_what_a_real_sync_makes_once_the_proposal_is_saved(synced: Directory) -> None:
    proposed = proposal()
    simulated = synced.sync(dry_run=True, proposed=proposed)
    with synced.db.transaction() as session:
        connection = connections.get_connection(session, synced.account_id, synced.connection_id)
        assert connection is not None
        connections.save_field_settings(session, connection, proposed.fields, now=NOW)
        connections.save_filters(session, connection, proposed.filters, now=NOW)

    real = synced.sync()

    assert real.status == "succeeded" and not real.dry_run
    assert real.counts == simulated.counts
    assert real.hold_reasons == simulated.hold_reasons
    assert planned(synced.db, simulated.run_id, "simulated") == planned(synced.db, real.run_id, "applied")
    assert synced.employee("person1@acme.test").job_title == "Staff Engineer"


def test_a_proposal_is_fetched_in_full_with_only_its_own_fields(synced: Directory) -> None:
    """The source supports incremental fetches, but a settings change calls for everyone to be planned again."""
    proposed = proposal()
    synced.sync(dry_run=True, proposed=proposed)
    request = synced.source.requests[-1]
    assert request.updated_after is None
    assert request.fields == proposed.fields.enabled_fields()
    assert "personal_email" not in request.fields


def test_a_proposal_that_would_detach_too_many_is_reported_as_a_hold_without_holding_anything(db: Database) -> None:
    directory = make_directory(db, ListSource([person(n, legal_entity=PARIS) for n in range(1, 13)]))
    directory.sync()
    rules = FilterRules(legal_entities=frozenset({"le-de"}))
    outcome = directory.sync(dry_run=True, proposed=ProposedSettings(FieldSettings.defaults(), rules))
    assert outcome.status == "succeeded"
    assert outcome.counts["detached"] == 12
    assert any("12 of 12 linked people" in reason for reason in outcome.hold_reasons)
    with db.session() as session:
        assert session.execute(select(models.SyncRun).where(models.SyncRun.status == "held")).first() is None


def test_proposed_settings_are_refused_outside_a_dry_run(synced: Directory) -> None:
    with pytest.raises(ValueError, match="dry_run=True"):
        synced.sync(proposed=proposal())
    with synced.db.session() as session:
        assert session.scalar(select(func.count()).select_from(models.SyncRun)) == 1


def test_a_proposal_that_switches_a_field_back_on_plans_filling_it_as_a_first_import(db: Database) -> None:
    directory = make_directory(db, ListSource([dataclasses.replace(person(1), personal_phone="+49 30 1")]))
    fields = FieldSettings.defaults().to_mapping()
    fields["personal_phone"] = {"enabled": False, "mode": "import_once"}
    with db.transaction() as session:
        connection = connections.get_connection(session, directory.account_id, directory.connection_id)
        assert connection is not None
        connections.save_field_settings(session, connection, FieldSettings.from_mapping(fields), now=NOW)
    directory.sync()
    assert directory.employee("person1@acme.test").personal_phone is None

    outcome = directory.sync(dry_run=True, proposed=ProposedSettings(FieldSettings.defaults(), FilterRules()))

    assert outcome.counts["updated"] == 1
    changes = planned(db, outcome.run_id, "simulated")
    assert changes[0][3] == [("personal_phone", "None", "+49 30 1")]
    assert directory.employee("person1@acme.test").personal_phone is None
