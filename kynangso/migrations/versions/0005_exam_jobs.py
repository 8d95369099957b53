"""Exam jobs (the grading worker's queue) and the desk's record of submissions.

The desk runs as its own account and cannot list inbound nor write the gradebook: it records
each submission it stored (its folder, time and secret, so that feedback is found by name)
and queues what only the grader account may do (due dates, collect and grade).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "exam_submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("folder", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("notebooks", sa.Text, nullable=False),
        sa.Index("ix_exam_submissions_user_exam", "username", "exam"),
    )


def downgrade() -> None:
    op.drop_table("exam_submissions")
    op.drop_table("exam_jobs")
