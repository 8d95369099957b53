"""Grading jobs held by a lease: the worker that claims a job renews `heartbeat_at` while it
works; a job whose lease has run out (its worker died) is claimed again, `attempts` times at
most (issue 16, part 3). Service leases: which copy of a service does a periodic duty (the
exam desk's culler heartbeat) while the others stand by.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exam_jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    # A job running at the upgrade was claimed once; its lease counts from its start.
    op.execute("UPDATE exam_jobs SET heartbeat_at = started_at, attempts = 1 WHERE status = 'running'")
    op.create_table(
        "service_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_leases")
    with op.batch_alter_table("exam_jobs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("heartbeat_at")
