"""Decompression bombs in PDFs, found before PDFium decodes them.

PDFium inflates a page's content streams whole in memory, and decodes an image whole before
it scales it: a 4 MB stream of zeros asks it for 4 GiB (and a failed allocation aborts the
process), a 40,000 × 40,000 image for 1.6 GB. So before a page is rendered, the streams it
uses (contents, images, fonts, forms, patterns, annotation appearances) are looked at with
pikepdf, without decoding them into memory:

- an image whose declared size (width × height × components × bits) is over the limit is
  refused (PDFium decodes an image's rows up to that size, never further);
- a FlateDecode stream is inflated a chunk at a time, the output thrown away, and refused as
  soon as it passes the limit. Deflate inflates at most ~1,032 times, so only streams whose
  compressed size could pass the limit are inflated at all: a normal PDF costs next to nothing.

Other filters (LZW, run-length) are left to PDFium. A file pikepdf cannot read is left to
PDFium too, which says why it cannot either.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import Any

from lexo.errors import TooLargeError

#: Largest decoded stream (content, image, font…), bytes.
MAX_STREAM_BYTES = 256 * 2**20
#: Largest decoded size of everything one page uses, bytes.
MAX_PAGE_BYTES = 512 * 2**20
#: Most bytes inflated to check one document (a bound on the time checking takes).
MAX_INFLATED_BYTES = 4 * 2**30
#: Deflate's largest possible expansion (258-byte matches in 2 bits), rounded up.
_MAX_DEFLATE_RATIO = 1100
_CHUNK = 4 * 2**20
#: Keys never followed: they lead away from what the page draws.
_SKIP = frozenset({"/Parent", "/P", "/Dest", "/Prev", "/Next", "/First", "/Last", "/Thread"})
_COMPONENTS = {
    "/DeviceGray": 1,
    "/CalGray": 1,
    "/G": 1,
    "/Indexed": 1,
    "/I": 1,
    "/Separation": 1,
    "/Pattern": 1,
    "/DeviceRGB": 3,
    "/CalRGB": 3,
    "/RGB": 3,
    "/Lab": 3,
    "/DeviceCMYK": 4,
    "/CMYK": 4,
}


def check_pdf(source: Path | bytes, max_pages: int) -> None:
    """Raise :class:`TooLargeError` when a stream used by one of the first ``max_pages``
    pages of the PDF would decode to more than the limits."""
    import pikepdf

    try:
        pdf = pikepdf.open(source if isinstance(source, Path) else io.BytesIO(source))
    except Exception:  # encrypted, damaged: PDFium tells which
        return
    unreadable = (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, OSError)
    with pdf:
        walk = _Walk()
        try:
            for index, page in enumerate(pdf.pages):
                if index >= max_pages:
                    break
                walk.page(page.obj, index + 1)
        except unreadable:  # a structure pikepdf cannot walk: PDFium reads what it can
            return


class _Walk:
    """The streams each page uses, each looked at once in the whole document."""

    def __init__(self) -> None:
        self.seen: set[tuple[int, int]] = set()
        self.work = 0  # bytes inflated so far, to bound the time this takes

    def page(self, page: Any, number: int) -> None:
        import pikepdf

        containers = (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)
        total = 0
        small: list[Any] = []  # Flate streams too small to pass the limit on their own
        worst = 0  # what they could inflate to, together
        stack: list[Any] = [page]
        while stack:
            obj = stack.pop()
            if not isinstance(obj, containers):
                continue
            if obj.is_indirect:
                if obj.objgen in self.seen:
                    continue
                self.seen.add(obj.objgen)
            if isinstance(obj, pikepdf.Stream):
                size, bound = self._size(obj, number)
                if bound:
                    small.append(obj)
                    worst += bound
                total += size
                stack.extend(v for k, v in obj.stream_dict.items() if k not in _SKIP)
            elif isinstance(obj, pikepdf.Dictionary):
                stack.extend(v for k, v in obj.items() if k not in _SKIP)
            elif isinstance(obj, pikepdf.Array):
                stack.extend(obj)
        if total + worst > MAX_PAGE_BYTES:
            # Many streams, each harmless alone: PDFium joins a page's contents into one.
            for stream in small:
                total += self._inflate(stream.read_raw_bytes(), number)
                if total > MAX_PAGE_BYTES:
                    raise TooLargeError(
                        f"Page {number} would decode to more than {MAX_PAGE_BYTES // 2**20} "
                        "MiB; it is refused as a likely decompression bomb."
                    )

    def _size(self, stream: Any, number: int) -> tuple[int, int]:
        """What the stream decodes to, known (raises when over the limit), and for a
        small Flate stream, not inflated yet, the most it could inflate to."""
        if str(stream.get("/Subtype", "")) == "/Image":
            # PDFium decodes an image's rows up to its declared size and no further,
            # whatever its data would inflate to: the declared size is what it costs.
            size = _image_bytes(stream)
            _refuse_over(size, number, "an image of")
            return size, 0
        filters = stream.get("/Filter")
        first = filters[0] if _is_array(filters) and len(filters) > 0 else filters
        if first is None or str(first) not in ("/FlateDecode", "/Fl"):
            return 0, 0  # left to PDFium
        raw = stream.read_raw_bytes()
        if len(raw) * _MAX_DEFLATE_RATIO <= MAX_STREAM_BYTES:
            return 0, len(raw) * _MAX_DEFLATE_RATIO
        return self._inflate(raw, number), 0

    def _inflate(self, raw: bytes, number: int) -> int:
        inflated = _inflated_size(raw, MAX_STREAM_BYTES)
        _refuse_over(inflated, number, "a stream that inflates to")
        self.work += inflated
        if self.work > MAX_INFLATED_BYTES:
            raise TooLargeError(
                f"This PDF's streams inflate to more than {MAX_INFLATED_BYTES // 2**30} GiB; "
                "it is refused as a likely decompression bomb."
            )
        return inflated


def _refuse_over(size: int, number: int, what: str) -> None:
    if size > MAX_STREAM_BYTES:
        raise TooLargeError(
            f"Page {number} uses {what} more than {MAX_STREAM_BYTES // 2**20} MiB "
            f"({size / 2**20:,.0f} MiB or more); it is refused as a likely decompression bomb."
        )


def _is_array(value: Any) -> bool:
    import pikepdf

    return isinstance(value, pikepdf.Array)


def _image_bytes(stream: Any) -> int:
    try:
        width = int(stream.get("/Width", 0))
        height = int(stream.get("/Height", 0))
        if bool(stream.get("/ImageMask", False)):
            bits, components = 1, 1
        else:
            bits = int(stream.get("/BitsPerComponent", 8))
            components = _components(stream.get("/ColorSpace"))
    except (TypeError, ValueError):
        return 0
    return max(0, width) * max(0, height) * components * max(1, bits) // 8


def _components(space: Any) -> int:
    """Colour components of a colour space; 4 (the most) when it cannot be told."""
    if _is_array(space) and len(space) > 0:
        family = str(space[0])
        if family == "/ICCBased":
            try:
                return int(space[1].get("/N", 4))
            except (TypeError, ValueError, AttributeError):
                return 4
        if family == "/DeviceN" and len(space) > 1 and _is_array(space[1]):
            return max(1, len(space[1]))
        return _COMPONENTS.get(family, 4)
    return _COMPONENTS.get(str(space), 4)


def _inflated_size(raw: bytes, limit: int) -> int:
    """Bytes ``raw`` inflates to, counted without keeping them; stops past ``limit``."""
    inflater = zlib.decompressobj()
    total = 0
    data = raw
    try:
        while True:
            out = inflater.decompress(data, _CHUNK)
            total += len(out)
            if total > limit or inflater.eof:
                return total
            data = inflater.unconsumed_tail
            if not data and not out:
                return total
    except zlib.error:  # damaged: PDFium stops where the data does
        return total
