"""Personal data leaves everywhere at once (issue 9 §4): switching a field off, and erasing a deleted source.

Both checks scan every column of every table (Base.metadata.sorted_tables) for sentinel values, so a table added
later that copies a value is caught without this test knowing about it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.api_harness import PEOPLE, open_world
from fakes import NOW, ListSource, make_directory, person
from staffsync.domain.fields import FieldSettings
from staffsync.domain.values import Address
from staffsync.services.disconnect import disconnect
from staffsync.services.erase import erase_source
from staffsync.storage import connections, models
from staffsync.storage.db import Database
from staffsync.storage.models import Base
from web.ui_harness import open_ui_world


def found_anywhere(db: Database, needles: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every needle found in any value of any column of any table."""
    found = []
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                for column, value in row._mapping.items():
                    text = str(value)
                    found += [(table.name, str(column), needle) for needle in needles if needle in text]
    return sorted(set(found))


def private(n: int, generation: str = "") -> dict[str, Any]:
    return {
        "personal_email": f"sentinel{generation}-mail-{n}@private.test",
        "personal_phone": f"+49 555 sentinel{generation}-{n}",
        "home_address": Address(f"Sentinel{generation}strasse {n}", "Berlin", "10115", None, "DE"),
    }


PERSONAL = ("personal_email", "personal_phone", "home_address")


def _continuous_personal_fields() -> FieldSettings:
    # Continuous, so that a changed value travels as an employee.updated event and a history row too.
    return FieldSettings.from_mapping({name: {"enabled": True, "mode": "continuous"} for name in PERSONAL})


def test_switching_personal_fields_off_purges_them_from_every_table_of_the_database(db: Database) -> None:
    directory = make_directory(db, ListSource([person(n, **private(n)) for n in range(12)]))
    with db.transaction() as session:
        connection = connections.get_connection(session, directory.account_id, directory.connection_id)
        assert connection is not None
        connection.field_settings = _continuous_personal_fields().to_mapping()
    assert directory.sync().status == "succeeded"
    directory.source.records = [person(n, **private(n, "2")) for n in range(12)]
    assert directory.sync().status == "succeeded"
    # A held run: five of twelve gone and three new people staged, never applied.
    directory.source.records = [person(n, **private(n, "2")) for n in range(7)] + [
        person(n, **private(n, "3")) for n in range(100, 103)
    ]
    held = directory.sync()
    assert held.status == "held"
    needles = {
        value
        for n in [*range(12), *range(100, 103)]
        for generation in ("", "2", "3")
        for value in (
            f"sentinel{generation}-mail-{n}@",
            f"sentinel{generation}-{n}",
            f"Sentinel{generation}strasse {n}",
        )
    }
    assert {table for table, _, _ in found_anywhere(db, needles)} >= {"employees", "changes", "outbox_events"}
    events_before = len(directory.events())

    with db.transaction() as session:
        connection = connections.get_connection(session, directory.account_id, directory.connection_id)
        assert connection is not None
        off = FieldSettings.from_mapping({name: {"enabled": False} for name in PERSONAL})
        purged = connections.save_field_settings(session, connection, off, now=NOW)

    assert purged == frozenset(PERSONAL)
    assert found_anywhere(db, needles) == []
    # Only the switched-off values went: the events stay for their webhook deliveries, the other values stay put.
    assert len(directory.events()) == events_before
    assert directory.employee("person3@acme.test").first_name == "First3"
    assert found_anywhere(db, {"First101"}) != []


