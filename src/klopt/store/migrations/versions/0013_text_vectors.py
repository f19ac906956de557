"""text vectors: each post text embedded once per model; the judgement's doubt

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_vector",
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("text_hash", sa.String(length=40), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model", "text_hash"),
    )
    op.add_column("judgement", sa.Column("doubt", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("judgement") as batch:
        batch.drop_column("doubt")
    op.drop_table("text_vector")
