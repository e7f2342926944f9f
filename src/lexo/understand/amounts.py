"""Amounts as printed on French (and other European) paperwork.

``1 234,56 €``, ``1.234,56 EUR``, ``1234,56€``, ``€ 717,97``, ``$4.11``, ``Rs 1939``,
``29.99 € TTC``. A number is an amount when it has two decimals or a currency next to it, so
quantities (``3 h``, ``12 kWh``) and years are not amounts. The currency is ISO 4217.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

#: Currency marks → ISO 4217 code. Longest first in the pattern.
CURRENCIES = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "$": "USD",
    "usd": "USD",
    "us$": "USD",
    "£": "GBP",
    "gbp": "GBP",
    "chf": "CHF",
    "rs": "INR",
    "rs.": "INR",
    "inr": "INR",
    "₹": "INR",
    "zł": "PLN",
    "pln": "PLN",
    "e": "EUR",  # a scan's "€" after the number: only a capital E counts (see find_amounts)
}
#: Marks printed only after the number ("463,67 E").
_SUFFIX_ONLY = {"e"}
_CUR = "|".join(re.escape(c) for c in sorted(set(CURRENCIES) - _SUFFIX_ONLY, key=len, reverse=True))
#: Marks printed only before the number: "2014 $4.11" is a year, then an amount.
_PREFIX_ONLY = {"$", "us$", "£", "rs", "rs.", "₹"}
_POST = "|".join(
    re.escape(c) for c in sorted(set(CURRENCIES) - _PREFIX_ONLY, key=len, reverse=True)
)
_SPACE = "[ \u00a0\u202f]"
# Groups of three after a space, dot, comma or apostrophe; then an optional 2-digit decimal part.
_NUMBER = (
    # OCR's "600, 88 EUR": a space after the decimal comma, trusted only before a currency
    rf"-?\d+,{_SPACE}\d{{2}}(?={_SPACE}?(?:€|eur))|"
    rf"-?\d{{1,3}}(?:(?:{_SPACE}|[.,'’])\d{{3}})+(?:[.,]\d{{2}})?|-?\d+(?:[.,]\d{{2}})?"
)
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?P<pre>{_CUR}){_SPACE}?)?(?P<num>{_NUMBER})(?![\d])"
    rf"(?:{_SPACE}?(?P<post>{_POST})(?![a-z]))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AmountMatch:
    value: float
    currency: str | None
    start: int
    end: int


def find_amounts(text: str) -> list[AmountMatch]:
    """Every amount in ``text`` with its currency (when printed) and span."""
    out = []
    for m in _AMOUNT.finditer(text):
        mark, end = m["pre"] or m["post"], m.end()
        raw = m["num"]
        value = parse_number(raw)
        if value is None:
            continue
        decimal = bool(re.search(r"[.,]\d{2}$", raw)) and not _is_grouped_integer(raw)
        if (m["post"] or "").lower() in _SUFFIX_ONLY and (m["post"] != "E" or not decimal):
            # "2 e trimestre", "Bâtiment 12 E": a letter after a number is the euro sign a
            # scan misread only in capitals and after cents.
            mark, end = m["pre"], m.end("num")
        if not decimal and mark is None:
            continue
        if _followed_by_percent(text, end):
            continue
        currency = CURRENCIES[mark.lower()] if mark else None
        out.append(AmountMatch(value, currency, m.start(), end))
    return out


def parse_amount(text: str) -> float | None:
    """The first amount in ``text`` (e.g. ``"1 234,56 €"`` → 1234.56), or None."""
    found = find_amounts(text)
    return found[0].value if found else None


def parse_number(raw: str) -> float | None:
    """A printed number in French or English convention → float, or None."""
    s = raw.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'")
    s = s.replace(" ", "").replace("'", "")
    match = re.search(r"[.,](\d{2})$", s)
    if match and not _is_grouped_integer(raw):
        whole = re.sub(r"[.,]", "", s[: match.start()])
        s = f"{whole}.{match[1]}"
    else:
        s = re.sub(r"[.,]", "", s)
    try:
        return float(Decimal(s))
    except InvalidOperation:
        return None


def _is_grouped_integer(raw: str) -> bool:
    # "1.234" or "1,234": a thousands group, not decimals; two decimals never look like this.
    return bool(re.fullmatch(r"-?\d{1,3}(?:[.,]\d{3})+", raw))


def _followed_by_percent(text: str, end: int) -> bool:
    return text[end : end + 2].lstrip().startswith("%")


def currency_of(text: str) -> str | None:
    """The currency a document is written in: the most frequent currency mark, if any."""
    counts: dict[str, int] = {}
    for m in find_amounts(text):
        if m.currency:
            counts[m.currency] = counts.get(m.currency, 0) + 1
    for word, code in ((r"\bEUR\b", "EUR"), (r"\bUSD\b|US Dollars", "USD"), (r"\bPLN\b", "PLN")):
        n = len(re.findall(word, text))
        if n:
            counts[code] = counts.get(code, 0) + n
    return max(counts, key=lambda c: counts[c]) if counts else None


def format_amount(
    value: float, currency: str | None = "EUR", *, lang: str = "fr", narrow: bool = False
) -> str:
    """An amount as the language writes money: "1 234,56 €" or "€1,234.56"; a currency other
    than the euro by its code ("12,00 USD", "12.00 USD"). ``narrow``: French typography for
    display (a narrow no-break space between groups, a no-break space before the unit); plain
    spaces otherwise (answers and summaries, which are copied and checked as text)."""
    code = (currency or "EUR").upper()
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.2f}"
    if lang == "fr":
        group, unit = ("\u202f", "\u00a0") if narrow else (" ", " ")
        text = text.replace(",", group).replace(".", ",")
        return f"{sign}{text}{unit}{'€' if code == 'EUR' else code}"
    return f"{sign}€{text}" if code == "EUR" else f"{sign}{text} {code}"