def test_erasing_a_source_leaves_no_value_it_brought_in_any_table(db: Database) -> None:
    only_here = [
        person(n, remote_id=f"erase-r{n}", first_name=f"Erasable{n}", work_email=f"erase-me{n}@acme.test", **private(n))
        for n in range(10)
    ]
    shared_here = [
        person(n, remote_id=f"erase-r{n}", personal_email=f"sentinel-shared-{n}@private.test") for n in (20, 21)
    ]
    directory = make_directory(db, ListSource([*only_here, *shared_here]))
    assert directory.sync().status == "succeeded"
    other = directory.add_connection("Workday US", priority=2)
    elsewhere = ListSource([person(n, remote_id=f"wd-{n}", personal_email=None) for n in (20, 21, 30)])
    assert directory.sync(source=elsewhere, connection_id=other).status == "succeeded"
    # A held run of the erased source, staging three people nobody has seen yet.
    directory.source.records = [*only_here[:5], *shared_here] + [
        person(n, remote_id=f"erase-r{n}", first_name=f"Erasable{n}", work_email=f"erase-me{n}@acme.test")
        for n in range(100, 103)
    ]
    assert directory.sync().status == "held"
    needles = (
        {f"erase-r{n}" for n in [*range(10), 20, 21, *range(100, 103)]}
        | {f"Erasable{n}" for n in [*range(10), *range(100, 103)]}
        | {f"erase-me{n}@" for n in [*range(10), *range(100, 103)]}
        | {f"sentinel-mail-{n}@" for n in range(10)}
        | {"sentinel-shared-20@", "sentinel-shared-21@"}
    )
    assert {table for table, _, _ in found_anywhere(db, needles)} >= {
        "employees",
        "source_links",
        "changes",
        "outbox_events",
    }

    erased = erase_source(db, directory.account_id, directory.connection_id, now=NOW)

    assert erased is not None and erased.status == "erased"
    assert found_anywhere(db, needles) == []
    # Only the audit trail still names the connection: who deleted it, and when.
    assert {table for table, _, _ in found_anywhere(db, {directory.connection_id})} == {"audit_entries"}
    with db.session() as session:
        actions = set(
            session.execute(
                select(models.AuditEntry.action).where(models.AuditEntry.object_id == directory.connection_id)
            ).scalars()
        )
    assert "connection.deleted" in actions
    # The other source's people stay, fed by it alone now, with the core values it vouches for.
    people = directory.employees()
    assert set(people) == {"person20@acme.test", "person21@acme.test", "person30@acme.test"}
    assert people["person20@acme.test"].first_name == "First20"
    assert people["person20@acme.test"].personal_email is None
    assert {link.connection_id for link in directory.links()} == {other}
    assert directory.sync(source=elsewhere, connection_id=other).status == "succeeded"


def test_erasing_a_source_of_another_account_finds_nothing_and_erases_nothing(db: Database) -> None:
    directory = make_directory(db, ListSource([person(n) for n in range(3)]))
    directory.sync()
    stranger = make_directory(db)

    assert erase_source(db, stranger.account_id, directory.connection_id, now=NOW) is None
    assert len(directory.employees()) == 3


def test_keeping_the_directory_is_the_default_and_detaches_people_as_source_disconnected(db: Database) -> None:
    directory = make_directory(db, ListSource([person(n) for n in range(3)]))
    directory.sync()

    disconnect(db, directory.account_id, directory.connection_id, now=NOW)

    people = directory.employees()
    assert len(people) == 3
    assert {row.detach_reason for row in people.values()} == {"source disconnected"}
    assert found_anywhere(db, {"First1", "r1"}) != []


# --- the two choices, as the API and the connection page offer them ----------------------------------------------


def _people(db: Database, account_id: str) -> int:
    with db.session() as session:
        return len(session.execute(select(models.Employee.id).where(models.Employee.account_id == account_id)).all())


def test_the_api_erases_only_when_asked_and_answers_with_the_erased_connection(db: Database) -> None:
    for world in open_world(db):
        kept = world.send("DELETE", f"/connections/{world.connection_id}")
        assert kept["status"] == "disconnected"
        assert _people(db, world.a.account_id) == PEOPLE

        erased = world.send("DELETE", f"/connections/{world.connection_id}", params={"erase": "true"})

        assert erased["status"] == "erased"
        assert _people(db, world.a.account_id) == 0
        assert world.call("GET", f"/connections/{world.connection_id}", token=world.a.admin).status_code == 404
        assert world.call("DELETE", f"/connections/{world.connection_id}", token=world.a.admin).status_code == 404


def test_the_page_erases_only_after_the_name_is_typed_and_says_what_goes(db: Database) -> None:
    for world in open_ui_world(db):
        admin = world.signed_in(world.admin)
        page = f"/settings/employee-sync/{world.connection_id}/disconnect"
        shown = admin.client.get(page)
        assert "Keep the directory" in shown.text and "Erase everything from this source" in shown.text
        assert "every person only this source feeds (6 of its 6 linked people)" in shown.text

        refused = admin.form_post(page, {"choice": "erase", "confirm": "Personio"})
        assert refused.status_code == 303 and refused.headers["location"].endswith("/disconnect")
        assert _people(db, world.account_id) == 6

        erased = admin.form_post(page, {"choice": "erase", "confirm": "Personio DE"})
        assert erased.status_code == 303 and erased.headers["location"] == "/settings/employee-sync"
        assert _people(db, world.account_id) == 0
        assert found_anywhere(db, {"person1@acme.test", "First1"}) == []
