"""The directory's lists (PRODUCT.md §5): active, onboardings, offboardings, detached.

The offboardings list is only as good as the end dates behind it: people fed by a connection whose
end date is not continuously synchronised are left out, and that connection gets a diagnostic saying
why, instead of a list that silently misses departures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from staffsync.domain.fields import OFFBOARDING_NEEDS_CONTINUOUS_END_DATE
from staffsync.storage import connections as connection_store
from staffsync.storage import models
from staffsync.storage.directory import (
    DirectoryCursor,
    DirectoryFacets,
    DirectoryPage,
    DirectoryQuery,
    DirectoryView,
    directory_facets,
    list_directory,
)
from staffsync.sync.engine import account_today


@dataclass(frozen=True, slots=True)
class ConnectionDiagnostic:
    connection_id: str
    connection_name: str
    code: str
    message: str
    # People this connection feeds who have an end date in the list's window, yet are left out of it.
    people_left_out: int = 0


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
    team: str | None = None,
    legal_entity: str | None = None,
    employment_type: str | None = None,
    after: DirectoryCursor | None = None,
) -> DirectoryListing:
    """One page of a view. `after` continues from a page's `next_cursor` (keyset: deep pages cost what the
    first does); team, legal entity and employment type narrow it to exact values (see `facets`)."""
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
        team=team,
        legal_entity=legal_entity,
        employment_type=employment_type,
        after=after,
    )
    page = list_directory(session, account.id, query)
    return DirectoryListing(view, today, page, tuple(_with_people_left_out(session, account.id, query, diagnostics)))


def _with_people_left_out(
    session: Session, account_id: str, query: DirectoryQuery, diagnostics: list[ConnectionDiagnostic]
) -> list[ConnectionDiagnostic]:
    """How many departures each diagnosed connection keeps out of this very list (same search, same filters)."""
    return [
        replace(
            diagnostic,
            people_left_out=list_directory(
                session,
                account_id,
                replace(query, offboarding_connection_ids=frozenset({diagnostic.connection_id}), limit=0, after=None),
            ).total,
        )
        for diagnostic in diagnostics
    ]


def facets(session: Session, account: models.Account) -> DirectoryFacets:
    """Teams, legal entities and employment types the account's people have, for the directory's filters."""
    return directory_facets(session, account.id)
