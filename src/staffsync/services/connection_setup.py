"""Setting a connection up (PRODUCT.md §3, steps 3 to 6), for the web wizard and anything else that needs it.

Reading the source is the step that fails in real life (a Kombo setup still running, a rejected key,
a network cut): every read here ends as a `SourceUnavailable` with a sentence an admin can act on,
never as an exception that takes the page down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from staffsync.connectors.base import ConnectorError, FilterOptions, HRConnector
from staffsync.connectors.registry import InvalidConnectorConfig, ProviderNotInstalled, UnknownProvider
from staffsync.domain.fields import FieldSettings
from staffsync.domain.filters import FilterRules
from staffsync.services.preview import PreviewRow, preview
from staffsync.storage import accounts as account_store
from staffsync.storage import models
from staffsync.storage import runs as run_store

# (stored connection, account time zone) -> the connector that reads it; api.deps.ConnectorFor
ConnectorFor = Callable[[models.Connection, str], HRConnector]


class SourceUnavailable(RuntimeError):
    """The source could not be read; the message says why in plain words, without personal data."""


def open_connector(connector_for: ConnectorFor, session: Session, connection: models.Connection) -> HRConnector:
    account = account_store.get_account(session, connection.account_id)
    assert account is not None
    try:
        return connector_for(connection, account.timezone)
    except (InvalidConnectorConfig, UnknownProvider, ProviderNotInstalled) as error:
        raise SourceUnavailable(f"The connection cannot be read: {error}") from None


@contextmanager
def reading(connector: HRConnector, what: str) -> Iterator[HRConnector]:
    """Closes the connector's HTTP client afterwards (where it has one), and turns any failure into plain words."""
    try:
        yield connector
    except ConnectorError as error:
        raise SourceUnavailable(error.message) from None
    except Exception as error:  # only the type: exception texts can quote the payload, and with it personal data
        raise SourceUnavailable(
            f"Reading the {what} from the source stopped with an unexpected {type(error).__name__}"
        ) from None
    finally:
        close = getattr(connector, "close", None)
        if callable(close):
            close()


def read_filter_options(connector: HRConnector) -> FilterOptions:
    with reading(connector, "filter values") as source:
        return source.filter_options()


@dataclass(frozen=True, slots=True)
class PreviewQuery:
    """What the admin is looking for: part of a last name, and Included or Excluded only."""

    last_name: str | None = None
    status: str | None = None

    def matches(self, row: PreviewRow) -> bool:
        wanted = (self.last_name or "").strip().lower()
        if wanted and wanted not in (row.last_name or "").lower():
            return False
        return not self.status or row.status == self.status


@dataclass(frozen=True, slots=True)
class PreviewPage:
    rows: tuple[PreviewRow, ...]
    # Everyone the source returns, whatever the search: the counts an admin checks a filter against.
    included: int
    excluded: int
    # People matching the search, of whom `rows` is the window starting at `offset`.
    matching: int
    offset: int

    @property
    def total(self) -> int:
        return self.included + self.excluded

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.matching


def preview_page(
    connector: HRConnector,
    settings: FieldSettings,
    rules: FilterRules,
    query: PreviewQuery,
    *,
    offset: int,
    limit: int,
) -> PreviewPage:
    """One pass over the source, through the very evaluation the sync makes; only the window is kept in memory."""
    rows: list[PreviewRow] = []
    included = excluded = matching = 0
    with reading(connector, "people") as source:
        for row in preview(source, settings, rules):
            if row.included:
                included += 1
            else:
                excluded += 1
            if query.matches(row):
                if offset <= matching < offset + limit:
                    rows.append(row)
                matching += 1
    return PreviewPage(tuple(rows), included, excluded, matching, offset)


@dataclass(frozen=True, slots=True)
class SyncSchedule:
    """Where a connection stands: its latest finished run, the one going on, and when the schedule runs it next."""

    last_run: models.SyncRun | None
    running: models.SyncRun | None
    # None when the schedule will not run it: not launched yet, paused, held, broken or disconnected.
    next_due: dt.datetime | None
    # A real sync was started: the setup wizard is behind it.
    launched: bool


def sync_schedule(session: Session, connection: models.Connection) -> SyncSchedule:
    """Dry runs are simulations: they are never the last sync, and do not count as launching it."""
    runs = run_store.list_runs(session, connection.account_id, connection.id, limit=20)
    real = [run for run in runs if not run.dry_run]
    running = next((run for run in runs if run.status == "running"), None)
    finished = next((run for run in real if run.status != "running"), None)
    return SyncSchedule(finished, running, connection.next_sync_at, launched=bool(real))


def wait_for_launch(session: Session, connection: models.Connection) -> None:
    """A source just connected syncs first when the admin launches it, after choosing its data and filters:
    until then the schedule must not sync every field of everyone with the default settings."""
    if not sync_schedule(session, connection).launched:
        connection.next_sync_at = None
