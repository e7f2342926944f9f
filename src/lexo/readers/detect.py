"""File type detection by magic bytes; file names and extensions are never trusted."""

from __future__ import annotations

from lexo.errors import UnsupportedFileError

#: MIME types LEXO reads, with the names used in messages.
ACCEPTED: dict[str, str] = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/tiff": "TIFF",
    "image/webp": "WebP",
    "image/bmp": "BMP",
    "image/gif": "GIF",
}

#: How many leading bytes :func:`sniff` looks at; PDF readers tolerate junk before the
#: header within the first kilobyte, so we do too.
HEAD_BYTES = 1024

_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF


def sniff(head: bytes) -> str:
    """The MIME type of a file from its first bytes (pass at least :data:`HEAD_BYTES`).

    Raises :class:`UnsupportedFileError` for anything LEXO cannot read.
    """
    if not head:
        raise UnsupportedFileError("The file is empty.")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(_TIFF_MAGICS):
        return "image/tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    # "BM" alone is too weak; the four reserved bytes of a BMP header are always zero.
    if head[:2] == b"BM" and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "image/bmp"
    if b"%PDF-" in head[:HEAD_BYTES]:
        return "application/pdf"
    raise UnsupportedFileError(
        f"Unsupported file type ({_describe(head)}). LEXO accepts "
        f"{', '.join(ACCEPTED.values())} files."
    )


def _describe(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or office document"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypavif"):
        return "a HEIC/AVIF photo; export it as JPEG first"
    if head.startswith((b"\xd0\xcf\x11\xe0",)):
        return "a legacy Microsoft Office document"
    sample = head[:256]
    if b"\x00" not in sample and all(b >= 0x20 or b in b"\t\r\n\f" for b in sample):
        return "looks like plain text"
    return f"starts with bytes {head[:8].hex(' ')}"
