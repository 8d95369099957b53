"""The bytes each exam attempt has stored: the desk's quota per learner per window.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exam_attempts") as batch:
        batch.add_column(sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("exam_attempts") as batch:
        batch.drop_column("stored_bytes")
