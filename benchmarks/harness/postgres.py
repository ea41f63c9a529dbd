"""A PostgreSQL database of its own for each measured state, dropped at the end: the server's other
databases (other people's tests) are never touched."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


class PostgresServer:
    def __init__(self, url: str = DEFAULT_SERVER) -> None:
        self.url: URL = make_url(url)
        self._admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def version(self) -> str:
        """The server's version, or raises SQLAlchemyError when it does not answer."""
        with self._admin.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())

    def reachable(self) -> str | None:
        try:
            self.version()
        except SQLAlchemyError as error:
            return f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
        return None

    def create(self, label: str) -> str:
        """Creates `bench_<label>_<pid>` and returns its URL."""
        name = f"bench_{label}_{os.getpid()}"
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def dispose(self) -> None:
        self._admin.dispose()
