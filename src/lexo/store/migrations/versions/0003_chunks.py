"""Semantic search: passages of each document with their embedding.

Vectors are stored as float32 bytes on both databases and searched by an exact in-memory
index (lexo.index.vectors); pgvector is not required (nor available on every server).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_chunks_document_id", "chunks", ["document_id"])
    # Lets "has the index changed?" (count and newest id per model) read a small index
    # instead of scanning rows that each carry a vector.
    op.create_index("ix_chunks_model_id", "chunks", ["model", "id"])


def downgrade() -> None:
    op.drop_index("ix_chunks_model_id", "chunks")
    op.drop_index("ix_chunks_document_id", "chunks")
    op.drop_table("chunks")
