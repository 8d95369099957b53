"""Grading by submission: a grade job of a course whose gradebook is on PostgreSQL is split into
one job per learner's submission (kind "submission", `parent_id` the grade job, `student`), so
that workers on several hosts grade one exam together; `result` keeps each one's report (JSON)
for the grade job to sum up (issue 16, part 3).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exam_jobs") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("student", sa.String(64), nullable=True))
        batch.add_column(sa.Column("result", sa.Text, nullable=True))
        # A grade job claimed again spawns its submissions again: once each.
        batch.create_unique_constraint("uq_exam_jobs_parent_student", ["parent_id", "student"])
        batch.create_index("ix_exam_jobs_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("exam_jobs") as batch:
        batch.drop_index("ix_exam_jobs_parent_id")
        batch.drop_constraint("uq_exam_jobs_parent_student", type_="unique")
        batch.drop_column("result")
        batch.drop_column("student")
        batch.drop_column("parent_id")
