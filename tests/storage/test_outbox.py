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
