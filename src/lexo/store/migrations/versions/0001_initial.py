"""Documents, pages, jobs and full-text search.

SQLite: an FTS5 table over pages (unicode61, diacritics removed, BM25) kept in step by
triggers. PostgreSQL: a generated tsvector column with a French configuration that also
strips accents when the unaccent extension can be installed.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("original_name", sa.String(512), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("error", sa.Text),
        sa.Column("page_count", sa.Integer),
        sa.Column("confidence", sa.Float),
        sa.Column("doc_type", sa.String(50)),
        sa.Column("fields", sa.JSON),
        sa.Column("timings", sa.JSON),
        sa.Column("notes", sa.JSON),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("inbox_path", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("processed_at", TS),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("engine", sa.String(50)),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("layout", sa.JSON),
    )
    op.create_index("ix_pages_document_number", "pages", ["document_id", "number"], unique=True)
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("progress_done", sa.Integer, nullable=False),
        sa.Column("progress_total", sa.Integer, nullable=False),
        sa.Column("options", sa.JSON),
        sa.Column("worker", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("lease_expires_at", TS),
    )
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts()
    else:
        _postgres_fts()


def _sqlite_fts() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE pages_fts USING fts5(text, content='pages', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER pages_fts_ai AFTER INSERT ON pages BEGIN "
        "INSERT INTO pages_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    op.execute(
        "CREATE TRIGGER pages_fts_ad AFTER DELETE ON pages BEGIN "
        "INSERT INTO pages_fts(pages_fts, rowid, text) VALUES ('delete', old.id, old.text); END"
    )
    op.execute(
        "CREATE TRIGGER pages_fts_au AFTER UPDATE OF text ON pages BEGIN "
        "INSERT INTO pages_fts(pages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        "INSERT INTO pages_fts(rowid, text) VALUES (new.id, new.text); END"
    )


def _postgres_fts() -> None:
    bind = op.get_bind()
    # unaccent is a contrib extension: present on most servers, but creating it may need rights
    # we lack. Without it, search still works with French stemming, only accent-sensitive.
    with bind.begin_nested() as savepoint:
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        except sa.exc.DBAPIError:
            savepoint.rollback()
    has_unaccent = bind.exec_driver_sql(
        "SELECT 1 FROM pg_extension WHERE extname = 'unaccent'"
    ).scalar()
    op.execute("CREATE TEXT SEARCH CONFIGURATION lexo_fr (COPY = french)")
    if has_unaccent:
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION lexo_fr ALTER MAPPING FOR hword, hword_part, word "
            "WITH unaccent, french_stem"
        )
    op.execute(
        "ALTER TABLE pages ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('lexo_fr'::regconfig, text)) STORED"
    )
    op.execute("CREATE INDEX ix_pages_tsv ON pages USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS pages_fts")
    op.drop_table("jobs")
    op.drop_table("pages")
    op.drop_table("documents")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS lexo_fr")
