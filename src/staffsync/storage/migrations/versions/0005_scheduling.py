"""scheduling: each connection stores when it syncs next, whether it is paused, and its failure streak

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:50:55.182756
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import staffsync.storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_sync_at", staffsync.storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("paused_at", staffsync.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("failing_since", staffsync.storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_connections_next_sync_at"), ["next_sync_at"], unique=False)
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_runs_status", ["status"], unique=False)
    _schedule_existing_connections()


def _schedule_existing_connections() -> None:
    """The rule this replaces: due an interval after the last real run started, at once if never run;
    broken and disconnected connections and those with a held run waiting are not scheduled."""
    utc = staffsync.storage.models.UTCDateTime(timezone=True)
    connections = sa.table(
        "connections",
        sa.column("id", sa.String),
        sa.column("schedule_minutes", sa.Integer),
        sa.column("status", sa.String),
        sa.column("disconnected_at", utc),
        sa.column("next_sync_at", utc),
    )
    runs = sa.table(
        "sync_runs",
        sa.column("connection_id", sa.String),
        sa.column("started_at", utc),
        sa.column("status", sa.String),
        sa.column("dry_run", sa.Boolean),
    )
    bind = op.get_bind()
    last_started = dict(
        bind.execute(
            sa.select(runs.c.connection_id, sa.func.max(runs.c.started_at))
            .where(runs.c.dry_run.is_(False))
            .group_by(runs.c.connection_id)
        ).all()
    )
    held = set(bind.execute(sa.select(runs.c.connection_id).where(runs.c.status == "held")).scalars())
    now = dt.datetime.now(dt.UTC)
    for connection_id, minutes, status, disconnected_at in bind.execute(
        sa.select(connections.c.id, connections.c.schedule_minutes, connections.c.status, connections.c.disconnected_at)
    ).all():
        if disconnected_at is not None or status == "broken" or connection_id in held:
            continue
        started = last_started.get(connection_id)
        next_sync_at = now if started is None else started + dt.timedelta(minutes=minutes)
        bind.execute(sa.update(connections).where(connections.c.id == connection_id).values(next_sync_at=next_sync_at))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_status")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_next_sync_at"))
        batch_op.drop_column("failing_since")
        batch_op.drop_column("consecutive_failures")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("next_sync_at")
