"""Which directory employee a source record is: its link first, then its work email.

Matching by work email is what stops rehires, contractor-to-employee conversions and a second HR
source from creating duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from staffsync.domain.directory import DirectoryEmployee, SourceLink


class MatchKind(StrEnum):
    LINKED = "linked"  # the record's link is active
    REATTACHED = "reattached"  # the record's link was detached: the person is back in scope
    RELINKED = "relinked"  # a new remote id for a person this source already had (rehire, conversion)
    MATCHED_BY_EMAIL = "matched_by_email"  # a person the directory knows from elsewhere
    NEW = "new"


@dataclass(frozen=True, slots=True)
class Match:
    kind: MatchKind
    employee: DirectoryEmployee | None = None
    # RELINKED: the remote id whose link the new record takes over.
    superseded_remote_id: str | None = None

    def reason(self) -> str | None:
        if self.kind is MatchKind.REATTACHED:
            return "Back in scope of the source"
        if self.kind is MatchKind.RELINKED:
            return (
                f"New HR record for the same person (rehire or contract change): relinked from remote id "
                f"{self.superseded_remote_id}"
            )
        if self.kind is MatchKind.MATCHED_BY_EMAIL:
            return "Matched by work email to an existing employee"
        return None


def match(
    *,
    link: SourceLink | None,
    linked_employee: DirectoryEmployee | None,
    email_employee: DirectoryEmployee | None,
    email_employee_link: SourceLink | None,
) -> Match:
    """`email_employee_link` is the active link, from the same connection, of the employee found by email."""
    if link is not None and linked_employee is not None:
        return Match(MatchKind.LINKED if link.active else MatchKind.REATTACHED, linked_employee)
    if email_employee is not None:
        if email_employee_link is not None and email_employee_link.active:
            return Match(MatchKind.RELINKED, email_employee, email_employee_link.remote_id)
        return Match(MatchKind.MATCHED_BY_EMAIL, email_employee)
    return Match(MatchKind.NEW)
