"""The event outbox: ids that sort in writing order."""

from __future__ import annotations

from fakes import NOW


def test_outbox_events_sort_in_the_order_they_were_written() -> None:
    from staffsync.domain.events import Event
    from staffsync.storage.outbox import event_rows

    rows = event_rows([Event(f"t{n}") for n in range(500)], account_id="a", now=NOW)
    assert [row["type"] for row in sorted(rows, key=lambda row: (row["occurred_at"], row["id"]))] == [
        f"t{n}" for n in range(500)
    ]


def test_event_ids_of_later_writes_sort_after_earlier_ones() -> None:
    from staffsync.storage.outbox import new_event_ids

    first, second, third = new_event_ids(3), new_event_ids(0), new_event_ids(2)
    assert second == []
    ids = first + third
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
