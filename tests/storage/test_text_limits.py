"""The validation's text limits are the storage columns' sizes: a value that passes validation always fits."""

from __future__ import annotations

from sqlalchemy import String

from staffsync.domain.validation import TEXT_LIMITS
from staffsync.storage import models

COLUMNS = {
    "remote_id": models.SourceLink.__table__.c.remote_id,
    "team": models.Employee.__table__.c.team_name,
    "legal_entity": models.Employee.__table__.c.legal_entity_name,
}


def test_every_text_limit_is_the_size_of_the_column_that_stores_it() -> None:
    for field, limit in TEXT_LIMITS.items():
        column = COLUMNS.get(field, models.Employee.__table__.c.get(field))
        assert column is not None, field
        assert isinstance(column.type, String), field
        assert column.type.length == limit, field
