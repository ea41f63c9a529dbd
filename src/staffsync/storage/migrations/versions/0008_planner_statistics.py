"""planner statistics: what SQLite assumes before ANALYZE has seen real rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from alembic import op

from staffsync.storage.planner_statistics import seed_sqlite_statistics

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seed_sqlite_statistics(op.get_bind())


def downgrade() -> None:
    # Statistics only guide the planner: the ones written stay until the next ANALYZE replaces them.
    return None
