"""The directory as the pure core sees it: plain snapshots of employees and their source links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from staffsync.domain.values import FieldValue


@dataclass(frozen=True, slots=True)
class DirectoryEmployee:
    """`values["manager"]` holds the manager's directory employee id."""

    id: str
    version: int
    values: Mapping[str, FieldValue]
    # Fields an admin or API client has edited by hand: import-once fields never get overwritten
    # or filled in by a sync once they are here.
    manually_edited: frozenset[str] = frozenset()
    primary_connection_id: str | None = None
    detached: bool = False
    hidden: bool = False
    onboarding_ignored: bool = False

    def value(self, field_name: str) -> FieldValue:
        return self.values.get(field_name)


@dataclass(frozen=True, slots=True)
class SourceLink:
    """One source record tied to one employee: `(connection_id, remote_id)` is unique."""

    connection_id: str
    remote_id: str
    employee_id: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class ConnectionRank:
    """Which connection feeds continuous fields when several return the same person.

    A lower `priority` number wins (1 = first); ties go to the oldest connection."""

    connection_id: str
    priority: int
    created_order: int = 0

    def outranks(self, other: ConnectionRank) -> bool:
        return (self.priority, self.created_order) < (other.priority, other.created_order)


@dataclass(frozen=True, slots=True)
class Ranks:
    by_connection: Mapping[str, ConnectionRank] = field(default_factory=dict)

    def feeds(self, connection_id: str, employee: DirectoryEmployee) -> bool:
        """Whether this connection's values win for this employee (and so it becomes the primary)."""
        primary = employee.primary_connection_id
        if primary is None or primary == connection_id:
            return True
        mine, theirs = self.by_connection.get(connection_id), self.by_connection.get(primary)
        if mine is None or theirs is None:
            # An unknown primary is a disconnected source: whoever still returns the person feeds them.
            return theirs is None
        return mine.outranks(theirs)
