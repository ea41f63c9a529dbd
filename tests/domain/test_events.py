"""Lifecycle events: what happened to whom, once per real change (PRODUCT.md §5, §6)."""

from __future__ import annotations

import datetime as dt

from staffsync.domain.events import Event, events_for_change
from staffsync.domain.plan import ChangeAction, EmployeeChange, FieldChange
from staffsync.domain.values import Ref

TODAY = dt.date(2025, 3, 31)
DAY = dt.timedelta(days=1)
SUBJECT = {"employee_id": "e1", "remote_id": "r1"}


def change(action: ChangeAction, *fields: FieldChange, reason: str | None = None) -> EmployeeChange:
    return EmployeeChange(action, "e1", "r1", None if action is ChangeAction.CREATE else 1, fields, reason=reason)


def created(start: dt.date | None = None, end: dt.date | None = None) -> EmployeeChange:
    fields = [FieldChange("first_name", None, "Ada")]
    if start is not None:
        fields.append(FieldChange("start_date", None, start))
    if end is not None:
        fields.append(FieldChange("end_date", None, end))
    return change(ChangeAction.CREATE, *fields)


def types(events: list[Event]) -> list[str]:
    return [event.type for event in events]


def emitted(change: EmployeeChange, *, workflows_enabled: bool = True) -> list[Event]:
    return events_for_change(change, workflows_enabled=workflows_enabled, today=TODAY)


def test_created_person_starting_later_gets_created_and_onboarding_scheduled():
    events = emitted(created(start=TODAY + 7 * DAY))
    assert events == [
        Event(
            "employee.created",
            {**SUBJECT, "fields": {"first_name": "Ada", "start_date": (TODAY + 7 * DAY).isoformat()}},
        ),
        Event("onboarding.scheduled", {**SUBJECT, "start_date": (TODAY + 7 * DAY).isoformat()}),
    ]


def test_created_person_starting_today_is_onboarding():
    assert types(emitted(created(start=TODAY))) == ["employee.created", "onboarding.scheduled"]


def test_created_person_who_started_in_the_past_gets_no_onboarding():
    assert types(emitted(created(start=TODAY - DAY))) == ["employee.created"]
    assert types(emitted(created())) == ["employee.created"]


def test_created_event_carries_field_values_in_json_form():
    event = emitted(change(ChangeAction.CREATE, FieldChange("team", None, Ref("t1", "Eng"))))[0]
    assert event.data["fields"] == {"team": {"id": "t1", "name": "Eng"}}


def test_hidden_people_get_no_onboarding_or_offboarding_events():
    assert types(emitted(created(start=TODAY + DAY), workflows_enabled=False)) == ["employee.created"]
    end_set = change(ChangeAction.UPDATE, FieldChange("end_date", None, TODAY + DAY))
    assert types(emitted(end_set, workflows_enabled=False)) == ["employee.updated"]
    end_removed = change(ChangeAction.UPDATE, FieldChange("end_date", TODAY + DAY, None))
    assert types(emitted(end_removed, workflows_enabled=False)) == ["employee.updated"]


def test_end_date_set_schedules_an_offboarding():
    end = TODAY + 14 * DAY
    events = emitted(change(ChangeAction.UPDATE, FieldChange("end_date", None, end)))
    assert events == [
        Event("employee.updated", {**SUBJECT, "changes": {"end_date": {"old": None, "new": end.isoformat()}}}),
        Event("offboarding.scheduled", {**SUBJECT, "end_date": end.isoformat()}),
    ]


def test_end_date_today_schedules_an_offboarding():
    events = emitted(change(ChangeAction.UPDATE, FieldChange("end_date", None, TODAY)))
    assert types(events) == ["employee.updated", "offboarding.scheduled"]


def test_end_date_moved_reschedules_the_offboarding():
    moved = change(ChangeAction.UPDATE, FieldChange("end_date", TODAY + DAY, TODAY + 10 * DAY))
    events = emitted(moved)
    assert types(events) == ["employee.updated", "offboarding.scheduled"]
    assert events[1].data["end_date"] == (TODAY + 10 * DAY).isoformat()


def test_created_person_with_a_future_end_date_is_scheduled_for_offboarding_too():
    events = emitted(created(start=TODAY + DAY, end=TODAY + 90 * DAY))
    assert types(events) == ["employee.created", "onboarding.scheduled", "offboarding.scheduled"]


