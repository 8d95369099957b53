"""Grading flags: submissions graded but to be looked at, for HR's person page and exports.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grading_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("notebook", sa.String(255), nullable=False, server_default=""),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_grading_flags_user_exam", "username", "exam"),
    )


def downgrade() -> None:
    op.drop_table("grading_flags")
