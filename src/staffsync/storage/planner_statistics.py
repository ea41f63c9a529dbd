"""Statistics SQLite's query planner starts from, before ANALYZE has seen real rows.

Without any, SQLite assumes an equality on an indexed column matches about ten rows, so
`account_id = ? AND id IN (…)` walks the account's index, the whole tenant, once per chunk of ids, instead
of looking each id up: a first sync of 100,000 people spent most of its apply phase doing that, growing with
the square of the company. These statistics say what is true of every staffsync database: a tenant
(account, connection, run, status) holds many rows, a unique key holds one. `Database.refresh_statistics`
replaces them with measured ones after the first bulk change.
"""

from __future__ import annotations

from sqlalchemy import Connection

from staffsync.storage.search import SEARCH_TABLE

# Columns that scope a query (one tenant, one source, one run, one state) rather than pick rows out of it: most
# people are neither detached nor hidden.
SCOPE_COLUMNS = frozenset({"account_id", "connection_id", "run_id", "status", "detached_at", "hidden"})
ASSUMED_ROWS = 1_000_000
# Rows per key of an index prefix that is neither a scope nor a unique key: SQLite's own guess.
ASSUMED_MATCHES = 10


def index_statistic(columns: list[str], *, unique: bool) -> str:
    """The `stat` of one index: the rows, then the rows per key of each leading prefix of its columns."""
    per_prefix: list[int] = []
    scoped = True
    for position, column in enumerate(columns, start=1):
        scoped = scoped and column in SCOPE_COLUMNS
        if scoped:
            per_prefix.append(ASSUMED_ROWS)
        elif unique and position == len(columns):
            per_prefix.append(1)
        else:
            per_prefix.append(ASSUMED_MATCHES)
    return " ".join(str(number) for number in (ASSUMED_ROWS, *per_prefix))


def seed_sqlite_statistics(connection: Connection) -> None:
    """Writes the assumed statistics of every index that has none yet; measured ones are left as they are."""
    if connection.dialect.name != "sqlite":
        return
    # ANALYZE creates sqlite_stat1 (and measures whatever rows there already are).
    connection.exec_driver_sql("ANALYZE")
    # The search index's own tables are FTS5's business: its queries were planned without statistics.
    measured = {(table, index) for table, index in connection.exec_driver_sql("SELECT tbl, idx FROM sqlite_stat1")}
    tables = connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE :search",
        {"search": f"{SEARCH_TABLE}%"},
    ).scalars()
    rows: list[tuple[str, str, str]] = []
    for table in list(tables):
        for _, index, unique, *_ in connection.exec_driver_sql(f"PRAGMA index_list('{table}')").all():
            if (table, index) in measured:
                continue
            columns = [info[2] for info in connection.exec_driver_sql(f"PRAGMA index_info('{index}')").all()]
            if columns and all(columns):
                rows.append((table, index, index_statistic(columns, unique=bool(unique))))
    if rows:
        connection.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", rows)
        # The documented way to make the planner read sqlite_stat1 again.
        connection.exec_driver_sql("ANALYZE sqlite_master")
