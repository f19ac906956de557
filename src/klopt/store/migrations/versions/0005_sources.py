"""sources: where klopt listens, and how far each sync got

``source`` holds each organisation's sources (kind, settings without secrets, own or
not, interval) with their state: the cursor after the last committed page, status,
last success and error, next run, items fetched. ``import_batch.source_id`` ties each
sync run's batch to its source, and an index on ``post (organization_id, url)`` makes
the cross-source duplicate check by URL cheap.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _stamp(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("own", sa.Boolean(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        _stamp("created_at", nullable=False),
        _stamp("removed_at"),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        _stamp("last_run_at"),
        _stamp("last_success_at"),
        _stamp("last_error_at"),
        sa.Column("last_error", sa.JSON(), nullable=True),
        _stamp("next_run_at"),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("last_run_items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "name"),
    )
    op.create_index("ix_source_organization_id", "source", ["organization_id"])
    # A plain ADD COLUMN with its REFERENCES: a batch operation would rebuild
    # import_batch, which SQLite refuses once posts point at it (foreign keys are on),
    # and Alembic cannot add a constraint to an SQLite table any other way.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE import_batch ADD COLUMN source_id INTEGER REFERENCES source (id)")
    else:
        op.add_column("import_batch", sa.Column("source_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_import_batch_source", "import_batch", "source", ["source_id"], ["id"]
        )
    op.create_index("ix_post_org_url", "post", ["organization_id", "url"])


def downgrade() -> None:
    op.drop_index("ix_post_org_url", table_name="post")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE import_batch DROP COLUMN source_id")
    else:
        op.drop_constraint("fk_import_batch_source", "import_batch", type_="foreignkey")
        op.drop_column("import_batch", "source_id")
    op.drop_index("ix_source_organization_id", table_name="source")
    op.drop_table("source")
