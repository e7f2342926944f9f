"""The assistant: each document's title and summary, and the deadlines the user dismissed.

``title_source`` / ``summary_source`` say who wrote them: ``llm`` (checked against the
document), ``template`` (made from the fields, no model) or ``user`` (never overwritten).
A dismissed deadline is keyed on its due date, so a corrected due date shows again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("title", sa.String(300)))
        batch.add_column(sa.Column("title_source", sa.String(20)))
        batch.add_column(sa.Column("summary", sa.Text))
        batch.add_column(sa.Column("summary_source", sa.String(20)))
        batch.add_column(sa.Column("summary_model", sa.String(200)))
        batch.add_column(sa.Column("summarized_at", sa.DateTime(timezone=True)))
    op.create_table(
        "deadline_dismissals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_deadline_dismissals_document_due",
        "deadline_dismissals",
        ["document_id", "due_date"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_deadline_dismissals_document_due", table_name="deadline_dismissals")
    op.drop_table("deadline_dismissals")
    with op.batch_alter_table("documents") as batch:
        for name in (
            "summarized_at",
            "summary_model",
            "summary_source",
            "summary",
            "title_source",
            "title",
        ):
            batch.drop_column(name)
