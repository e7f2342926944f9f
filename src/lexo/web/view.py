"""What the pages show of a document: its fields, issuer, date, amount, highlights.

Document understanding fills ``fields`` as ``{name: {value, confidence, page, start, end,
source}}``; older documents may hold plain values or nothing at all, and every helper here
accepts all three.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from lexo.document import OCR_STRATEGIES as STRATEGIES
from lexo.understand.results import DOC_TYPES as TYPE_LABELS

#: The canonical document types, in the order the filters list them.
DOC_TYPES = tuple(TYPE_LABELS)
ISSUER_FIELDS = ("issuer", "correspondent", "emetteur")
DATE_FIELDS = ("date", "document_date", "issue_date", "date_document", "date_emission")
AMOUNT_FIELDS = ("amount_total", "total_ttc", "amount", "montant_ttc", "montant", "total")
#: The OCR strategies in page order: the default (``auto``) first.
OCR_STRATEGIES = ("auto", *(s for s in STRATEGIES if s != "auto"))
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class FieldView:
    name: str
    value: str
    confidence: float | None
    page: int | None
    start: int | None
    end: int | None
    source: str | None
    box: tuple[int, int, int, int] | None = None
    raw: Any = None


def fields_of(doc: dict[str, Any]) -> list[FieldView]:
    """The document's fields in a stable order, whatever shape they were stored in."""
    raw = doc.get("fields") or {}
    out = []
    for name, item in sorted(raw.items()) if isinstance(raw, dict) else ():
        data = item if isinstance(item, dict) and "value" in item else {"value": item}
        if data.get("value") is None:
            continue
        out.append(
            FieldView(
                name=str(name),
                value=_text(data.get("value")),
                confidence=_number(data.get("confidence")),
                page=_int(data.get("page")),
                start=_int(data.get("start")),
                end=_int(data.get("end")),
                source=str(data["source"]) if data.get("source") else None,
                box=_box(data.get("box")),
                raw=data.get("value"),
            )
        )
    return out


def first_field(doc: dict[str, Any], names: tuple[str, ...]) -> str | None:
    by_name = {f.name: f.value for f in fields_of(doc)}
    return next((by_name[n] for n in names if by_name.get(n)), None)


def amount_of(doc: dict[str, Any]) -> tuple[float | str, str | None] | None:
    """The document's total and its currency code, if it has one."""
    by_name = {f.name: f for f in fields_of(doc)}
    found = next((by_name[n] for n in AMOUNT_FIELDS if n in by_name), None)
    if found is None:
        return None
    currency = by_name["currency"].value if "currency" in by_name else None
    value = found.raw if isinstance(found.raw, int | float) else found.value
    return value, currency


def issuer_of(doc: dict[str, Any]) -> str | None:
    issuer = doc.get("issuer")
    if isinstance(issuer, str) and issuer:
        return issuer
    return first_field(doc, ISSUER_FIELDS)


def heading_of(doc: dict[str, Any]) -> str:
    """What the document page is headed with: its title, else its file's name."""
    title = doc.get("title")
    return title if isinstance(title, str) and title.strip() else str(doc.get("original_name"))


def summary_note(doc: dict[str, Any]) -> str | None:
    """The message key saying where the summary comes from (None without a summary)."""
    if not doc.get("summary"):
        return None
    return "doc.summary_user" if doc.get("summary_source") == "user" else "doc.summary_auto"


def has_archive(doc: dict[str, Any]) -> bool:
    """True when the document JSON says an archive PDF exists (added by the OCR issue)."""
    return any(bool(doc.get(k)) for k in ("has_archive", "archive_available", "archive"))


def highlighted_text(text: str, fields: list[FieldView], page: int) -> Markup:
    """The page's text, escaped, with each field found on it wrapped in ``<mark>``."""
    spans = sorted(
        (f.start, f.end, f.name)
        for f in fields
        if f.page == page and f.start is not None and f.end is not None
        if 0 <= f.start < f.end <= len(text)
    )
    parts: list[str] = []
    pos = 0
    for start, end, name in spans:
        if start < pos:  # overlapping fields: the first one wins
            continue
        parts.append(str(escape(text[pos:start])))
        parts.append(
            f'<mark class="field" data-field="{escape(name)}">{escape(text[start:end])}</mark>'
        )
        pos = end
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))  # noqa: S704 - every piece was escaped above


def field_boxes(page: dict[str, Any], fields: list[FieldView]) -> list[dict[str, Any]]:
    """Boxes (percent of the page) of the OCR words that spell each field found on ``page``.

    A field knows its character span in the page text; the words of that span are looked up
    in the OCR layout, in order, so the same value elsewhere on the page is not marked.
    """
    width, height, text = page.get("width"), page.get("height"), page.get("text") or ""
    words = _layout_words(page.get("layout"))
    if not width or not height:
        return []
    out = []
    for f in fields:
        if f.page != page.get("number"):
            continue
        box = f.box
        if box is None and f.start is not None and f.end is not None and words:
            wanted = [_norm(t) for t in _TOKEN.findall(text[f.start : f.end])]
            box = _find_run(words, wanted, _occurrence(text, f.start))
        if box is not None:
            x0, y0, x1, y1 = box
            out.append(
                {
                    "name": f.name,
                    "left": round(100 * x0 / width, 3),
                    "top": round(100 * y0 / height, 3),
                    "width": round(100 * (x1 - x0) / width, 3),
                    "height": round(100 * (y1 - y0) / height, 3),
                }
            )
    return out


def _layout_words(layout: Any) -> list[tuple[str, tuple[int, int, int, int]]]:
    lines = layout.get("lines", []) if isinstance(layout, dict) else []
    words = []
    for line in lines:
        for word in line.get("words") or ():
            box = word.get("box")
            if box and len(box) == 4:
                for token in _TOKEN.findall(word.get("text", "")):
                    words.append((_norm(token), (box[0], box[1], box[2], box[3])))
    return words


def _box(value: Any) -> tuple[int, int, int, int] | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 4
        and all(isinstance(v, int | float) for v in value)
    ):
        return (int(value[0]), int(value[1]), int(value[2]), int(value[3]))
    return None


def _occurrence(text: str, start: int) -> int:
    """How many word tokens precede ``start`` in the text (to find the right repeat)."""
    return len(_TOKEN.findall(text[:start]))


def _find_run(
    words: list[tuple[str, tuple[int, int, int, int]]], wanted: list[str], near: int
) -> tuple[int, int, int, int] | None:
    if not wanted:
        return None
    n = len(wanted)
    starts = [i for i in range(len(words) - n + 1) if [w for w, _ in words[i : i + n]] == wanted]
    if not starts:
        return None
    best = min(starts, key=lambda i: abs(i - near))
    boxes = [b for _, b in words[best : best + n]]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _norm(token: str) -> str:
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return ", ".join(str(v) for v in (value.values() if isinstance(value, dict) else value))
    return str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
