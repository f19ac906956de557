"""promise sources, merges and flags

A promise can now come from several sentences (documents, versions, languages): the new
``promise_source`` table. Each existing promise's single source (the promise columns
``document_version_id``, ``section``, ``page``, ``char_start``, ``char_end`` and its
``original_sentence``) is copied into it. Those old columns stay in the table, unused:
dropping them, like adding a foreign key, makes SQLite rebuild ``promise``, which fails
once verdicts and corrections point at it. For the same reason ``merged_into_id`` is a
plain integer column.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promise_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("document_version_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("char_start", sa.Integer(), nullable=True),
        sa.Column("char_end", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("merged_from", sa.String(length=40), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.ForeignKeyConstraint(["document_version_id"], ["document_version.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_promise_source_promise_id", "promise_source", ["promise_id"])
    op.create_index(
        "ix_promise_source_document_version_id", "promise_source", ["document_version_id"]
    )
    op.add_column("promise", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.add_column("promise", sa.Column("flag", sa.String(length=40), nullable=True))
    op.execute(
        """
        INSERT INTO promise_source (
            promise_id, document_version_id, document, version, sentence, section, page,
            char_start, char_end, language, state, added_at
        )
        SELECT p.id, p.document_version_id, d.name, v.version, p.original_sentence,
               p.section, p.page, p.char_start, p.char_end, v.language, 'current',
               p.created_at
        FROM promise p
        JOIN document_version v ON v.id = p.document_version_id
        JOIN source_document d ON d.id = v.document_id
        """
    )


def downgrade() -> None:
    # Copy the first source back into the old columns before the table goes.
    op.execute(
        """
        UPDATE promise SET
            document_version_id = (SELECT s.document_version_id FROM promise_source s
                                   WHERE s.promise_id = promise.id ORDER BY s.id LIMIT 1),
            section = (SELECT s.section FROM promise_source s
                       WHERE s.promise_id = promise.id ORDER BY s.id LIMIT 1),
            page = (SELECT s.page FROM promise_source s
                    WHERE s.promise_id = promise.id ORDER BY s.id LIMIT 1),
            char_start = (SELECT s.char_start FROM promise_source s
                          WHERE s.promise_id = promise.id ORDER BY s.id LIMIT 1),
            char_end = (SELECT s.char_end FROM promise_source s
                        WHERE s.promise_id = promise.id ORDER BY s.id LIMIT 1)
        """
    )
    op.drop_column("promise", "flag")
    op.drop_column("promise", "merged_into_id")
    op.drop_index("ix_promise_source_document_version_id", table_name="promise_source")
    op.drop_index("ix_promise_source_promise_id", table_name="promise_source")
    op.drop_table("promise_source")
