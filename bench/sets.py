"""Page sets and document sets for the OCR and extraction benchmarks, each kept apart.

The development set is what LEXO was tuned on; the others are there to catch over-fitting:

- ``devset``: ``tests/fixtures/devset.py`` (groups ``devset-clean``, ``-scan``, ``-poor``);
- ``heldout``: ``tests/fixtures/heldout`` (another generator, other layouts; groups
  ``heldout-clean``, ``-scan``, ``-poor``, ``-pdfscan``; an image already listed, as when the
  scanned PDF wraps the scan's own JPEG, is not read twice);
- ``facturx``: real born-digital PDFs, each page rendered at 300 dpi (``real-pdf-clean``) and
  degraded here (``real-pdf-scan``: slight blur, noise, ±1° turn, JPEG q75; ``real-pdf-poor``:
  200 dpi, low contrast, uneven light, blur, JPEG q40), against the page's own text layer.
  Sources: the French Factur-X PDFs of the corpus (deduplicated by SHA-256 of the file, then by
  visible text: the EN16931 and EXTENDED copies of an FNFE example are the same page), the
  French invoice2data PDFs, and paperless-ngx's born-digital samples (two pages a file at most:
  its split tests repeat one page). Pages whose text layer is under 50 characters, or that
  are mostly one image (a scan with an OCR layer), are left out;
- ``real``: real captures with human or source-PDF truth (``ocr_gt_pairs.csv``): the
  dataforgood worksheets, phone photos and scans (``real-photo``), Tesseract's test pages
  (``real-tesseract``), ``linn.png`` against its reference reading (``real-linn``), and 40
  OCR17 XIX lines drawn with a fixed seed (``real-ocr17-lines``).

Rendered images are cached under ``tests/fixtures/_generated`` and rebuilt only when missing;
every degradation draws from a generator seeded by the page's name, so runs are repeatable.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("LEXO_CORPUS", ROOT.parent / "shared" / "corpus"))
GENERATED = ROOT / "tests" / "fixtures" / "_generated"
DEVSET_DIR = GENERATED / "devset"
HELDOUT_DIR = GENERATED / "heldout"
CACHE = GENERATED / "bench-sets" / "v2"  # bump when a degradation changes

Page = tuple[str, Path, str]  # (group, image, reference text)
Document = tuple[str, Path, str | None, dict[str, Any]]  # (variant/id, file, type, fields)

OCR_SETS = ("devset", "heldout", "facturx", "real")
EXTRACT_SETS = ("devset", "heldout", "facturx", "invoice2data")
HELDOUT_IMAGE_VARIANTS = ("clean", "scan", "poor", "pdfscan")
PDF_VARIANTS = ("clean", "scan", "poor")
MIN_TEXT = 50
I2D_FRENCH = ("free_fiber.pdf", "NetpresseInvoice.pdf")
LINN_VARIANTS = ("skew.pdf", "rotated_skew.pdf", "cardinal.pdf", "ccitt.pdf", "jbig2.pdf")
TRUTH_TYPES = ("human_transcription", "source_pdf_text_layer")


class Unavailable(RuntimeError):
    """A set whose inputs are not on this machine (the run says so and goes on)."""


def aggregate_of(group: str) -> str | None:
    """The "all image pages" summary a group counts in (None: only its own line)."""
    for prefix in ("devset", "heldout", "real-pdf", "real"):
        if group.startswith(prefix + "-"):
            return f"{prefix}-all"
    return None


# ---- synthetic sets -------------------------------------------------------------------


def devset(n_per_type: int = 2, variants: Sequence[str] = ("clean", "scan", "poor")) -> list[Page]:
    return [
        (f"devset-{s.variant}", i, t) for s, i, t in _pages(_devset_samples(n_per_type, variants))
    ]


def heldout(
    n_per_type: int = 2, seed: int = 0, variants: Sequence[str] = HELDOUT_IMAGE_VARIANTS
) -> list[Page]:
    samples = _heldout_samples(n_per_type, seed, variants)
    out: list[Page] = []
    seen: set[str] = set()
    for sample, image, truth in _pages(samples):
        digest = _sha(image)  # a PDF wrapping the scan's very image adds no page to read
        if digest not in seen:
            seen.add(digest)
            out.append((f"heldout-{sample.variant}", image, truth))
    return out


def _pages(samples: Iterable[Any]) -> Iterable[tuple[Any, Path, str]]:
    for sample in samples:
        for image, truth in zip(sample.image_paths, sample.page_texts, strict=True):
            yield sample, image, truth


def _devset_samples(n_per_type: int, variants: Sequence[str]) -> list[Any]:
    from tests.fixtures.devset import generate

    # Always the full set: the generator's cache is kept for one set of parameters.
    return [s for s in generate(DEVSET_DIR, n_per_type=n_per_type) if s.variant in variants]


def _heldout_samples(n_per_type: int, seed: int, variants: Sequence[str]) -> list[Any]:
    try:
        from tests.fixtures.heldout import VARIANTS, generate
    except ImportError as exc:
        raise Unavailable(f"heldout set not available ({exc})") from exc
    folder = HELDOUT_DIR if seed == 0 else HELDOUT_DIR.with_name(f"heldout-seed{seed}")
    samples = generate(folder, n_per_type=n_per_type, seed=seed, variants=VARIANTS)
    return [s for s in samples if s.variant in variants]


# ---- real born-digital PDFs, rendered and degraded ------------------------------------


def facturx(
    folder: Path = CACHE / "real-pdf",
    variants: Sequence[str] = PDF_VARIANTS,
    *,
    french_only: bool = True,
) -> list[Page]:
    """Pages of born-digital PDFs as images, against their text layer (see the module doc)."""
    import pypdfium2 as pdfium

    out: list[Page] = []
    seen: set[str] = set()
    for doc_id, path in _born_digital(french_only):
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:  # encrypted or broken: no text layer to compare with
            continue
        kept = 0
        try:
            for index in range(len(pdf)):
                truth = _text_layer(pdf[index])
                key = " ".join(truth.split())
                if len(key) < MIN_TEXT or key in seen or _mostly_image(pdf[index]):
                    continue
                if doc_id.startswith("pl-") and kept == 2:  # test files of near-twin pages
                    break
                seen.add(key)
                kept += 1
                for variant in variants:
                    image = _page_image(pdf, index, variant, folder, f"{doc_id}-p{index + 1}")
                    out.append((f"real-pdf-{variant}", image, truth))
        finally:
            pdf.close()
    return out


def _born_digital(french_only: bool) -> list[tuple[str, Path]]:
    found = [(f"fx-{doc_id}", path) for doc_id, path, _ in facturx_documents(french_only)]
    found += [(f"i2d-{Path(n).stem}", CORPUS / "invoice2data" / n) for n in I2D_FRENCH]
    for path in sorted((CORPUS / "paperless-ngx").rglob("*.pdf")):
        found.append((f"pl-{path.stem}-{_sha(path)[:6]}", path))
    return [(doc_id, path) for doc_id, path in found if path.exists()]


def facturx_documents(french_only: bool = True) -> list[tuple[str, Path, dict[str, Any]]]:
    """Distinct Factur-X PDFs (by SHA-256, then by visible text) with their ``fields.json``.

    ``french_only``: French sellers' invoices and credit notes (16 documents); otherwise the
    German and English ones too. Order-X (an order, not an invoice) is left out."""
    out: list[tuple[str, Path, dict[str, Any]]] = []
    seen: set[str] = set()
    for path in sorted((CORPUS / "facturx").rglob("*.pdf")):
        fields_path = path.with_name(f"{path.stem}.fields.json")
        if any(p.endswith(".attachments") for p in path.parts) or not fields_path.exists():
            continue
        truth = json.loads(fields_path.read_text(encoding="utf-8"))
        country = (truth.get("seller") or {}).get("address", {}).get("CountryID")
        if (french_only and country != "FR") or truth.get("document_type_code") == "220":
            continue
        keys = {_sha(path), _visible_text_key(path)}
        if keys & seen:
            continue
        seen |= keys
        out.append((f"{path.stem[:48]}-{_sha(path)[:6]}", path, truth))
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _visible_text_key(path: Path) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        text = " ".join(" ".join(_text_layer(pdf[i]).split()) for i in range(len(pdf)))
    finally:
        pdf.close()
    return "text:" + hashlib.sha256(text.encode()).hexdigest()


def _text_layer(page: Any) -> str:
    text = page.get_textpage().get_text_range()
    keep = "\n\t\f"
    return "".join(
        " " if c == "\r" else c
        for c in text
        if c in keep or c == "\r" or unicodedata.category(c) not in ("Cc", "Cn", "Co")
    )


def _mostly_image(page: Any) -> bool:
    """A page that is one big image (a scan, perhaps with an OCR layer): not born digital."""
    import pypdfium2.raw as raw

    width, height = page.get_size()
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) > 0.5 * width * height:
            return True
    return False


def _page_image(pdf: Any, index: int, variant: str, folder: Path, name: str) -> Path:
    ext = "png" if variant == "clean" else "jpg"
    path = folder / variant / f"{name}.{ext}"
    if path.exists():
        return path
    import numpy as np
    from PIL import Image, ImageFilter

    dpi = 200 if variant == "poor" else 300
    page = pdf[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    path.parent.mkdir(parents=True, exist_ok=True)
    if variant == "clean":
        page.save(path, dpi=(dpi, dpi))
        return path
    seed = int.from_bytes(hashlib.sha256(f"{name}/{variant}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    pixels: Any
    if variant == "scan":
        angle = float(rng.uniform(0.3, 1.0) * rng.choice([-1.0, 1.0]))
        page = page.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        page = page.filter(ImageFilter.GaussianBlur(0.6))
        pixels = np.asarray(page, dtype=np.float32) + rng.normal(0, 6, (page.height, page.width))
        quality = 75
    else:  # poor: grey ink on grey paper, light falling off across the page, soft focus
        pixels = 80 + np.asarray(page, dtype=np.float32) * (135 / 255)
        theta = rng.uniform(0, 2 * np.pi)
        ys = np.linspace(0, 1, page.height, dtype=np.float32)[:, None]
        xs = np.linspace(0, 1, page.width, dtype=np.float32)[None, :]
        ramp = xs * np.cos(theta) + ys * np.sin(theta)
        ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
        pixels *= 1.0 - 0.2 * ramp
        blurred = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        blurred = blurred.filter(ImageFilter.GaussianBlur(0.9))
        pixels = np.asarray(blurred, dtype=np.float32)
        pixels = pixels + rng.normal(0, 8, pixels.shape)
        quality = 40
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    image.save(path, quality=quality, dpi=(dpi, dpi))
    return path


# ---- real captures with human or source-PDF truth -------------------------------------


def real_pages(folder: Path = CACHE / "real", ocr17_lines: int = 40, seed: int = 0) -> list[Page]:
    """The pairs of ``ocr_gt_pairs.csv`` whose truth is a person's or the source PDF's."""
    groups = {"dyslexia": "real-photo", "tesseract": "real-tesseract"}
    chosen: dict[str, tuple[str, str]] = {}  # image -> (group, truth), human truth first
    lines: list[tuple[str, str]] = []
    linn: tuple[str, str] | None = None
    with (CORPUS / "ocr_gt_pairs.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            image, truth, kind = row["image_or_pdf"], row["ground_truth"], row["gt_type"]
            if image.endswith("ocrmypdf/resources/linn.png"):
                linn = (image, truth)  # a reference reading, kept apart
            elif kind not in TRUTH_TYPES:
                continue
            elif row["set"] == "ocr17_XIX":
                lines.append((image, truth))
            elif row["set"] in groups and (image not in chosen or kind == TRUTH_TYPES[0]):
                chosen[image] = (groups[row["set"]], truth)
    picked = sorted(random.Random(seed).sample(lines, min(ocr17_lines, len(lines))))
    items = [(group, image, truth) for image, (group, truth) in chosen.items()]
    items += [("real-linn", *linn)] if linn else []
    items += [("real-ocr17-lines", image, truth) for image, truth in picked]
    out: list[Page] = []
    for group, image, truth in items:
        source, truth_path = CORPUS / image, CORPUS / truth
        if not (source.exists() and truth_path.exists()):
            continue
        if source.suffix.lower() == ".pdf":
            source = _render(source, folder / f"{Path(image).stem}.png")
        out.append((group, source, truth_path.read_text(encoding="utf-8")))
    group_order = ["real-photo", "real-tesseract", "real-linn", "real-ocr17-lines"]
    return sorted(out, key=lambda page: group_order.index(page[0]))


def _render(pdf_path: Path, out: Path, index: int = 0) -> Path:
    if not out.exists():
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(pdf_path))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            image = pdf[index].render(scale=300 / 72, grayscale=True).to_pil()
            image.save(out, dpi=(300, 300))
        finally:
            pdf.close()
    return out


def linn_variants(folder: Path, truth: str) -> list[Page]:
    """The PDF variants of linn as 300-dpi page images (what a scanner would hand over)."""
    import pypdfium2 as pdfium

    out: list[Page] = []
    folder.mkdir(parents=True, exist_ok=True)
    for name in LINN_VARIANTS:
        pdf = pdfium.PdfDocument(str(CORPUS / "ocrmypdf" / name))
        try:
            for index in range(len(pdf)):
                image = pdf[index].render(scale=300 / 72, grayscale=True).to_pil()
                path = folder / f"{Path(name).stem}-p{index + 1}.png"
                image.save(path, dpi=(300, 300))
                out.append(("linn-variants", path, truth))
        finally:
            pdf.close()
    return out


def ocr_pages(
    sets: Sequence[str], *, n_per_type: int = 2, seed: int = 0, limit_per_group: int = 0
) -> tuple[list[Page], dict[str, str]]:
    """The pages of the named sets, at most ``limit_per_group`` per group (0: all), and why
    any set was left out."""
    makers = {
        "devset": lambda: devset(n_per_type),
        "heldout": lambda: heldout(n_per_type, seed),
        "facturx": lambda: facturx(),
        "real": lambda: real_pages(),
    }
    pages: list[Page] = []
    skipped: dict[str, str] = {}
    for name in sets:
        if name not in makers:
            raise SystemExit(f"unknown set {name!r}; known: {', '.join(makers)}")
        try:
            found = makers[name]()
        except Unavailable as exc:
            skipped[name] = str(exc)
            continue
        counts: dict[str, int] = {}
        for page in found:
            counts[page[0]] = counts.get(page[0], 0) + 1
            if not limit_per_group or counts[page[0]] <= limit_per_group:
                pages.append(page)
    return pages, skipped


# ---- documents for field extraction ---------------------------------------------------

I2D_FIELDS = {
    "amount": "amount_total",
    "amount_untaxed": "amount_untaxed",
    "date": "date",
    "date_due": "due_date",
    "invoice_number": "invoice_number",
    "currency": "currency",
    "vat": "vat_number",
    "siren": "siren",
    "issuer": "issuer",
}


def extract_documents(
    set_name: str, *, n_per_type: int = 2, seed: int = 0, folder: Path = CACHE / "real-pdf"
) -> list[Document]:
    """``(variant/id, file, expected type or None, expected fields)`` of one set.

    ``facturx``: each French Factur-X invoice three ways: ``pdf`` (the file itself: LEXO
    reads its embedded XML), ``pdf-noxml`` (the same PDF with its attachments removed: the
    rules on the visible text) and ``poor`` (its pages rasterised poor, one JPEG or a
    multi-page TIFF)."""
    if set_name == "devset":
        samples = _devset_samples(n_per_type, ("clean", "scan", "poor"))
    elif set_name == "heldout":
        samples = _heldout_samples(
            n_per_type, seed, ("clean", "scan", "poor", "pdfscan", "digital")
        )
    elif set_name == "facturx":
        return _facturx_documents(folder)
    elif set_name == "invoice2data":
        return _i2d_documents()
    else:
        raise SystemExit(f"unknown set {set_name!r}; known: {', '.join(EXTRACT_SETS)}")
    return [(f"{s.variant}/{s.sample_id}", s.pdf_path, s.doc_type, dict(s.fields)) for s in samples]


def _i2d_documents() -> list[Document]:
    folder = CORPUS / "invoice2data"
    out: list[Document] = []
    for expected_path in sorted(folder.glob("*.json")):
        pdf, txt = expected_path.with_suffix(".pdf"), expected_path.with_suffix(".txt")
        source = pdf if pdf.exists() else txt
        if not source.exists():
            continue
        raw = json.loads(expected_path.read_text(encoding="utf-8"))[0]
        expected = {ours: raw[theirs] for theirs, ours in I2D_FIELDS.items() if theirs in raw}
        if "siren" in expected:
            expected["siren"] = str(expected["siren"]).replace(" ", "")
        out.append((f"all/{expected_path.stem}", source, None, expected))
    return out


def facturx_fields(truth: dict[str, Any]) -> dict[str, Any]:
    """LEXO's canonical fields from a ``fields.json`` (seller side; identifiers and IBANs
    only when their checksum holds)."""
    seller = truth.get("seller") or {}
    pairs = {
        "invoice_number": truth.get("invoice_number"),
        "date": truth.get("issue_date"),
        "due_date": truth.get("due_date"),
        "amount_total": truth.get("total_with_vat"),  # BT-112, the grand total
        "amount_untaxed": truth.get("total_without_vat"),
        "amount_tax": truth.get("total_vat"),
        "issuer": seller.get("name"),
        "vat_number": (seller.get("vat_id") or "").replace(" ", "") or None,
        "currency": truth.get("currency"),
    }
    iban = (truth.get("iban") or "").replace(" ", "").upper()
    if len(iban) >= 15 and iban[:2].isalpha() and _iban_ok(iban):
        pairs["iban"] = iban
    legal = "".join((seller.get("legal_id") or "").split())
    # A SIRET is the SIREN and an establishment number. Numbers failing their checksum are
    # the samples' placeholders (12345678900014), which LEXO rightly refuses: not truth.
    if legal.isdigit() and len(legal) in (9, 14) and _luhn(legal[:9]):
        pairs["siren"] = legal[:9]
    if legal.isdigit() and len(legal) == 14 and _luhn(legal):
        pairs["siret"] = legal
    return {k: v for k, v in pairs.items() if v not in (None, "")}


def _luhn(digits: str) -> bool:
    from stdnum import luhn

    return luhn.is_valid(digits)


def _iban_ok(iban: str) -> bool:
    from stdnum import iban as stdnum_iban

    return stdnum_iban.is_valid(iban)


def _facturx_documents(folder: Path) -> list[Document]:
    import pypdfium2 as pdfium
    from PIL import Image

    out: list[Document] = []
    for doc_id, path, truth in facturx_documents(french_only=True):
        expected = facturx_fields(truth)
        out.append((f"pdf/{doc_id}", path, "facture", expected))
        bare = folder / "pdf-noxml" / f"{doc_id}.pdf"
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not bare.exists():
                bare.parent.mkdir(parents=True, exist_ok=True)
                for index in reversed(range(pdf.count_attachments())):
                    pdf.del_attachment(index)
                pdf.save(str(bare))
            images = [
                _page_image(pdf, i, "poor", folder, f"fx-{doc_id}-p{i + 1}")
                for i in range(len(pdf))
            ]
        finally:
            pdf.close()
        out.append((f"pdf-noxml/{doc_id}", bare, "facture", expected))
        poor = images[0]
        if len(images) > 1:  # one file a scanner would give: a multi-page TIFF
            poor = folder / "poor-docs" / f"{doc_id}.tif"
            if not poor.exists():
                poor.parent.mkdir(parents=True, exist_ok=True)
                frames = [Image.open(p).convert("L") for p in images]
                frames[0].save(
                    poor,
                    save_all=True,
                    append_images=frames[1:],
                    compression="tiff_deflate",
                    dpi=(200, 200),
                )
        out.append((f"poor/{doc_id}", poor, "facture", expected))
    return out
