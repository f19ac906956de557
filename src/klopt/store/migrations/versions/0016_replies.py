"""replies: the mention a draft answers, and whether replies need approval

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.add_column(sa.Column("reply_to_post_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_draft_reply_to_post", "post", ["reply_to_post_id"], ["id"])
        batch.create_index("ix_draft_reply_to_post_id", ["reply_to_post_id"])
    op.add_column(
        "organization",
        sa.Column("reply_approval", sa.String(10), nullable=False, server_default="always"),
    )
    op.add_column("draft_review", sa.Column("policy", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draft_review") as batch:
        batch.drop_column("policy")
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("reply_approval")
    with op.batch_alter_table("draft") as batch:
        batch.drop_index("ix_draft_reply_to_post_id")
        batch.drop_constraint("fk_draft_reply_to_post", type_="foreignkey")
        batch.drop_column("reply_to_post_id")
