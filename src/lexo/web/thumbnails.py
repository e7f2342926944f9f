"""Thumbnails and page previews, rendered on demand from the stored original, cached on disk.

A picture is keyed by the original's SHA-256, the page and the width, under
``DATA_DIR/thumbnails/<sha[:2]>/``; it is generated once (one thread per key, written to a
temporary file then renamed) and served from disk afterwards. A page that cannot be
rendered leaves a ``.failed`` marker, so a broken file is not re-tried on every request.
Pillow and pypdfium2 are imported inside the functions: the app must start without them.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexo.store.files import pictures_root

if TYPE_CHECKING:
    from PIL import Image

THUMB_WIDTH = 240  # shown at 80-120 CSS pixels: sharp on high-density screens
PAGE_WIDTH = 1100  # shown at up to ~550 CSS pixels
#: No picture taller than this many times its width (a 1 × 5000 pt "page" stays small).
MAX_ASPECT = 4
#: Refuse to decode images above this many pixels (decompression bombs).
MAX_SOURCE_PIXELS = 320_000_000
SUFFIX = ".webp"
MEDIA_TYPE = "image/webp"

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def cache_root(data_dir: Path) -> Path:
    return pictures_root(data_dir)


def cache_path(data_dir: Path, sha256: str, page: int, width: int) -> Path:
    return cache_root(data_dir) / sha256[:2] / f"{sha256}-p{page}-w{width}{SUFFIX}"


def picture(
    data_dir: Path, original: Path, *, sha256: str, mime: str, page: int, width: int
) -> Path | None:
    """The cached picture of ``page`` (1-based) at ``width`` pixels, rendered if needed;
    None when the page cannot be rendered (missing, damaged or unsupported original)."""
    target = cache_path(data_dir, sha256, page, width)
    failed = target.with_suffix(".failed")
    if target.exists():
        return target
    with _lock_for(target):
        if target.exists():  # another request rendered it while we waited
            return target
        if failed.exists() or not original.exists():
            return None
        try:
            image = render(original, mime, page=page, width=width)
        except Exception:  # any decoding problem: a broken original must not break a page
            image = None
        target.parent.mkdir(parents=True, exist_ok=True)
        if image is None:
            failed.touch()
            return None
        _save_atomically(image, target)
    return target


def render(original: Path, mime: str, *, page: int, width: int) -> Image.Image | None:
    """An RGB picture of one page, ``width`` pixels wide at most."""
    if mime == "application/pdf":
        return _render_pdf(original, page, width)
    if mime.startswith("image/"):
        return _render_image(original, page, width)
    return None


def _render_pdf(original: Path, page: int, width: int) -> Image.Image | None:
    import pypdfium2 as pdfium

    from lexo.readers.pdf import PDFIUM_LOCK
    from lexo.readers.pdfguard import check_pdf

    check_pdf(original, page)  # a decompression bomb raises here, before PDFium decodes it
    # PDFium is not thread-safe: the worker's readers and these previews share one lock.
    with PDFIUM_LOCK:
        doc: Any = pdfium.PdfDocument(str(original))
        try:
            if not 1 <= page <= len(doc):
                return None
            pdf_page = doc[page - 1]
            try:
                w_pt, h_pt = pdf_page.get_size()
                if w_pt < 1 or h_pt < 1:
                    return None
                scale = min(width / w_pt, MAX_ASPECT * width / h_pt)
                bitmap = pdf_page.render(scale=scale, may_draw_forms=True)
                try:
                    image: Image.Image = bitmap.to_pil().copy()  # to_pil() shares the buffer
                finally:
                    bitmap.close()
            finally:
                pdf_page.close()
        finally:
            doc.close()
    return image.convert("RGB")


def _render_image(original: Path, page: int, width: int) -> Image.Image | None:
    from PIL import Image, ImageOps

    with Image.open(original) as source:
        if source.width * source.height > MAX_SOURCE_PIXELS:
            return None
        if page > int(getattr(source, "n_frames", 1)):
            return None
        source.seek(page - 1)
        # JPEG can decode at 1/2, 1/4, 1/8 scale directly: much faster for big scans.
        source.draft("RGB", (width, width * MAX_ASPECT))
        frame = ImageOps.exif_transpose(source)
        if frame.mode not in ("RGB", "L"):
            frame = _on_white(frame)
        frame = frame.convert("RGB")
        frame.thumbnail((width, width * MAX_ASPECT), Image.Resampling.LANCZOS)
        return frame


def _on_white(frame: Image.Image) -> Image.Image:
    from PIL import Image

    rgba = frame.convert("RGBA")
    background = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(background, rgba)


def _save_atomically(image: Image.Image, target: Path) -> None:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, format="WEBP", quality=80, method=4)
        Path(name).replace(target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        if len(_locks) > 1024:  # forget idle locks; an in-use one is re-created harmlessly
            _locks.clear()
        return _locks.setdefault(path, threading.Lock())
