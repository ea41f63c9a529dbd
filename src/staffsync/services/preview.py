"""The filtering preview: every person a source returns, Included or Excluded with the reasons.

It calls the very `filters.evaluate` the sync calls, on the very records the sync would see."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from staffsync.connectors.base import FetchRequest, HRConnector
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules, evaluate
from staffsync.domain.records import RejectedRecord, SourceEmployee
from staffsync.domain.validation import rejection


@dataclass(frozen=True, slots=True)
class PreviewRow:
    remote_id: str | None
    first_name: str | None
    last_name: str | None
    work_email: str | None
    included: bool
    reasons: tuple[str, ...]

    @property
    def status(self) -> str:
        return "included" if self.included else "excluded"


def preview(
    connector: HRConnector,
    settings: FieldSettings,
    rules: FilterRules,
    *,
    last_name: str | None = None,
    status: str | None = None,
    rows: int | None = None,
) -> Iterator[PreviewRow]:
    """Rejected records show as excluded with the rejection reason: they would not sync either. `rows` is how
    many rows the caller will read: the source is then asked for pages of about that size, a page of a preview
    costing what it shows rather than a whole page of the source."""
    wanted = last_name.strip().lower() if last_name else None
    # A search or a status reads on until enough rows match: the source's largest pages are then the fastest.
    expected = rows if rows is not None and not wanted and not status else None
    request = FetchRequest(fields=settings.enabled_fields(), expected_records=expected)
    for item in connector.employees(request):
        row = _row(item, settings, rules)
        if row is None:
            continue
        if wanted and wanted not in (row.last_name or "").lower():
            continue
        if status and row.status != status:
            continue
        yield row


def _row(item: SourceEmployee | RejectedRecord, settings: FieldSettings, rules: FilterRules) -> PreviewRow | None:
    if isinstance(item, RejectedRecord):
        return PreviewRow(item.remote_id, None, None, None, False, (item.reason,))
    record = item.without(settings.disabled_fields())
    if record.deleted:
        return None
    problem = rejection(record)
    if problem is not None:
        return PreviewRow(
            record.remote_id, record.first_name, record.last_name, record.work_email, False, (problem.reason,)
        )
    result = evaluate(record, rules)
    return PreviewRow(
        record.remote_id,
        record.first_name,
        record.last_name,
        record.work_email,
        result.included,
        tuple(reason.message for reason in result.reasons),
    )
