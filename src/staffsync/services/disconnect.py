"""Disconnecting an HR source, for the API's DELETE and the connection page alike: the sync stops for good,
its people stay, detached with the reason "source disconnected" (PRODUCT.md §5)."""

from __future__ import annotations

import datetime as dt

from staffsync.storage import api_queries, models
from staffsync.storage import connections as connection_store
from staffsync.storage.db import Database
from staffsync.storage.locks import connection_lock


def disconnect(db: Database, account_id: str, connection_id: str, *, now: dt.datetime) -> models.Connection | None:
    """The disconnected connection, or None when the account has no such connection. Disconnecting twice
    changes nothing the second time. Raises ConnectionBusy while a run of the connection is going."""
    with db.transaction() as session:
        if connection_store.get_connection(session, account_id, connection_id) is None:
            return None
    # The lock first: a run in flight must not apply over a source being disconnected.
    with connection_lock(db, connection_id), db.transaction() as session:
        connection = connection_store.get_connection(session, account_id, connection_id)
        if connection is not None and connection.disconnected_at is None:
            api_queries.disconnect_connection(session, connection, now=now)
        return connection
