"""Engine and sessions; migrations on demand. Only the edge (a command, a request, a task) commits."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from staffsync.storage.audit import ACTING, install_audit_trail

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration; tests/storage/test_migrations.py checks it against alembic's own head.
SCHEMA_HEAD = "0009"
# Rows per executemany of a bulk insert.
INSERT_BATCH = 1000


class Database:
    def __init__(self, url: str, *, echo: bool = False, actor: str | None = None) -> None:
        self.url = make_url(url)
        # Who a process acts for when a transaction does not say (the CLI's operating-system user).
        self.actor = actor
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgresql = self.url.get_backend_name() == "postgresql"
        kwargs: dict[str, Any] = {
            "echo": echo,
            # Every employee row carries several JSON columns: orjson makes syncs of 100,000 people affordable.
            "json_serializer": _dump_json,
            "json_deserializer": orjson.loads,
        }
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Threads of one process share the file; WAL lets readers go on while a sync writes.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        install_audit_trail()

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self, *, actor: str | None = None) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on any exception.

        `actor` names who is behind the change (an admin, an API token, a CLI user) for the audit trail;
        without it (and without a process-wide one), configuration changes are recorded as the system's own."""
        with self._sessions() as session, session.begin():
            acting = actor or ACTING.get() or self.actor
            if acting:
                session.info["actor"] = acting
            yield session

    def upgrade(self, revision: str = "head") -> None:
        # Every CLI command upgrades first; an up-to-date schema answers from one query, without importing
        # alembic (a third of a second per command).
        if revision == "head" and self.schema_revision() == SCHEMA_HEAD:
            return
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config(self.url.render_as_string(hide_password=False))
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def schema_revision(self) -> str | None:
        """The migration the database is at, or None for a database staffsync never migrated."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None

    def refresh_statistics(self) -> None:
        """After a bulk change. SQLite without statistics takes `account_id = ?` for selective and scans
        a whole tenant instead of using the primary key; PostgreSQL's autovacuum would catch up later."""
        with self.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")

    def dispose(self) -> None:
        self.engine.dispose()


def insert_rows(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """One executemany per INSERT_BATCH rows, never one for all: SQLAlchemy prepares the parameters of every
    row before it sends the first, so a whole run's rows in one statement would sit in memory two more times.
    Pass a generator and the caller's rows never all exist at once either."""
    pending = iter(rows)
    statement = table.insert()
    while batch := list(itertools.islice(pending, INSERT_BATCH)):
        session.execute(statement, batch)


def insert_rows_as_one_statement(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Like `insert_rows`, but on SQLite each batch is one `INSERT … SELECT` over a JSON array instead of a
    statement per row. A table with a per-row trigger into an FTS5 index needs it: FTS5 writes its pending
    terms out at the end of every statement, so a statement per row made a segment per row and a first
    sync of 100,000 people spent minutes merging them; one statement per batch writes one segment.
    Every row names the same columns (the first row's); values go through the columns' own bind processing,
    so they are stored exactly as SQLAlchemy stores them."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        insert_rows(session, table, rows)
        return
    pending = iter(rows)
    while batch := list(itertools.islice(pending, INSERT_BATCH)):
        names = list(batch[0])
        processors = [table.c[name].type._cached_bind_processor(connection.dialect) for name in names]
        values = [
            [
                item if processor is None else processor(item)
                for processor, item in zip(processors, (row[name] for name in names), strict=True)
            ]
            for row in batch
        ]
        columns = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in names)
        picks = ", ".join(f"json_extract(value, '$[{position}]')" for position in range(len(names)))
        statement = f"INSERT INTO {table.name} ({columns}) SELECT {picks} FROM json_each(?)"  # nosec B608 - names from the table
        connection.exec_driver_sql(statement, (orjson.dumps(values).decode(),))


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Memory stays flat as the directory grows (issue 8): the operating system's file cache already holds a
    # recently read database, so a page read is a copy, not a disk access. A bigger cache, a memory-mapped
    # file (every page read counted in the process's RSS) or in-memory temp files (the statement journal of
    # one UPDATE over a whole run's changes) each grew a 50,000-person first sync by 100 to 300 MiB.
    cursor.execute("PRAGMA cache_size=-8192")
    cursor.execute("PRAGMA mmap_size=0")
    cursor.execute("PRAGMA temp_store=FILE")
    cursor.close()


def _dump_json(value: Any) -> str:
    return orjson.dumps(value).decode()
