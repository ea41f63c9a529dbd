"""The directory search finds a person by any part of their name, work email, team or legal entity, through an
index the database keeps current on every insert, edit and delete, and never across accounts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, select, text, update

from staffsync.storage import models
from staffsync.storage.db import Database
from staffsync.storage.directory import DirectoryQuery, DirectoryView, list_directory
from staffsync.storage.search import SEARCH_INDEX, SEARCH_TABLE, search_filter

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def _account(db: Database, name: str) -> str:
    with db.transaction() as session:
        account = models.Account(id=str(uuid.uuid4()), name=name, timezone="Europe/Berlin", created_at=NOW)
        session.add(account)
    return account.id


def _person(db: Database, account_id: str, first: str, last: str, *, team: str = "Platform") -> str:
    employee_id = str(uuid.uuid4())
    email = f"{first}.{last}@acme.example".lower().replace(" ", "")
    with db.transaction() as session:
        session.add(
            models.Employee(
                id=employee_id,
                account_id=account_id,
                first_name=first,
                last_name=last,
                work_email=email,
                work_email_key=email,
                team_name=team,
                legal_entity_name="Acme GmbH",
                start_date=dt.date(2020, 1, 1),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return employee_id


def _found(db: Database, account_id: str, phrase: str) -> list[str]:
    with db.transaction() as session:
        page = list_directory(session, account_id, DirectoryQuery(view=DirectoryView.ACTIVE, today=TODAY, text=phrase))
        assert page.total == len(page.employees)
        return sorted(f"{e.first_name} {e.last_name}" for e in page.employees)


@pytest.fixture
def company(db: Database) -> str:
    account_id = _account(db, "Acme")
    _person(db, account_id, "Ada", "Lovelace")
    _person(db, account_id, "Émile", "Durkheim", team="People Ops")
    _person(db, account_id, "Grace", "Hopper")
    _person(db, account_id, "Ali", "O'Brien_Smith")
    return account_id


@pytest.mark.parametrize(
    ("phrase", "people"),
    [
        ("love", ["Ada Lovelace"]),
        ("LOVELACE", ["Ada Lovelace"]),
        ("ada lovelace", ["Ada Lovelace"]),
        ("grace.hopper@", ["Grace Hopper"]),
        ("ops", ["Émile Durkheim"]),
        ("émile", ["Émile Durkheim"]),
        ("acme gmbh", ["Ada Lovelace", "Ali O'Brien_Smith", "Grace Hopper", "Émile Durkheim"]),
        ("o'brien", ["Ali O'Brien_Smith"]),
        # Two characters are too short for a trigram index: the table is scanned, with the same meaning.
        ("ho", ["Grace Hopper"]),
        ("nobody here", []),
    ],
)
def test_a_search_finds_every_person_whose_name_email_team_or_entity_contains_it(
    db: Database, company: str, phrase: str, people: list[str]
) -> None:
    assert _found(db, company, phrase) == people


@pytest.mark.parametrize(
    "phrase", ["%", "%%%", "___", "_x", '"', 'a" OR "b', "lace*", "NEAR(ada)", 'D\x06\x95"\x00\x9f', "zz\x00z"]
)
def test_wildcards_and_query_syntax_in_a_search_are_plain_characters(db: Database, company: str, phrase: str) -> None:
    assert _found(db, company, phrase) == []


def test_an_underscore_is_found_as_itself(db: Database, company: str) -> None:
    assert _found(db, company, "n_sm") == ["Ali O'Brien_Smith"]


def test_a_nul_in_a_search_is_left_out_of_it(db: Database, company: str) -> None:
    """Found by the schemathesis state machine: a NUL ended the FTS5 query string ('unterminated string')."""
    assert _found(db, company, "love\x00lace") == ["Ada Lovelace"]


def test_the_index_follows_renames_and_deletions(db: Database, company: str) -> None:
    with db.transaction() as session:
        session.execute(
            update(models.Employee)
            .where(models.Employee.account_id == company, models.Employee.last_name == "Hopper")
            .values(last_name="Brewster", work_email_key="grace.brewster@acme.example")
        )
    assert _found(db, company, "hopper") == []
    assert _found(db, company, "brewster") == ["Grace Brewster"]
    with db.transaction() as session:
        session.execute(delete(models.Employee).where(models.Employee.last_name == "Brewster"))
    assert _found(db, company, "brewster") == []
    assert _found(db, company, "grace") == []


def test_a_search_never_finds_another_accounts_people(db: Database, company: str) -> None:
    other = _account(db, "Globex")
    _person(db, other, "Ada", "Lovelace-Twin")
    assert _found(db, company, "lovelace") == ["Ada Lovelace"]
    assert _found(db, other, "lovelace") == ["Ada Lovelace-Twin"]


def test_a_search_of_three_characters_or_more_reads_the_index(db: Database, company: str) -> None:
    with db.engine.connect() as connection:
        employee = models.Employee
        statement = select(employee.id).where(employee.account_id == company, search_filter("lovelace"))
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        if db.is_sqlite:
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert f"SCAN {SEARCH_TABLE} VIRTUAL TABLE" in plan
            # The matches are looked up by rowid: a `(… IN …) = 1` would have the whole table scanned instead.
            assert "SCAN employees" not in plan and "INTEGER PRIMARY KEY (rowid=?)" in plan
        else:
            indexes = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": SEARCH_INDEX}
            ).scalars()
            assert "gin_trgm_ops" in " ".join(indexes)


def test_a_rebuilt_index_holds_the_rows_there_are(db: Database, company: str) -> None:
    from staffsync.storage.search import create_search_index

    with db.engine.begin() as connection:
        create_search_index(connection)
    assert _found(db, company, "lovelace") == ["Ada Lovelace"]
    assert _found(db, company, "durkheim") == ["Émile Durkheim"]
