"""One error hierarchy: each class carries its CLI exit code and HTTP status.

Entry points translate these in exactly one place (``api/errors.py`` for HTTP, ``cli.py`` for the
command line). Messages are written for the person using LEXO, in English; the web page
translates by ``code``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    BAD_INPUT = 3
    NOT_FOUND = 4
    MODEL_MISSING = 5
    CONFIG = 6
    DATABASE = 7
    OCR = 8
    MODEL_CORRUPT = 9
    MODEL_LOAD = 10


class LexoError(Exception):
    """Base of every error LEXO raises on purpose."""

    exit_code: ExitCode = ExitCode.ERROR
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInputError(LexoError):
    """The file cannot be read as a document: corrupt, encrypted, empty, unsupported."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 422
    code = "bad_input"


class UnsupportedFileError(BadInputError):
    code = "unsupported_file"
    http_status = 415


class TooLargeError(BadInputError):
    """Beyond a configured limit (upload size, pages, pixels)."""

    code = "too_large"
    http_status = 413


class NotFoundError(LexoError):
    exit_code = ExitCode.NOT_FOUND
    http_status = 404
    code = "not_found"


class NoArchiveError(NotFoundError):
    """A document with no scanned page: its original already holds its text, so no archive
    PDF is made."""

    code = "no_archive"


class NotReadyError(LexoError):
    """What was asked for depends on a processing that is queued, running or failed."""

    http_status = 409
    code = "not_ready"


class ConfigError(LexoError):
    exit_code = ExitCode.CONFIG
    http_status = 500
    code = "config"


class ModelMissingError(LexoError):
    """A model or its data files are not where LEXO expects them. Never triggers a download."""

    exit_code = ExitCode.MODEL_MISSING
    http_status = 503
    code = "model_missing"


class ModelCorruptError(ModelMissingError):
    """A cached model's files differ from the manifest (size or SHA-256)."""

    exit_code = ExitCode.MODEL_CORRUPT
    code = "model_corrupt"


class ModelLoadError(LexoError):
    """A cached model is present and intact but does not load or run."""

    exit_code = ExitCode.MODEL_LOAD
    http_status = 503
    code = "model_load"


class OcrError(LexoError):
    exit_code = ExitCode.OCR
    http_status = 500
    code = "ocr_failed"


class DatabaseError(LexoError):
    exit_code = ExitCode.DATABASE
    http_status = 503
    code = "database"


class TransientDatabaseError(DatabaseError):
    """A database error that trying again later may cure: a lock held by another process, a
    lost connection, a server restarting. The inbox keeps the file and retries it."""


class StorageFullError(LexoError):
    """The data folder's disk is full (ENOSPC, or a quota): nothing is wrong with the file,
    and the same operation will succeed once room is freed. The inbox keeps the file and
    retries it; an upload is answered 507."""

    http_status = 507
    code = "disk_full"


class LeaseLostError(LexoError):
    """A worker tried to finish, fail or renew a job it no longer owns: its lease ran out and
    another worker claimed the job. Its result is dropped; the other worker's stands."""

    http_status = 409
    code = "lease_lost"


class BrokerError(LexoError):
    """The message broker (LEXO_BROKER_URL) could not be reached or refused a message."""

    http_status = 503
    code = "broker"


class AuthError(LexoError):
    exit_code = ExitCode.USAGE
    http_status = 401
    code = "unauthorized"


class CsrfError(LexoError):
    """A change asked for with the page's session cookie but without its CSRF token: maybe a
    form of another site, maybe a page left open since the session changed (reload it)."""

    exit_code = ExitCode.USAGE
    http_status = 403
    code = "csrf"
