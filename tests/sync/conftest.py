from __future__ import annotations

import pytest

from fakes import Directory, ListSource, make_directory, person
from staffsync.storage.db import Database


@pytest.fixture
def directory(db: Database) -> Directory:
    return make_directory(db, ListSource([person(n) for n in range(1, 6)]))
