"""The period a question is about: "en 2025", "en mars", "l'an dernier", "depuis janvier",
"au premier trimestre 2025", "du 15 mars 2025", "sur les 12 derniers mois"…

A period is a range of days, or months of any year ("en mars": the facts keep the latest year
that has such documents), or one day. "revenus 2024" names the income year: a tax notice on
it is dated the year after.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from lexo.assistant.facts.words import Words
from lexo.understand.dates import find_dates, month_number

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_MONTH = (
    r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    r"|janv|fevr|fev|avr|juil|sept|oct|nov|dec)"
)
_YEAR = r"(?:19[89]\d|20\d\d|2100)"
_ORDINALS = {
    "premier": 1, "1er": 1, "1": 1, "t1": 1, "deuxieme": 2, "second": 2, "2e": 2, "2eme": 2,
    "2": 2, "t2": 2, "troisieme": 3, "3e": 3, "3eme": 3, "3": 3, "t3": 3, "quatrieme": 4,
    "4e": 4, "4eme": 4, "4": 4, "t4": 4, "dernier": 4,
}  # fmt: skip
_QUARTER_WORDS = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_NUMBERS = {"deux": 2, "trois": 3, "six": 6, "douze": 12, "dix huit": 18, "vingt quatre": 24}


@dataclass(frozen=True, slots=True)
class Period:
    """``start..end`` (inclusive); or ``months`` of any year; or one ``day``."""

    fr: str  # "en mars 2025", as the answer says it
    en: str
    start: date | None = None
    end: date | None = None
    months: frozenset[int] = field(default_factory=frozenset)
    day: date | None = None
    #: "revenus 2024": tax notices are matched one year later.
    income_year: bool = False
    #: Numbers the wording states (years), for the checker.
    stated: tuple[int, ...] = ()
    #: The year ``months`` were found in (see :meth:`in_year`).
    year: int | None = None

    def holds(self, when: date, *, tax_notice: bool = False) -> bool:
        if self.day is not None:
            return when == self.day
        if self.months:
            return when.month in self.months and self.year in (None, when.year)
        assert self.start is not None and self.end is not None
        if self.income_year and tax_notice:
            when = date(when.year - 1, when.month, min(when.day, 28))
        return self.start <= when <= self.end


def in_year(period: Period, year: int) -> Period:
    """ "en mars" once the documents said which March: "en mars 2025"."""
    return replace(
        period, fr=f"{period.fr} {year}", en=f"{period.en} {year}", stated=(year,), year=year
    )


def read_period(words: Words, today: date) -> Period | None:
    """The period the question names (its words taken), or None."""
    for reader in (_days, _relative, _quarters, _ranges, _month_years, _years, _months):
        found = reader(words, today)
        if found is not None:
            return found
    return None


def _days(words: Words, today: date) -> Period | None:
    for m in find_dates(words.question):
        words.take_question_span(m.start, m.end)
        text = fr_date(m.value)
        return Period(f"du {text}", f"of {en_date(m.value)}", day=m.value, stated=(m.value.year,))
    return None


def _relative(words: Words, today: date) -> Period | None:
    y = today.year
    if words.take(r"\b(?:l an|l annee) (?:dernier|derniere|passe|passee|precedente?)\b"):
        return _year(y - 1, f"l'an dernier ({y - 1})", f"last year ({y - 1})")
    if words.take(r"\b(?:depuis|de) (?:le )?debut (?:de )?(?:l )?(?:annee|an)(?: en cours)?\b"):
        return Period(
            f"depuis le début de {y}", f"since the start of {y}", date(y, 1, 1), today,
            stated=(y,),
        )  # fmt: skip
    if words.take(r"\b(?:cette annee(?: ci)?|l annee en cours|cette annee en cours)\b"):
        return _year(y, f"cette année ({y})", f"this year ({y})")
    if words.take(r"\b(?:l an|l annee) prochaine?\b"):
        return _year(y + 1, f"l'an prochain ({y + 1})", f"next year ({y + 1})")
    if m := words.take(r"\bil y a (deux|trois|\d) ans\b"):
        back = _NUMBERS.get(m[1]) or int(m[1])
        return _year(y - back, f"en {y - back}", f"in {y - back}")
    if words.take(r"\b(?:ce mois ci|ce mois|le mois en cours)\b"):
        return _month(y, today.month)
    if words.take(r"\ble mois (?:dernier|passe|precedent)\b"):
        last = today.replace(day=1) - timedelta(days=1)
        return _month(last.year, last.month)
    if words.take(r"\ble mois prochain\b"):
        nxt = today.replace(day=28) + timedelta(days=4)
        return _month(nxt.year, nxt.month)
    if m := words.take(
        r"\b(\d{1,2}|deux|trois|six|douze|dix huit|vingt quatre) derniers mois\b"
        r"|\bsur (?:un|1) an\b|\bdepuis un an\b"
    ):
        months = (_NUMBERS.get(m[1]) or int(m[1])) if m[1] else 12
        start = today - timedelta(days=round(months * 30.44))
        return Period(
            f"sur les {months} derniers mois", f"over the last {months} months", start, today,
            stated=(months,),
        )  # fmt: skip
    return None


def _quarters(words: Words, today: date) -> Period | None:
    m = words.take(
        rf"\b(?:(?P<q>{_QUARTER_WORDS}) (?P<kind>trimestre|semestre)|(?P<t>t[1-4]))"
        rf"(?: (?:de |d )?(?:l annee )?(?P<y>{_YEAR}))?\b"
    )
    if m is None:
        return None
    year = int(m["y"]) if m["y"] else today.year
    if m["t"]:
        n, kind = int(m["t"][1]), "trimestre"
    else:
        n, kind = _ORDINALS[m["q"]], m["kind"]
    if m["q"] == "dernier" and not m["y"]:
        # "le dernier trimestre": the last one over, not the one under way.
        size = 3 if kind == "trimestre" else 6
        n = (today.month - 1) // size
        if n == 0:
            n, year = 12 // size, year - 1
    if kind == "semestre":
        n = min(n, 2)
        first, last = (1, 6) if n == 1 else (7, 12)
        names = ("premier", "second")[n - 1], ("first", "second")[n - 1]
        fr, en = f"au {names[0]} semestre {year}", f"in the {names[1]} half of {year}"
    else:
        first, last = 3 * n - 2, 3 * n
        names = ("premier", "deuxième", "troisième", "quatrième")[n - 1], (
            "first", "second", "third", "fourth",
        )[n - 1]  # fmt: skip
        fr, en = f"au {names[0]} trimestre {year}", f"in the {names[1]} quarter of {year}"
    end = date(year, last, monthrange(year, last)[1])
    return Period(fr, en, date(year, first, 1), end, stated=(year,))


def _ranges(words: Words, today: date) -> Period | None:
    m = words.take(
        rf"\b(?:entre|de|du|d) (?:le mois de )?(?P<m1>{_MONTH})(?: (?P<y1>{_YEAR}))? "
        rf"(?:et|a|au|jusqu a|jusqu en) (?:le mois de )?(?P<m2>{_MONTH})(?: (?P<y2>{_YEAR}))?\b"
    )
    if m is not None:
        m1, m2 = _month_of(m["m1"]), _month_of(m["m2"])
        y2 = int(m["y2"]) if m["y2"] else int(m["y1"]) if m["y1"] else today.year
        y1 = int(m["y1"]) if m["y1"] else (y2 if m1 <= m2 else y2 - 1)
        start, end = date(y1, m1, 1), date(y2, m2, monthrange(y2, m2)[1])
        fr = f"entre {MONTHS_FR[m1 - 1]} {y1} et {MONTHS_FR[m2 - 1]} {y2}"
        en = f"between {MONTHS_EN[m1 - 1]} {y1} and {MONTHS_EN[m2 - 1]} {y2}"
        return Period(fr, en, start, end, stated=tuple(sorted({y1, y2})))
    m = words.take(rf"\b(?:entre|de) (?P<y1>{_YEAR}) (?:et|a) (?P<y2>{_YEAR})\b")
    if m is not None:
        y1, y2 = sorted((int(m["y1"]), int(m["y2"])))
        return Period(
            f"entre {y1} et {y2}", f"between {y1} and {y2}", date(y1, 1, 1), date(y2, 12, 31),
            stated=(y1, y2),
        )  # fmt: skip
    m = words.take(
        rf"\bdepuis (?:le )?(?:(?:1er|1|premier) )?(?:(?:le )?mois (?:de |d )?)?"
        rf"(?:(?P<m>{_MONTH})(?: (?P<my>{_YEAR}))?|(?P<y>{_YEAR}))\b"
    )
    if m is not None:
        if m["y"]:
            start = date(int(m["y"]), 1, 1)
            return Period(
                f"depuis {start.year}", f"since {start.year}", start, today, stated=(start.year,)
            )
        month = _month_of(m["m"])
        year = int(m["my"]) if m["my"] else (today.year if month <= today.month else today.year - 1)
        start = date(year, month, 1)
        return Period(
            f"depuis {MONTHS_FR[month - 1]} {year}", f"since {MONTHS_EN[month - 1]} {year}",
            start, today, stated=(year,),
        )  # fmt: skip
    return None


def _month_years(words: Words, today: date) -> Period | None:
    m = words.take(rf"\b(?P<m>{_MONTH}) (?:de |d )?(?P<y>{_YEAR})\b")
    if m is None:
        return None
    return _month(int(m["y"]), _month_of(m["m"]))


def _years(words: Words, today: date) -> Period | None:
    m = words.take(
        rf"\b(?:(?:sur les |de mes |des )?revenus (?:de l annee |de |des |en )?)(?P<y>{_YEAR})\b"
    )
    if m is not None:
        y = int(m["y"])
        return Period(
            f"sur les revenus {y}", f"on {y} income", date(y, 1, 1), date(y, 12, 31),
            income_year=True, stated=(y,),
        )  # fmt: skip
    found = words.take_all(rf"\b{_YEAR}\b")
    if not found:
        return None
    years = sorted({int(m[0]) for m in found})
    if len(years) == 1:
        return _year(years[0], f"en {years[0]}", f"in {years[0]}")
    first, last = years[0], years[-1]
    fr = ", ".join(str(y) for y in years[:-1]) + f" et {last}"
    en = ", ".join(str(y) for y in years[:-1]) + f" and {last}"
    return Period(
        f"en {fr}", f"in {en}", date(first, 1, 1), date(last, 12, 31), stated=tuple(years)
    )


def _months(words: Words, today: date) -> Period | None:
    found = words.take_all(rf"\b{_MONTH}\b")
    if not found:
        return None
    months = sorted({_month_of(m[0]) for m in found})
    fr = " et ".join(MONTHS_FR[n - 1] for n in months)
    en = " and ".join(MONTHS_EN[n - 1] for n in months)
    return Period(f"en {fr}", f"in {en}", months=frozenset(months))


def _year(year: int, fr: str, en: str) -> Period:
    return Period(fr, en, date(year, 1, 1), date(year, 12, 31), stated=(year,))


def _month(year: int, month: int) -> Period:
    end = date(year, month, monthrange(year, month)[1])
    return Period(
        f"en {MONTHS_FR[month - 1]} {year}", f"in {MONTHS_EN[month - 1]} {year}",
        date(year, month, 1), end, stated=(year,),
    )  # fmt: skip


def _month_of(word: str) -> int:
    number = 2 if word == "fev" else month_number(word)
    assert number is not None, word
    return number


def fr_date(day: date) -> str:
    """``1er mars 2025``, ``15 octobre 2025``."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS_FR[day.month - 1]} {day.year}"


def en_date(day: date) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
