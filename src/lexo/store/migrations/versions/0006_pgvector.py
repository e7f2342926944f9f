"""PostgreSQL with pgvector: the extension, the ``embedding`` column of ``chunks`` and the
index of the rows still to fill, made here rather than at run time.

Only on PostgreSQL, and only where the server offers the extension and this role may create
it (a savepoint keeps a refusal from aborting the migration): elsewhere nothing changes and
vectors are searched in memory. The per-model HNSW indexes stay at run time: each is on the
cast to one model's dimension, known only once that model has embedded passages
(``lexo.store.pgvectors.create_index``). A server that gains the extension later gets the
column at the next start, by the same statements (``pgvectors.add_column``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

from lexo.store import pgvectors

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    if pgvectors.enable(conn) is not None:
        pgvectors.add_column(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    # The per-model HNSW indexes go with the column; the extension stays (other databases
    # of the server may use it).
    op.execute("DROP INDEX IF EXISTS ix_chunks_unfilled")
    op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS embedding")
