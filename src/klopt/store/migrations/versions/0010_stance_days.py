"""daily tallies of current stances per promise (the dashboard's fast scorecard)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:00:00

The tables start empty: an organisation without a ``stance_day_state`` row has its
tallies built from the verdict tables on first use (by the dashboard, or by the first
judgement or correction after this migration; ``klopt.judging.tallies.ensure_tallies``),
so that the counting rule lives in one place, the library, and not in a frozen copy here.
The index on post lets the dashboard count a period's mentions from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stance_day",
        sa.Column(
            "organization_id",
            sa.Integer(),
            sa.ForeignKey("organization.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("platform", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column(
            "promise_id",
            sa.Integer(),
            sa.ForeignKey("promise.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("stance", sa.String(10), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.Column("reach_known", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_post_org_kind_time", "post", ["organization_id", "kind", "posted_at", "platform"]
    )
    op.create_table(
        "stance_day_state",
        sa.Column(
            "organization_id",
            sa.Integer(),
            sa.ForeignKey("organization.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_post_org_kind_time", table_name="post")
    op.drop_table("stance_day_state")
    op.drop_table("stance_day")
