"""What a sync would change, person by person, under each field's mode (PRODUCT.md §2 field modes)."""

from __future__ import annotations

import datetime as dt

import pytest

from staffsync.domain.directory import DirectoryEmployee, SourceLink
from staffsync.domain.fields import FieldSetting, FieldSettings, SyncMode
from staffsync.domain.matching import Match, MatchKind
from staffsync.domain.plan import (
    ChangeAction,
    EmployeeChange,
    FieldChange,
    count_new_end_dates,
    decide_field,
    decide_value,
    diff_fields,
    initial_fields,
    plan_detachment,
    plan_record,
    unseen_links,
)
from staffsync.domain.records import SourceEmployee
from staffsync.domain.values import Ref

CONTINUOUS = FieldSetting(enabled=True, mode=SyncMode.CONTINUOUS)
IMPORT_ONCE = FieldSetting(enabled=True, mode=SyncMode.IMPORT_ONCE)
OFF = FieldSetting(enabled=False, mode=SyncMode.CONTINUOUS)
DEFAULTS = FieldSettings.defaults()
END = dt.date(2025, 6, 30)


def current(values=None, *, edited=(), primary="c1", version=7) -> DirectoryEmployee:
    return DirectoryEmployee(
        id="e1",
        version=version,
        values=values or {},
        manually_edited=frozenset(edited),
        primary_connection_id=primary,
    )


def source(**values) -> SourceEmployee:
    return SourceEmployee(remote_id="r1", **values)


SAME = {"first_name": "Ada", "last_name": "Lovelace", "work_email": "ada@example.com"}


# --- decide_field: the rule for one field -------------------------------------------------------


def test_unchanged_value_is_no_change():
    assert decide_field("first_name", "Ada", current({"first_name": "Ada"}), CONTINUOUS) is None
    assert decide_field("job_title", None, current(), IMPORT_ONCE) is None


def test_continuous_field_follows_the_source():
    assert decide_field("last_name", "Byron", current({"last_name": "Lovelace"}), CONTINUOUS) == FieldChange(
        "last_name", "Lovelace", "Byron"
    )


def test_continuous_field_is_cleared_when_the_source_clears_it():
    change = decide_field("end_date", None, current({"end_date": END}), CONTINUOUS)
    assert change == FieldChange("end_date", END, None)


def test_continuous_field_overwrites_a_manual_value_and_says_so():
    change = decide_field("job_title", "CTO", current({"job_title": "Boss"}, edited={"job_title"}), CONTINUOUS)
    assert change == FieldChange("job_title", "Boss", "CTO", overrides_manual=True)


def test_import_once_field_is_not_overwritten_after_manual_edit():
    employee = current({"job_title": "Staff Engineer"}, edited={"job_title"})
    assert decide_field("job_title", "Engineer", employee, IMPORT_ONCE) is None


def test_import_once_field_is_not_overwritten_even_without_manual_edit():
    assert decide_field("job_title", "Engineer", current({"job_title": "Intern"}), IMPORT_ONCE) is None


def test_import_once_field_is_filled_later_only_while_empty_and_never_edited():
    assert decide_field("job_title", "Engineer", current(), IMPORT_ONCE) == FieldChange("job_title", None, "Engineer")
    # An admin emptied it by hand: that choice stands.
    assert decide_field("job_title", "Engineer", current(edited={"job_title"}), IMPORT_ONCE) is None


def test_import_once_field_is_never_cleared_by_the_source():
    assert decide_field("personal_email", None, current({"personal_email": "a@home.example"}), IMPORT_ONCE) is None


def test_disabled_field_is_never_touched():
    assert decide_field("work_phone", "+1", current({"work_phone": "+2"}), OFF) is None
    assert decide_field("work_phone", "+1", current(), OFF) is None


