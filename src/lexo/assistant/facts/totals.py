"""Answers over several documents: how many, which, how much in all, on average, the highest,
the lowest, the latest or the earliest amount."""

from __future__ import annotations

from lexo.assistant.facts import phrases as say
from lexo.assistant.facts.answer import (
    FactAnswer,
    Said,
    amount,
    filters,
    kind_of,
    moment,
    value,
    who,
)
from lexo.assistant.facts.question import Query
from lexo.store.fact_rows import FactRecord

#: Types one pays: amounts of other kinds are not added to theirs.
PAYABLE = frozenset({"facture", "avis_imposition", "quittance_loyer"})
#: Most documents listed in one answer.
MOST_LISTED = 10
AMOUNTS = ("amount_total", "amount_untaxed", "amount_tax")


def count(q: Query, pool: list[FactRecord]) -> FactAnswer:
    said = Said()
    n = said.number(len(pool))
    fr_n, en_n = say.nouns(kind_of(q, pool) if q.types or q.soft_types else None, n)
    fr_f, en_f = filters(q, pool)
    cited = [(r.id, "date" if value(r, "date") else "issuer") for r in pool]
    return said.answer(
        f"Vous avez {fr_n}{fr_f}.", f"You have {en_n}{en_f}.", "count", pool, cited, q
    )


def listing(q: Query, pool: list[FactRecord]) -> FactAnswer:
    said = Said()
    shown = pool[: q.limit or MOST_LISTED]
    fr_items, en_items = [], []
    for r in shown:
        when = moment(r)
        d_fr, d_en = said.day(when) if when else (r.title or r.original_name,) * 2
        total = amount(r, "amount_total")
        if total is not None:
            m_fr, m_en = said.money(total, r)
            d_fr, d_en = f"{d_fr} ({m_fr})", f"{d_en} ({m_en})"
        fr_items.append(d_fr)
        en_items.append(d_en)
    kind = kind_of(q, pool)
    fr_f, en_f = filters(q, pool)
    if q.limit:
        fr1, frn, feminine, _, enn = say.type_name(kind)
        n = said.number(len(shown))
        last = (
            ("dernière" if feminine else "dernier")
            if n == 1
            else ("dernières" if feminine else "derniers")
        )
        fr_n, en_n = f"vos {n} {last} {fr1 if n == 1 else frn}", f"your last {n} {enn}"
    else:
        n = said.number(len(pool))
        fr_n, en_n = say.nouns(kind, n)
    rest = 0 if q.limit else len(pool) - len(shown)
    more_fr = f" ; et {rest} autre{'s' if rest > 1 else ''}" if rest else ""
    more_en = f"; and {rest} more" if rest else ""
    cited = [
        (r.id, "amount_total" if value(r, "amount_total") is not None else "date") for r in shown
    ]
    return said.answer(
        f"{say.capital(fr_n)}{fr_f} : {' ; '.join(fr_items)}{more_fr}.",
        f"{say.capital(en_n)}{en_f}: {'; '.join(en_items)}{more_en}.",
        "list",
        shown,
        cited,
        q,
    )


def with_amount(q: Query, pool: list[FactRecord]) -> tuple[str, list[FactRecord]]:
    name = q.field if q.field in AMOUNTS else "amount_total"
    held = [r for r in pool if amount(r, name) is not None]
    if not q.types and q.intent not in ("latest", "earliest"):
        # Amounts of different kinds are not added up: what was paid (not a reminder of it,
        # which would count it twice), or what was earned.
        wanted = {"bulletin_salaire"} if q.earned and not q.paid else PAYABLE
        held = [r for r in held if r.doc_type in wanted] or held
    return name, held


def aggregate(q: Query, pool: list[FactRecord]) -> FactAnswer | None:
    name, held = with_amount(q, pool)
    if not held:
        return None
    currency = str(value(held[0], "currency") or "EUR").upper()
    held = [r for r in held if str(value(r, "currency") or "EUR").upper() == currency]
    said = Said()
    kind = kind_of(q, held)
    fr_f, en_f = filters(q, held)
    figures = [amount(r, name) or 0.0 for r in held]
    n = said.number(len(held))
    fr_n, en_n = say.nouns(kind, n)
    label_fr, _, label_en = say.field_name(name)
    cited = [(r.id, name) for r in held]
    if q.intent in ("max", "min"):
        pick = (max if q.intent == "max" else min)(held, key=lambda r: amount(r, name) or 0.0)
        m_fr, m_en = said.money(amount(pick, name) or 0.0, pick)
        d_fr, d_en = said.document(pick)
        which_fr, which_en = (
            ("le plus élevé", "highest") if q.intent == "max" else ("le plus bas", "lowest")
        )
        return said.answer(
            f"{say.capital(label_fr)} {which_fr} parmi vos {fr_n}{fr_f} est de {m_fr} ({d_fr}).",
            f"The {which_en} {label_en} among your {en_n}{en_f} is {m_en} ({d_en}).",
            q.intent,
            [pick, *[r for r in held if r is not pick]],
            [(pick.id, name)],
            q,
        )
    total = round(sum(figures), 2)
    if q.intent == "average":
        m_fr, m_en = said.money(total / len(held), held[0])
        return said.answer(
            f"{say.capital(label_fr)} moyen de vos {fr_n}{fr_f} est de {m_fr}.",
            f"The average {label_en} of your {en_n}{en_f} is {m_en}.",
            "average",
            held,
            cited,
            q,
        )
    m_fr, m_en = said.money(total, held[0])
    if kind == "bulletin_salaire" and name == "amount_total":
        fr = f"Vous avez perçu {m_fr} de salaire net{fr_f}, sur {fr_n}."
        en = f"You received {m_en} in net pay{en_f}, over {en_n}."
    elif q.paid:
        named = who(q, held)
        what_fr, what_en = {
            "amount_tax": (" de TVA", " in VAT"),
            "amount_untaxed": (" hors taxes", " before tax"),
            "quittance_loyer": (" de loyer", " in rent"),
            "avis_imposition": (" d'impôts", " in taxes"),
        }.get(name if name != "amount_total" else kind or "", ("", ""))
        to_fr, to_en = (f" {say.to(named[0])}", f" to {named[1]}") if named else ("", "")
        if q.topics:
            to_fr += f" ({', '.join(q.topics)})"
            to_en += f" ({', '.join(q.topics)})"
        period_fr = f" {q.period.fr}" if q.period else ""
        period_en = f" {q.period.en}" if q.period else ""
        fr = f"Vous avez payé {m_fr}{what_fr}{to_fr}{period_fr}, sur {fr_n}."
        en = f"You paid {m_en}{what_en}{to_en}{period_en}, over {en_n}."
    elif len(held) == 1:
        d_fr, d_en = said.document(held[0])
        fr = f"{say.capital(label_fr)} de {d_fr} est de {m_fr}."
        en = f"The {label_en} of {d_en} is {m_en}."
    else:
        fr = f"Le total ({label_fr}) de vos {fr_n}{fr_f} est de {m_fr}."
        en = f"The total ({label_en}) of your {en_n}{en_f} is {m_en}."
    # Documents of the kind summed whose amount was not read: said, not guessed.
    missing = [r for r in pool if r.doc_type == kind and amount(r, name) is None] if kind else []
    if missing:
        k = said.number(len(missing))
        k_fr, k_en = say.nouns(kind, k)
        agree = ("e" if say.type_name(kind)[2] else "") + ("s" if k > 1 else "")
        neg, verb = ("n'est", "is") if k == 1 else ("ne sont", "are")
        fr += f" {say.capital(k_fr)} sans montant lu {neg} pas compté{agree}."
        en += f" {say.capital(k_en)} with no amount read {verb} not counted."
    return said.answer(fr, en, "sum", held, cited, q)


def one_amount(q: Query, pool: list[FactRecord]) -> FactAnswer | None:
    name, held = with_amount(q, pool)
    if not held:
        return None
    pick = held[-1] if q.intent == "earliest" else held[0]
    said = Said()
    m_fr, m_en = said.money(amount(pick, name) or 0.0, pick)
    d_fr, d_en = said.document(pick)
    label_fr, _, label_en = say.field_name(name)
    period = value(pick, "period")
    if pick.doc_type == "bulletin_salaire" and name == "amount_total" and isinstance(period, str):
        when_fr, when_en = say.month(int(period[:4]), int(period[5:7]))
        fr = f"Votre salaire net de {when_fr} est de {m_fr} ({d_fr})."
        en = f"Your net pay for {when_en} is {m_en} ({d_en})."
    elif pick.doc_type == "quittance_loyer" and name == "amount_total" and isinstance(period, str):
        when_fr, when_en = say.month(int(period[:4]), int(period[5:7]))
        fr = f"Votre loyer de {when_fr}, charges comprises, est de {m_fr} ({d_fr})."
        en = f"Your rent for {when_en}, charges included, is {m_en} ({d_en})."
    else:
        fr = f"{say.capital(label_fr)} de {d_fr} est de {m_fr}."
        en = f"The {label_en} of {d_en} is {m_en}."
    if len(held) > 1 and not q.latest and q.intent != "earliest":
        n = said.number(len(held))
        kind = kind_of(q, held)
        fr_n, en_n = say.nouns(kind, n)
        which = "la plus récente" if say.type_name(kind)[2] else "le plus récent"
        fr_f, en_f = filters(q, held)
        fr += f" C'est {which} de vos {fr_n}{fr_f}."
        en += f" It is the most recent of your {en_n}{en_f}."
    return said.answer(fr, en, q.intent or "latest", [pick], [(pick.id, name)], q)
