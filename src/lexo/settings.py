"""The one place configuration is read: ``LEXO_*`` environment variables and ``.env``.

Build a :class:`Settings` once at the entry point (CLI, API factory, worker) and pass it down;
nothing else in LEXO reads the environment. Every field is documented in
``docs/configuration.md`` (a test keeps the two in step).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lexo.document import OcrStrategy
from lexo.errors import ConfigError

#: What ``LEXO_WARMUP`` may name: OCR engines, French NER (spaCy), the sentence embedder.
WARMUP_FEATURES = ("ocr", "nlp", "embed")

#: Where distributions put Tesseract's language data, most specific first.
TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/opt/homebrew/share/tessdata",
    "/usr/local/share/tessdata",
)


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "lexo"


class Settings(BaseSettings):
    """Typed, validated configuration of a LEXO process."""

    model_config = SettingsConfigDict(
        env_prefix="LEXO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Database (SQLite), originals and derived files.",
    )
    inbox_dir: Path = Field(
        default_factory=lambda: Path.home() / "OCR",
        description="Folder watched for new documents; processed/ and failed/ go inside.",
    )
    models_dir: Path = Field(
        default=Path("ml_models"), description="Local model cache; nothing is ever downloaded."
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite at DATA_DIR/lexo.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    pgvector: Literal["auto", "off"] = Field(
        default="auto",
        description="PostgreSQL only: 'auto' lets the server search passages' vectors when it "
        "has the pgvector extension (HNSW index, no vectors in memory); 'off' keeps them in "
        "memory.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    api_token: str = Field(
        default="",
        description="Bearer token required on every API call; mandatory when HOST is not "
        "a loopback address.",
    )
    session_hours: float = Field(
        default=12,
        gt=0,
        le=24 * 366,
        description="How long a login of the web page lasts (hours): its session, kept in "
        "the database, then expires.",
    )
    ocr_engine: str = Field(
        default="tesseract",
        description="The OCR engine that finds a page's blocks, lines and words (a name in "
        "lexo.ocr's engine registry); TrOCR re-reads its weak lines.",
    )
    ocr_languages: str = Field(
        default="fra",
        description="Tesseract languages, '+'-joined ('fra+eng' reads English words a little "
        "better, at ~15 % more time per page).",
    )
    ocr_page_segmentation: Literal["auto", "single_column", "single_block"] = Field(
        default="auto",
        description="Tesseract page segmentation: 'auto' finds columns and blocks; "
        "'single_column' reads each line across the page (tables row by row).",
    )
    ocr_deskew: bool = Field(
        default=True,
        description="Straighten pages skewed by 1° to 15° before reading them.",
    )
    ocr_fix_orientation: bool = Field(
        default=True,
        description="Pages read with low confidence are checked for a 90/180/270° turn (OSD).",
    )
    ocr_clean_up: bool = Field(
        default=True,
        description="Enlarge pages under 200 dpi, remove dark scan borders; even out, despeckle, "
        "smooth grainy pages.",
    )
    ocr_strategy: OcrStrategy = Field(
        default="auto",
        description="'fast': Tesseract only; 'accurate': every weak line re-read with TrOCR; "
        "'auto': TrOCR only on pages read with low confidence, when its model is cached.",
    )
    ocr_trocr_model: str = Field(
        default="trocr-base-printed",
        description="TrOCR model folder under MODELS_DIR/transformers/ (never downloaded).",
    )
    ocr_weak_line_confidence: float = Field(
        default=80.0,
        ge=0.0,
        le=100.0,
        description="A line Tesseract read with less confidence (0-100) is re-read by TrOCR.",
    )
    ocr_auto_page_confidence: float = Field(
        default=85.0,
        ge=0.0,
        le=100.0,
        description="With strategy 'auto', pages read with less confidence get TrOCR.",
    )
    ocr_trocr_batch_size: int = Field(
        default=8, ge=1, le=256, description="Line images TrOCR reads in one batch."
    )
    hf_cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "huggingface" / "hub",
        description="A Hugging Face hub cache that 'lexo models migrate' reads from.",
    )
    warmup: str = Field(
        default="",
        description="Engines to load in the background after start, comma-separated: "
        "ocr, nlp, embed. The API is ready before they are.",
    )
    tessdata_dir: Path | None = Field(
        default=None, description="Tesseract language data; found automatically when empty."
    )
    ocr_threads: int = Field(
        default=0, ge=0, description="Pages OCR'd in parallel; 0 means one per CPU core."
    )
    render_dpi: int = Field(default=300, ge=72, le=600, description="DPI for rendering PDF scans.")
    text_layer_min_chars: int = Field(
        default=20,
        ge=1,
        description="A PDF page with at least this many characters of text is read directly.",
    )
    max_upload_mb: int = Field(default=200, ge=1, description="Largest accepted file, MiB.")
    max_pages: int = Field(default=500, ge=1, description="Largest accepted page count.")
    max_page_megapixels: int = Field(
        default=80, ge=1, description="Pages rendered or decoded above this are scaled down."
    )
    watch_inbox: bool = Field(default=True, description="Run the inbox watcher in 'lexo serve'.")
    inbox_stable_seconds: float = Field(
        default=1.0, ge=0.0, description="A file must keep its size this long before intake."
    )
    embedded_worker: bool = Field(
        default=True, description="Run the job worker inside 'lexo serve'."
    )
    worker_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Documents a worker processes at once: threads of the embedded worker "
        "(their pages share the OCR threads), processes of a Celery worker ('lexo worker "
        "--concurrency').",
    )
    model_idle_seconds: float = Field(
        default=120.0,
        ge=0.0,
        description="'lexo serve' and 'lexo worker' release a model (spaCy, the embedder, the "
        "in-process LLM) unused for this long and give its memory back; the next use loads it "
        "again. 0 keeps models loaded.",
    )
    job_max_attempts: int = Field(default=3, ge=1, description="Tries before a job fails.")
    job_lease_seconds: int = Field(
        default=60,
        ge=10,
        description="A running job whose worker stopped renewing it (every few seconds) for "
        "this long is taken back and given to another worker.",
    )
    job_retry_backoff_s: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="Celery queue: wait before the first retry of a job after a transient "
        "error or an unexpected one; doubled on each retry, at most 5 minutes.",
    )
    queue: Literal["embedded", "celery"] = Field(
        default="embedded",
        description="Who runs the jobs: 'embedded' (threads of 'lexo serve' or 'lexo worker', "
        "polling the database) or 'celery' (Celery workers fed through LEXO_BROKER_URL).",
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="The Celery broker (LEXO_QUEUE=celery): redis://… or amqp://… (RabbitMQ).",
    )
    broker_queue: str = Field(
        default="lexo",
        min_length=1,
        max_length=100,
        description="The broker queue LEXO's jobs go through; two LEXO stacks sharing one "
        "broker need two names.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    llm: Literal["auto", "llama_cpp", "openai", "none"] = Field(
        default="auto",
        description="The language model that phrases answers and writes summaries: "
        "'llama_cpp' runs a GGUF of MODELS_DIR/gguf in process, 'openai' any "
        "OpenAI-compatible server at LLM_URL (mlx_lm, llama.cpp's server, Ollama, vLLM), "
        "'none' answers from facts and templates only; 'auto' is llama_cpp when a GGUF and "
        "llama-cpp-python are present, else none.",
    )
    llm_model: str = Field(
        default="",
        description="llama_cpp: the GGUF file name in MODELS_DIR/gguf (empty: the only or "
        "first one); openai: the model name the server expects (empty: its first model).",
    )
    llm_url: str = Field(
        default="http://127.0.0.1:8004/v1",
        description="Base URL of the OpenAI-compatible server (the 'openai' back-end).",
    )
    llm_api_key: str = Field(
        default="", description="Bearer key the OpenAI-compatible server wants, if any."
    )
    llm_allow_remote: bool = Field(
        default=False,
        description="Allow LLM_URL to name a non-loopback host (documents' text is sent to it).",
    )
    llm_chat_format: str = Field(
        default="auto",
        description="llama_cpp: the chat format ('auto' uses the GGUF's own template, "
        "'gemma' for base Gemma files that have none).",
    )
    llm_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="llama_cpp: CPU threads for generation (one is fastest on a busy 2-core "
        "machine).",
    )
    llm_context: int = Field(
        default=4096, ge=512, le=131072, description="llama_cpp: context window, tokens."
    )
    llm_timeout_s: float = Field(
        default=120.0, gt=0, description="Longest wait for one answer from the model."
    )
    summaries: bool = Field(
        default=True,
        description="Write each document's title and summary in the background after "
        "processing (from the fields without a model).",
    )

    @field_validator("data_dir", "inbox_dir", "models_dir", "hf_cache_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("warmup", mode="after")
    @classmethod
    def _warmup(cls, value: str) -> str:
        features = [f.strip().lower() for f in value.split(",") if f.strip()]
        unknown = sorted(set(features) - set(WARMUP_FEATURES))
        if unknown:
            raise ValueError(
                f"unknown warm-up feature(s) {', '.join(unknown)}; "
                f"choose among {', '.join(WARMUP_FEATURES)}"
            )
        return ",".join(dict.fromkeys(features))

    @property
    def warmup_features(self) -> list[str]:
        return [f for f in self.warmup.split(",") if f]

    @field_validator("tessdata_dir", mode="after")
    @classmethod
    def _absolute_opt(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value else None

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'lexo.db'}"
        for name in ("models_dir", "data_dir"):
            other: Path = getattr(self, name)
            if _overlaps(self.inbox_dir, other):
                raise ConfigError(
                    f"The inbox folder {self.inbox_dir} overlaps {name} {other}; "
                    "choose separate folders."
                )
        if not self.is_loopback and not self.api_token:
            raise ConfigError(
                f"Refusing to listen on {self.host} without authentication: set LEXO_API_TOKEN."
            )
        if self.llm == "openai" and not self.llm_allow_remote:
            llm_host = urlsplit(self.llm_url).hostname or ""
            if not is_loopback_host(llm_host):
                raise ConfigError(
                    f"Refusing to send documents to the language model at {llm_host or '?'}: "
                    "LEXO_LLM_URL must be a loopback address unless LEXO_LLM_ALLOW_REMOTE=true."
                )
        return self

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def resolve_tessdata(self) -> Path | None:
        """The Tesseract data folder in use, or None when none was found."""
        if self.tessdata_dir:
            return self.tessdata_dir
        for candidate in TESSDATA_CANDIDATES:
            if Path(candidate, "eng.traineddata").exists():
                return Path(candidate)
        return None

    def effective(self) -> dict[str, str]:
        """Settings as printed by ``lexo doctor``, secrets masked."""
        out = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "api_token":
                value = "***" if value else ""
            elif name == "broker_url":
                value = mask_password(value)
            out[name] = str(value)
        return out


def mask_password(url: str) -> str:
    """A URL with its password, if any, replaced by ``***`` (for display)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def is_loopback_host(host: str) -> bool:
    """True for 'localhost' and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents
