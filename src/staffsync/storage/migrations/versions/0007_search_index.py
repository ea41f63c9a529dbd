"""search index: trigrams of names, work emails, teams and legal entities

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:50:00
"""

from __future__ import annotations

from alembic import op

from staffsync.storage.search import create_search_index, drop_search_index

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_search_index(op.get_bind())


def downgrade() -> None:
    drop_search_index(op.get_bind())
