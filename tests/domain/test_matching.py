"""Which directory employee a source record is: its link first, then its work email (PRODUCT.md §4)."""

from __future__ import annotations

from staffsync.domain.directory import ConnectionRank, DirectoryEmployee, Ranks, SourceLink
from staffsync.domain.matching import Match, MatchKind, match
from staffsync.domain.records import SourceEmployee, normalise_email

ADA = DirectoryEmployee(id="e-ada", version=3, values={"work_email": "ada@example.com"})
BOB = DirectoryEmployee(id="e-bob", version=1, values={"work_email": "bob@example.com"})


def employee(primary: str | None) -> DirectoryEmployee:
    return DirectoryEmployee(id="e1", version=1, values={}, primary_connection_id=primary)


# --- match ---------------------------------------------------------------------------------------


def test_active_link_matches_the_linked_employee():
    found = match(
        link=SourceLink("c1", "r1", "e-ada"), linked_employee=ADA, email_employee=None, email_employee_link=None
    )
    assert found == Match(MatchKind.LINKED, ADA)
    assert found.reason() is None


def test_link_wins_over_email():
    found = match(
        link=SourceLink("c1", "r1", "e-ada"),
        linked_employee=ADA,
        email_employee=BOB,
        email_employee_link=SourceLink("c1", "r9", "e-bob"),
    )
    assert found.kind is MatchKind.LINKED
    assert found.employee is ADA


def test_detached_link_reattaches_the_same_employee():
    found = match(
        link=SourceLink("c1", "r1", "e-ada", active=False),
        linked_employee=ADA,
        email_employee=None,
        email_employee_link=None,
    )
    assert found.kind is MatchKind.REATTACHED
    assert found.employee is ADA
    assert found.reason() == "Back in scope of the source"


def test_rehire_with_new_remote_id_relinks_to_the_same_employee():
    found = match(
        link=None,
        linked_employee=None,
        email_employee=ADA,
        email_employee_link=SourceLink("c1", "r-old", "e-ada"),
    )
    assert found.kind is MatchKind.RELINKED
    assert found.employee is ADA
    assert found.superseded_remote_id == "r-old"
    assert "relinked from remote id r-old" in (found.reason() or "")


def test_rehire_after_the_old_record_was_detached_still_finds_the_same_employee():
    found = match(
        link=None,
        linked_employee=None,
        email_employee=ADA,
        email_employee_link=SourceLink("c1", "r-old", "e-ada", active=False),
    )
    assert found.kind is not MatchKind.NEW
    assert found.employee is ADA


def test_person_known_from_another_source_is_matched_by_email():
    found = match(link=None, linked_employee=None, email_employee=ADA, email_employee_link=None)
    assert found == Match(MatchKind.MATCHED_BY_EMAIL, ADA)
    assert found.reason() == "Matched by work email to an existing employee"


def test_unknown_person_is_new():
    found = match(link=None, linked_employee=None, email_employee=None, email_employee_link=None)
    assert found == Match(MatchKind.NEW)
    assert found.employee is None
    assert found.reason() is None


def test_link_to_a_vanished_employee_falls_back_to_email():
    found = match(
        link=SourceLink("c1", "r1", "e-gone"), linked_employee=None, email_employee=ADA, email_employee_link=None
    )
    assert found.kind is MatchKind.MATCHED_BY_EMAIL
    assert found.employee is ADA


def test_work_email_key_ignores_case_and_surrounding_spaces():
    assert SourceEmployee("r1", work_email="  Ada.Lovelace@Example.COM ").work_email_key == "ada.lovelace@example.com"
    assert normalise_email("   ") is None
    assert normalise_email(None) is None


# --- Ranks.feeds ---------------------------------------------------------------------------------

RANKS = Ranks(
    {
        "c-first": ConnectionRank("c-first", priority=1, created_order=5),
        "c-second": ConnectionRank("c-second", priority=2, created_order=1),
        "c-old-tie": ConnectionRank("c-old-tie", priority=2, created_order=0),
    }
)


def test_higher_priority_connection_feeds_continuous_fields():
    assert RANKS.feeds("c-first", employee("c-second"))
    assert not RANKS.feeds("c-second", employee("c-first"))


def test_priority_ties_go_to_the_oldest_connection():
    assert RANKS.feeds("c-old-tie", employee("c-second"))
    assert not RANKS.feeds("c-second", employee("c-old-tie"))


def test_the_primary_connection_keeps_feeding():
    assert RANKS.feeds("c-second", employee("c-second"))


def test_an_employee_without_primary_is_fed_by_whoever_returns_them():
    assert RANKS.feeds("c-second", employee(None))


def test_unknown_primary_is_a_disconnected_source_and_loses():
    assert RANKS.feeds("c-second", employee("c-deleted"))


def test_unknown_connection_does_not_take_over_a_known_primary():
    assert not RANKS.feeds("c-unranked", employee("c-first"))


def test_when_neither_connection_is_ranked_the_newcomer_feeds():
    assert Ranks().feeds("c-a", employee("c-b"))


def test_outranks_is_strict():
    rank = ConnectionRank("c", priority=1, created_order=1)
    assert not rank.outranks(rank)
    assert ConnectionRank("a", 1, 9).outranks(ConnectionRank("b", 2, 0))
