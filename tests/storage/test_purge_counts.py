"""Counting what a purge would erase, before the admin saves a field switched off (PRODUCT.md §2: a field that is
off is purged): the same people `purge_fields` erases, values held only, JSON fields included."""

from __future__ import annotations

from fakes import ListSource, make_directory, person
from staffsync.domain.values import Address
from staffsync.storage import connections
from staffsync.storage.db import Database

FIELDS = ("home_address", "personal_email", "work_phone")


def test_the_count_is_of_the_people_holding_a_value_and_drops_to_zero_once_purged(db: Database) -> None:
    home = Address("Hauptstr. 1", "Berlin", "10115", None, "DE")
    acme = make_directory(db, ListSource([person(1, home_address=home), person(2, home_address=home), person(3)]))
    acme.sync()
    other = make_directory(db, ListSource([person(n, home_address=home) for n in range(1, 5)]))
    other.sync()

    with db.transaction() as session:
        counted = connections.count_purgeable(session, acme.account_id, acme.connection_id, FIELDS)
    assert counted == {"home_address": 2, "personal_email": 3, "work_phone": 0}

    with db.transaction() as session:
        connections.purge_fields(session, acme.account_id, acme.connection_id, FIELDS)
    with db.transaction() as session:
        after = connections.count_purgeable(session, acme.account_id, acme.connection_id, FIELDS)
        theirs = connections.count_purgeable(session, other.account_id, other.connection_id, ["home_address"])
    assert after == {"home_address": 0, "personal_email": 0, "work_phone": 0}
    assert theirs == {"home_address": 4}
