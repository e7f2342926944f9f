"""Document understanding: issuer and entities columns, user corrections.

``documents.issuer`` mirrors ``fields.issuer.value`` so that lists and search can filter and
sort on it with an index (JSON paths differ between SQLite and PostgreSQL). ``corrections``
keeps every value a user set, so reprocessing never overwrites it and the classifier can be
retrained from them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("issuer", sa.String(300)))
    op.add_column("documents", sa.Column("entities", sa.JSON))
    op.create_index("ix_documents_issuer", "documents", ["issuer"])
    op.create_index("ix_documents_doc_type", "documents", ["doc_type"])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("field", sa.String(50), nullable=False),
        sa.Column("value", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_corrections_document_field", "corrections", ["document_id", "field"])


def downgrade() -> None:
    op.drop_index("ix_corrections_document_field", "corrections")
    op.drop_table("corrections")
    op.drop_index("ix_documents_doc_type", "documents")
    op.drop_index("ix_documents_issuer", "documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("entities")
        batch.drop_column("issuer")
