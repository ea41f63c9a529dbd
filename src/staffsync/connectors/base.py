"""What every HR connector offers the sync engine, and how it reports failure in plain words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from staffsync.domain.records import FilterOption, RejectedRecord, SourceEmployee


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """`fields` are the enabled catalogue fields: a connector must not request others where its API
    allows it, and must never return them. `updated_after=None` asks for a complete fetch."""

    fields: frozenset[str]
    updated_after: dt.datetime | None = None
    # How many records the caller reads before it stops (a preview's first page): a connector may ask its
    # source for pages of that size instead of its largest. None: the caller reads everything.
    expected_records: int | None = None

    @property
    def is_full(self) -> bool:
        return self.updated_after is None


@dataclass(frozen=True, slots=True)
class FilterOptions:
    legal_entities: tuple[FilterOption, ...] = ()
    employment_types: tuple[FilterOption, ...] = ()
    teams: tuple[FilterOption, ...] = ()


class FailureKind(StrEnum):
    CREDENTIALS_REJECTED = "credentials_rejected"
    WAITING_FOR_SOURCE = "waiting_for_source"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INVALID_RESPONSE = "invalid_response"
    NETWORK = "network"
    INCOMPLETE = "incomplete"


@dataclass
class ConnectorError(Exception):
    """A provider failure, said so an admin can act on it. Never carries secrets or personal data."""

    kind: FailureKind
    message: str
    log_url: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@runtime_checkable
class HRConnector(Protocol):
    provider: str
    supports_incremental: bool

    def employees(self, request: FetchRequest) -> Iterator[SourceEmployee | RejectedRecord]:
        """Streams every person (or every person changed since `updated_after`), page by page.

        Raises ConnectorError (or anything else) mid-stream when the fetch cannot complete: the engine
        then applies nothing."""
        ...

    def filter_options(self) -> FilterOptions:
        """The values admins can filter on, read from the source."""
        ...