def test_end_date_removed_cancels_the_offboarding():
    events = emitted(change(ChangeAction.UPDATE, FieldChange("end_date", TODAY + 3 * DAY, None)))
    assert types(events) == ["employee.updated", "offboarding.cancelled"]
    assert events[1].data == {**SUBJECT, "previous_end_date": (TODAY + 3 * DAY).isoformat()}


def test_rehire_relink_clearing_the_end_date_cancels_the_offboarding():
    relink = change(ChangeAction.LINK, FieldChange("end_date", TODAY - 40 * DAY, None))
    assert types(emitted(relink)) == ["employee.updated", "offboarding.cancelled"]


def test_start_date_moved_into_the_future_reschedules_the_onboarding():
    moved = change(ChangeAction.UPDATE, FieldChange("start_date", TODAY + DAY, TODAY + 8 * DAY))
    assert types(emitted(moved)) == ["employee.updated", "onboarding.scheduled"]


def test_other_field_changes_are_only_an_update():
    renamed = change(ChangeAction.UPDATE, FieldChange("last_name", "Lovelace", "Byron"))
    assert emitted(renamed) == [
        Event("employee.updated", {**SUBJECT, "changes": {"last_name": {"old": "Lovelace", "new": "Byron"}}})
    ]


def test_no_change_gives_no_event():
    assert emitted(change(ChangeAction.UPDATE)) == []
    assert emitted(change(ChangeAction.LINK)) == []


def test_detachment_is_reported_with_its_reason_even_for_hidden_people():
    detach = change(ChangeAction.DETACH, reason="No longer returned by the source")
    expected = [Event("employee.detached", {**SUBJECT, "reason": "No longer returned by the source"})]
    assert emitted(detach) == expected
    assert emitted(detach, workflows_enabled=False) == expected


def test_a_departure_entered_after_the_last_day_still_schedules_the_offboarding():
    late = change(ChangeAction.UPDATE, FieldChange("end_date", None, TODAY - DAY))
    assert types(emitted(late)) == ["employee.updated", "offboarding.scheduled"]


def test_a_person_created_after_leaving_starts_no_offboarding():
    assert "offboarding.scheduled" not in types(emitted(created(start=TODAY - 90 * DAY, end=TODAY - DAY)))


def test_an_end_date_imported_once_drives_no_offboarding() -> None:
    set_later = change(ChangeAction.UPDATE, FieldChange("end_date", None, TODAY + 10 * DAY))
    removed = change(ChangeAction.UPDATE, FieldChange("end_date", TODAY + 10 * DAY, None))
    for edit in (set_later, removed, created(end=TODAY + 10 * DAY)):
        found = events_for_change(edit, workflows_enabled=True, today=TODAY, end_date_continuous=False)
        assert not {"offboarding.scheduled", "offboarding.cancelled"} & set(types(found))
        assert types(found)[0] in {"employee.created", "employee.updated"}


def test_a_rehire_cancels_the_departure_and_schedules_the_new_start() -> None:
    rehire = change(
        ChangeAction.LINK,
        FieldChange("end_date", TODAY - 40 * DAY, None),
        FieldChange("start_date", TODAY - 400 * DAY, TODAY + 14 * DAY),
    )
    assert types(emitted(rehire)) == ["employee.updated", "onboarding.scheduled", "offboarding.cancelled"]


def test_a_change_already_in_json_form_gives_the_same_events() -> None:
    from staffsync.domain.events import events_for_diff
    from staffsync.domain.values import value_to_json

    edit = change(
        ChangeAction.UPDATE,
        FieldChange("start_date", TODAY - DAY, TODAY + DAY),
        FieldChange("end_date", TODAY + 30 * DAY, None),
        FieldChange("team", None, Ref("t1", "Eng")),
    )
    diff = {c.field: {"old": value_to_json(c.old), "new": value_to_json(c.new)} for c in edit.fields}
    from_diff = events_for_diff(
        edit.action, "e1", "r1", diff, reason=None, workflows_enabled=True, today=TODAY, end_date_continuous=True
    )
    assert from_diff == emitted(edit)
    assert types(from_diff) == ["employee.updated", "onboarding.scheduled", "offboarding.cancelled"]
