"""Reports summary: the HR dashboards' per-period levels and exam totals of each gradebook,
written when grading changes a gradebook, so a dashboard reads a few small tables instead of
every grade (issue 15).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per gradebook. The levels (hundreds of thousands of rows per gradebook) are kept
    # as packed columns (numpy .npz, no pickle): reading them as SQL rows costs a Python
    # object per value, seconds at a province's size, while this is read in milliseconds.
    op.create_table(
        "report_sources",
        sa.Column("source", sa.String(64), primary_key=True),  # hash of the gradebook's place
        sa.Column("key", sa.String(64), nullable=False),  # the gradebook's state it was built from
        sa.Column("frames", sa.Text, nullable=False),  # periods, items, problems, names (JSON)
        sa.Column("levels", sa.LargeBinary, nullable=False),  # per username, period, competence
        sa.Column("exams", sa.LargeBinary, nullable=False),  # per username and period
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_sources")
