"""The preview and the sync classify every record identically (PRODUCT.md §3.5: 'exactly the same evaluation')."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fakes import ListSource, make_directory, person
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.domain.records import SourceEmployee
from staffsync.domain.values import EmploymentType, EmploymentTypeValue, Ref
from staffsync.services.preview import preview
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.sync.engine import utc_now

ENTITIES = [Ref("le-de", "Acme GmbH"), Ref("le-fr", "Acme SAS"), Ref("le-us", "Acme Inc.")]
TEAMS = [Ref("t-eng", "Engineering"), Ref("t-ops", "Operations"), Ref("t-sales", "Sales")]
TYPES = list(EmploymentType)


@st.composite
def records(draw: st.DrawFn) -> list[SourceEmployee]:
    count = draw(st.integers(min_value=0, max_value=12))
    found = []
    for n in range(count):
        teams = tuple(draw(st.lists(st.sampled_from(TEAMS), max_size=2, unique=True)))
        kind = draw(st.none() | st.sampled_from(TYPES))
        found.append(
            person(
                n,
                legal_entity=draw(st.none() | st.sampled_from(ENTITIES)),
                team=teams[0] if teams else None,
                teams=teams,
                employment_type=EmploymentTypeValue(kind, kind.value.upper()) if kind else None,
                work_email=draw(st.sampled_from([f"person{n}@acme.test", f"person{n}@acme.test", None])),
            )
        )
    return found


rules_strategy = st.builds(
    FilterRules,
    legal_entities=st.frozensets(st.sampled_from([e.id for e in ENTITIES])),
    employment_types=st.frozensets(st.sampled_from([t.value for t in TYPES])),
    teams=st.frozensets(st.sampled_from([t.id for t in TEAMS])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=records(), rules=rules_strategy)
def test_preview_and_sync_classify_every_generated_record_identically(
    db: Database, generated: list[SourceEmployee], rules: FilterRules
) -> None:
    directory = make_directory(db, ListSource(list(generated)))
    with db.transaction() as session:
        connection = connections.get_connection(session, directory.account_id, directory.connection_id)
        assert connection is not None
        connections.save_filters(session, connection, rules, now=utc_now())

    shown = list(preview(directory.source, FieldSettings.defaults(), rules))
    outcome = directory.sync(dry_run=True)

    with db.session() as session:
        planned = set(
            session.execute(select(models.Change.remote_id).where(models.Change.run_id == outcome.run_id)).scalars()
        )
    assert {row.remote_id for row in shown if row.included} == planned
    assert sum(1 for row in shown if not row.included) == outcome.counts["excluded"] + outcome.counts["rejected"]
    assert all(row.reasons for row in shown if not row.included)
