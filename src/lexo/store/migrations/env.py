"""Alembic environment: LEXO passes its open connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from lexo.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - LEXO always runs migrations itself
    raise RuntimeError("Run migrations through 'lexo migrate' (lexo.store.db.Database.migrate).")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
