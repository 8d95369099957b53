"""Progress judged by the service: which rows are its own verdicts, and the answers judged.

Rows stored before this revision were reported by learners' kernels with their own verdicts
and times; they stay (nothing is lost) with `judged` false, and no report counts them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("progress_events") as batch:
        batch.add_column(sa.Column("judged", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("task_round", sa.Integer, nullable=True))
        batch.add_column(sa.Column("answer", sa.Text, nullable=True))
    # the quota counts a user's judged answers in the last minute and day
    op.create_index("ix_progress_events_user_kind_time", "progress_events",
                    ["username", "kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_progress_events_user_kind_time", "progress_events")
    with op.batch_alter_table("progress_events") as batch:
        batch.drop_column("answer")
        batch.drop_column("task_round")
        batch.drop_column("judged")