def test_a_value_known_without_its_employee_follows_the_same_rule():
    assert decide_value("manager", "e2", "e1", edited=False, setting=CONTINUOUS) == FieldChange("manager", "e1", "e2")
    assert decide_value("manager", "e2", "e1", edited=True, setting=CONTINUOUS) == FieldChange(
        "manager", "e1", "e2", overrides_manual=True
    )
    assert decide_value("manager", "e2", None, edited=True, setting=IMPORT_ONCE) is None
    assert decide_value("manager", "e2", None, edited=False, setting=IMPORT_ONCE) == FieldChange("manager", None, "e2")
    assert decide_value("manager", "e2", "e2", edited=False, setting=CONTINUOUS) is None
    assert decide_value("manager", "e2", "e1", edited=False, setting=OFF) is None


# --- diff_fields and initial_fields -------------------------------------------------------------


def test_diff_follows_each_fields_mode_and_skips_the_manager():
    employee = current({**SAME, "job_title": "Intern", "team": Ref("t1", "Eng"), "manager": "e-boss"})
    record = source(**SAME, job_title="Engineer", team=Ref("t2", "Ops"), manager="r-other")
    assert diff_fields(record, employee, DEFAULTS) == (FieldChange("team", Ref("t1", "Eng"), Ref("t2", "Ops")),)


def test_diff_of_an_identical_record_is_empty():
    assert diff_fields(source(**SAME), current(dict(SAME)), DEFAULTS) == ()


def test_diff_ignores_switched_off_fields():
    settings = FieldSettings.from_mapping({"work_phone": {"enabled": False}})
    assert diff_fields(source(**SAME, work_phone="+1"), current(dict(SAME)), settings) == ()


def test_diff_lists_the_changes_in_catalogue_order():
    employee = current({**SAME, "employee_number": "7", "job_title": None})
    record = source(**dict(SAME, first_name="Ada L."), job_title="Engineer", employee_number="8")
    assert [change.field for change in diff_fields(record, employee, DEFAULTS)] == [
        "first_name",
        "job_title",
        "employee_number",
    ]


def test_initial_fields_take_every_enabled_non_empty_value_whatever_the_mode():
    settings = FieldSettings.from_mapping({"home_address": {"enabled": False}})
    record = source(first_name="Ada", job_title="Engineer", manager="r-boss", home_address=None, work_phone="+1")
    assert initial_fields(record, settings) == (
        FieldChange("first_name", None, "Ada"),
        FieldChange("job_title", None, "Engineer"),
        FieldChange("work_phone", None, "+1"),
    )


def test_initial_fields_leave_out_switched_off_fields():
    settings = FieldSettings.from_mapping({"personal_phone": {"enabled": False}})
    assert initial_fields(source(personal_phone="+33"), settings) == ()


def test_without_blanks_switched_off_fields_only():
    record = source(first_name="Ada", personal_phone="+33", deleted=False)
    blanked = record.without({"personal_phone", "not_a_field"})
    assert blanked.personal_phone is None
    assert blanked.first_name == "Ada"
    assert record.without({"not_a_field"}) is record


# --- plan_record -------------------------------------------------------------------------------


def test_new_person_is_created_with_the_new_id_and_takes_primary():
    change = plan_record(
        source(**SAME), Match(MatchKind.NEW), DEFAULTS, connection_id="c1", feeds=True, new_employee_id="e-new"
    )
    assert change is not None
    assert change.action is ChangeAction.CREATE
    assert (change.employee_id, change.remote_id, change.base_version) == ("e-new", "r1", None)
    assert change.takes_primary
    assert change.field_change("first_name") == FieldChange("first_name", None, "Ada")
    assert change.field_change("job_title") is None


def test_linked_person_without_changes_gives_no_change():
    found = Match(MatchKind.LINKED, current(dict(SAME)))
    assert plan_record(source(**SAME), found, DEFAULTS, connection_id="c1", feeds=True, new_employee_id="x") is None


def test_linked_person_with_changes_is_updated_against_its_version():
    found = Match(MatchKind.LINKED, current(dict(SAME), version=7))
    change = plan_record(
        source(**{**SAME, "last_name": "Byron"}), found, DEFAULTS, connection_id="c1", feeds=True, new_employee_id="x"
    )
    assert change == EmployeeChange(
        ChangeAction.UPDATE,
        "e1",
        "r1",
        base_version=7,
        fields=(FieldChange("last_name", "Lovelace", "Byron"),),
        takes_primary=True,
    )


