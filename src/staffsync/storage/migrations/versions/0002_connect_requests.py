"""connect requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:39:59.298869
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import staffsync.storage.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", staffsync.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", staffsync.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", staffsync.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("connection_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_connect_requests_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_requests")),
    )
    with op.batch_alter_table("connect_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_requests_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connect_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_requests_account_id"))

    op.drop_table("connect_requests")
