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
    op.create_table(
        "report_sources",
        sa.Column("source", sa.String(64), primary_key=True),  # hash of the gradebook's place
        sa.Column("key", sa.String(64), nullable=False),  # the gradebook's state it was built from
        sa.Column("frames", sa.Text, nullable=False),  # periods, items, problems (JSON, small)
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "report_levels",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("period_id", sa.String(255), nullable=False),
        sa.Column("competence", sa.String(32), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("earned", sa.Float, nullable=False),
        sa.Column("possible", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("source", "seq"),
    )
    op.create_table(
        "report_exams",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("period_id", sa.String(255), nullable=False),
        sa.Column("earned", sa.Float, nullable=False),
        sa.Column("possible", sa.Float, nullable=False),
        sa.Column("submitted_at", sa.String(40)),  # ISO text: the same on SQLite and PostgreSQL
        sa.Column("percent", sa.Float),
        sa.PrimaryKeyConstraint("source", "seq"),
    )


def downgrade() -> None:
    op.drop_table("report_exams")
    op.drop_table("report_levels")
    op.drop_table("report_sources")