def test_a_connection_that_does_not_feed_changes_nothing_for_a_linked_person():
    found = Match(MatchKind.LINKED, current(dict(SAME), primary="c-first"))
    record = source(**{**SAME, "last_name": "Byron"})
    assert plan_record(record, found, DEFAULTS, connection_id="c2", feeds=False, new_employee_id="x") is None


def test_a_higher_priority_connection_takes_primary_even_without_field_changes():
    found = Match(MatchKind.LINKED, current(dict(SAME), primary="c-low"))
    change = plan_record(source(**SAME), found, DEFAULTS, connection_id="c-high", feeds=True, new_employee_id="x")
    assert change is not None
    assert change.action is ChangeAction.UPDATE
    assert change.fields == ()
    assert change.takes_primary


@pytest.mark.parametrize("kind", [MatchKind.REATTACHED, MatchKind.MATCHED_BY_EMAIL])
def test_reattached_and_email_matches_are_links_with_their_reason(kind):
    found = Match(kind, current(dict(SAME)))
    change = plan_record(source(**SAME), found, DEFAULTS, connection_id="c1", feeds=True, new_employee_id="x")
    assert change is not None
    assert change.action is ChangeAction.LINK
    assert change.employee_id == "e1"
    assert change.base_version == 7
    assert change.reason == found.reason()
    assert change.reason


def test_rehire_relink_carries_the_superseded_remote_id_and_the_field_changes():
    found = Match(MatchKind.RELINKED, current({**SAME, "end_date": END}), superseded_remote_id="r-old")
    change = plan_record(
        SourceEmployee("r-new", **SAME), found, DEFAULTS, connection_id="c1", feeds=True, new_employee_id="x"
    )
    assert change is not None
    assert change.action is ChangeAction.LINK
    assert (change.remote_id, change.superseded_remote_id) == ("r-new", "r-old")
    assert change.fields == (FieldChange("end_date", END, None),)
    assert change.takes_primary


def test_a_second_source_is_linked_without_feeding_fields_when_it_ranks_lower():
    found = Match(MatchKind.MATCHED_BY_EMAIL, current(dict(SAME), primary="c-first"))
    record = source(**{**SAME, "last_name": "Other"})
    change = plan_record(record, found, DEFAULTS, connection_id="c2", feeds=False, new_employee_id="x")
    assert change is not None
    assert change.action is ChangeAction.LINK
    assert change.fields == ()
    assert not change.takes_primary


# --- detachments and counting ------------------------------------------------------------------


def test_detachment_keeps_the_reason_and_the_version():
    change = plan_detachment(SourceLink("c1", "r1", "e1"), current(version=4), reason="Left the source")
    assert change == EmployeeChange(ChangeAction.DETACH, "e1", "r1", 4, reason="Left the source")


def test_unseen_links_are_the_active_links_a_complete_fetch_did_not_return():
    links = [
        SourceLink("c1", "r1", "e1"),
        SourceLink("c1", "r2", "e2"),
        SourceLink("c1", "r3", "e3", active=False),
    ]
    assert list(unseen_links(links, {"r1"})) == [links[1]]
    assert list(unseen_links(links, {"r1", "r2"})) == []


def update(*fields: FieldChange, action=ChangeAction.UPDATE) -> EmployeeChange:
    return EmployeeChange(action, "e1", "r1", 1, fields)


def test_new_end_dates_count_only_end_dates_appearing_where_there_were_none():
    changes = [
        update(FieldChange("end_date", None, END)),
        update(FieldChange("end_date", END, END + dt.timedelta(days=1))),
        update(FieldChange("end_date", END, None)),
        update(FieldChange("last_name", "A", "B")),
        update(FieldChange("end_date", None, END), action=ChangeAction.LINK),
    ]
    assert count_new_end_dates(changes) == 2


def test_new_hires_with_an_end_date_are_not_counted_as_offboardings():
    created = EmployeeChange(ChangeAction.CREATE, "e1", "r1", None, (FieldChange("end_date", None, END),))
    assert count_new_end_dates([created]) == 0
