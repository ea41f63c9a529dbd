"""The directory's lists (PRODUCT.md §5): active, onboardings, offboardings, detached.

The offboardings list is only as good as the end dates behind it: people fed by a connection whose
end date is not continuously synchronised are left out, and that connection gets a diagnostic saying
why, instead of a list that silently misses departures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from staffsync.domain.fields import OFFBOARDING_NEEDS_CONTINUOUS_END_DATE
from staffsync.storage import connections as connection_store
from staffsync.storage import models
from staffsync.storage.directory import DirectoryPage, DirectoryQuery, DirectoryView, list_directory
from staffsync.sync.engine import account_today


@dataclass(frozen=True, slots=True)
class ConnectionDiagnostic:
    connection_id: str
    connection_name: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class DirectoryListing:
    view: DirectoryView
    today: dt.date
    page: DirectoryPage
    diagnostics: tuple[ConnectionDiagnostic, ...] = ()


def list_employees(
    session: Session,
    account: models.Account,
    *,
    view: DirectoryView,
    now: dt.datetime,
    text: str | None = None,
    include_hidden: bool = False,
    limit: int | None = None,
) -> DirectoryListing:
    today = account_today(account.timezone, now)
    continuous: set[str] = set()
    diagnostics: list[ConnectionDiagnostic] = []
    if view is DirectoryView.OFFBOARDINGS:
        for connection in connection_store.list_connections(session, account.id):
            if connection.disconnected_at is not None:
                continue
            settings = connection_store.field_settings_of(connection)
            if settings.is_continuous("end_date"):
                continuous.add(connection.id)
                continue
            diagnostics.extend(
                ConnectionDiagnostic(connection.id, connection.name, problem.code, problem.message)
                for problem in settings.diagnostics()
                if problem.code == OFFBOARDING_NEEDS_CONTINUOUS_END_DATE
            )
    query = DirectoryQuery(
        view=view,
        today=today,
        text=text,
        include_hidden=include_hidden,
        offboarding_connection_ids=frozenset(continuous),
        limit=limit,
    )
    return DirectoryListing(view, today, list_directory(session, account.id, query), tuple(diagnostics))
