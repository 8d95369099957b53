"""Exam windows and attempts (the exam desk).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_windows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("assignment_id", sa.String(64), nullable=False, index=True),
        sa.Column("group", sa.String(64), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late_policy", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "exam_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("window_id", sa.Integer, sa.ForeignKey("exam_windows.id"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submissions", sa.Integer, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.UniqueConstraint("window_id", "username"),
    )


def downgrade() -> None:
    op.drop_table("exam_attempts")
    op.drop_table("exam_windows")
