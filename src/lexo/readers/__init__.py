"""Readers turn an input file into pages: a PDF text layer, or images for OCR.

Every reader is a context manager with a ``page_count`` known up front and a ``pages()``
generator that produces one :class:`SourcePage` at a time, so a long document never holds
all its page images at once. pypdfium2 and Pillow are imported only when a reader is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from lexo.readers.detect import ACCEPTED, sniff

if TYPE_CHECKING:
    from PIL import Image

    from lexo.settings import Settings

__all__ = ["ACCEPTED", "PageReader", "SourcePage", "open_reader", "sniff"]


@dataclass(slots=True)
class SourcePage:
    """One page as read: a usable text layer, or an image to OCR (or neither, see notes).

    ``text`` may hold a short text layer alongside ``image``: too little to trust on its own,
    but better than nothing when OCR finds no text either.
    """

    number: int  # 1-based
    text: str = ""
    image: Image.Image | None = None
    dpi: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def needs_ocr(self) -> bool:
        return self.image is not None


class PageReader(Protocol):
    """What the pipeline needs from a reader."""

    mime: str

    @property
    def page_count(self) -> int: ...

    def pages(self) -> Iterator[SourcePage]: ...

    def close(self) -> None: ...

    def __enter__(self) -> PageReader: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def open_reader(source: Path | bytes, mime: str, settings: Settings) -> PageReader:
    """The reader for ``mime`` (as returned by :func:`sniff`), opened on ``source``.

    Opening validates the file (encryption, corruption, page and pixel limits) and raises
    the typed errors of :mod:`lexo.errors`.
    """
    if mime == "application/pdf":
        from lexo.readers.pdf import PdfReader

        return PdfReader(source, settings)
    from lexo.readers.image import ImageReader

    return ImageReader(source, settings, mime=mime)
