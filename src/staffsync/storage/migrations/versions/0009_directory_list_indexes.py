"""directory list indexes: who is listed, who starts, who leaves

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 14:10:00
"""

from __future__ import annotations

from alembic import op

from staffsync.storage.planner_statistics import seed_sqlite_statistics

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_employees_account_listed", "employees", ["account_id", "detached_at", "hidden"])
    op.create_index("ix_employees_account_start_date", "employees", ["account_id", "start_date"])
    op.create_index("ix_employees_account_end_date", "employees", ["account_id", "end_date"])
    seed_sqlite_statistics(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_employees_account_end_date", "employees")
    op.drop_index("ix_employees_account_start_date", "employees")
    op.drop_index("ix_employees_account_listed", "employees")
