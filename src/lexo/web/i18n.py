"""The page's words in French (default) and English, and the formats of dates and sizes.

Catalogues are JSON files in ``locales/``, read once. The language comes from the ``lang``
cookie (the switch on every page), else ``Accept-Language``, else French.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from lexo.understand.amounts import format_amount

SUPPORTED = ("fr", "en")
DEFAULT = "fr"
LANG_COOKIE = "lang"
LOCALES = Path(__file__).with_name("locales")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@cache
def catalog(lang: str) -> dict[str, str]:
    with (LOCALES / f"{lang}.json").open(encoding="utf-8") as fh:
        data: dict[str, str] = json.load(fh)
    return data


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie when valid, else the best supported Accept-Language."""
    if cookie in SUPPORTED:
        return cookie
    best, best_q = DEFAULT, 0.0
    for item in (accept_language or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = _quality(params)
        # Strictly greater: on equal quality the earlier entry (the preferred one) stays.
        if primary in SUPPORTED and q > best_q:
            best, best_q = primary, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if math.isfinite(q) and 0 <= q <= 1 else 0.0
    return 1.0


class Translator:
    """``t("key", name=...)``: the text of ``key`` in one language, French as fallback."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in SUPPORTED else DEFAULT
        self._words = catalog(self.lang)
        self._fallback = catalog(DEFAULT)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._words.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text

    def label(self, group: str, code: str | None) -> str:
        """The name of a code (a status, a document type), or the code itself if unknown."""
        if not code:
            return "—"
        key = f"{group}.{code}"
        return self._words.get(key) or self._fallback.get(key) or code

    def strings(self, prefix: str) -> dict[str, str]:
        """Every entry under ``prefix`` (e.g. "js."), for the page's script."""
        keys = {k for k in self._fallback if k.startswith(prefix)}
        return {k.removeprefix(prefix): self(k) for k in sorted(keys)}

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        local = value.astimezone() if value.tzinfo else value
        return local.strftime("%d/%m/%Y %H:%M" if self.lang == "fr" else "%Y-%m-%d %H:%M")

    def number(self, value: float, decimals: int = 0) -> str:
        text = f"{value:,.{decimals}f}"
        if self.lang == "fr":
            # French groups with a narrow no-break space and uses a decimal comma.
            text = text.replace(",", "\u202f").replace(".", ",")
        return text

    def amount(self, found: tuple[float | str, str | None] | None) -> str:
        """A total as the language writes money: "1 234,00 €" or "€1,234.00"."""
        if found is None:
            return "—"
        value, currency = found
        if not isinstance(value, int | float):
            return str(value)
        return format_amount(float(value), currency, lang=self.lang, narrow=True)

    def date_text(self, value: str | None) -> str:
        """An ISO date (YYYY-MM-DD) in the language's order; anything else unchanged."""
        if not value:
            return "—"
        match = _ISO_DATE.fullmatch(value.strip())
        if not match:
            return value
        y, m, d = match.groups()
        return f"{d}/{m}/{y}" if self.lang == "fr" else f"{y}-{m}-{d}"

    def size(self, n_bytes: int | None) -> str:
        if n_bytes is None:
            return "—"
        units = ("o", "Ko", "Mo", "Go") if self.lang == "fr" else ("B", "KB", "MB", "GB")
        value = float(n_bytes)
        for unit in units:
            if value < 1024 or unit == units[-1]:
                decimals = 0 if unit == units[0] else 1
                return f"{self.number(value, decimals)}\u00a0{unit}"
            value /= 1024
        return str(n_bytes)  # pragma: no cover - the loop always returns
