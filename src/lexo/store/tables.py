"""Table definitions (SQLAlchemy Core). Schema changes go through Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("original_name", String(512), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("error", Text),
    Column("page_count", Integer),
    Column("confidence", Float),
    Column("doc_type", String(50), index=True),
    Column("fields", JSON),
    Column("issuer", String(300), index=True),  # mirrors fields.issuer.value, for filters
    Column("entities", JSON),
    Column("timings", JSON),
    Column("notes", JSON),
    Column("source", String(20), nullable=False),
    Column("inbox_path", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("processed_at", DateTime(timezone=True)),
    # Written by the assistant (lexo.assistant.summaries) or the user; *_source says which:
    # "llm", "template" or "user" (a user's text is never overwritten).
    Column("title", String(300)),
    Column("title_source", String(20)),
    Column("summary", Text),
    Column("summary_source", String(20)),
    Column("summary_model", String(200)),
    Column("summarized_at", DateTime(timezone=True)),
)

pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("confidence", Float),
    Column("source", String(20), nullable=False),
    Column("engine", String(50)),
    Column("width", Integer),
    Column("height", Integer),
    Column("layout", JSON),
    Index("ix_pages_document_number", "document_id", "number", unique=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("progress_done", Integer, nullable=False, default=0),
    Column("progress_total", Integer, nullable=False, default=0),
    Column("options", JSON),
    Column("worker", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("lease_expires_at", DateTime(timezone=True)),
    # The random token of the worker holding the lease (0007): only it may finish the job.
    Column("lease_token", String(64)),
    # When the job was handed to the broker (LEXO_QUEUE=celery); NULL: to send (again).
    Column("dispatched_at", DateTime(timezone=True)),
    Index("ix_jobs_status_id", "status", "id"),
)

corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("field", String(50), nullable=False),  # "doc_type" or a canonical field name
    Column("value", JSON),  # None: the user says the document has no such field
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_corrections_document_field", "document_id", "field"),
)

# Passages of each document's pages with their embedding (float32 bytes, L2-normalised),
# for semantic search; ``model`` says which embedder made the vector (see lexo.index.embedders).
chunks = Table(
    "chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("page", Integer, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("model", String(100), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Index("ix_chunks_model_id", "model", "id"),
)

# Deadlines the user marked paid or dismissed, keyed on the due date they saw: a due date
# corrected later shows again.
deadline_dismissals = Table(
    "deadline_dismissals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("due_date", String(10), nullable=False),
    Column("dismissed_at", DateTime(timezone=True), nullable=False),
    Index("ix_deadline_dismissals_document_due", "document_id", "due_date", unique=True),
)

# The web page's logins (lexo.store.sessions): the cookie holds a random id, the table only
# its SHA-256, so a copy of the database opens no session. Shared by every API process.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# Failed logins of the page per client address (lexo.store.login_failures), for the slowdown.
login_failures = Table(
    "login_failures",
    metadata,
    Column("address", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True)),
)

# Worker processes of any host (lexo.store.workers): who processes jobs, seen when.
workers = Table(
    "workers",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("queue", String(20), nullable=False),  # embedded or celery
    Column("concurrency", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, index=True),
    Column("jobs_done", Integer, nullable=False),
    Column("jobs_failed", Integer, nullable=False),
    Column("running", Integer, nullable=False),
)
