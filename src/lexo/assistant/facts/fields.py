"""Answers from one document's fields: an identifier, the next or a given due date, a
document's date, its issuer, the period it covers."""

from __future__ import annotations

from datetime import date

from lexo.assistant.facts import phrases as say
from lexo.assistant.facts.answer import FactAnswer, Said, amount, field_date, value
from lexo.assistant.facts.question import Query
from lexo.assistant.facts.rules import FALLBACK, FALLBACK_TYPES
from lexo.store.fact_rows import FactRecord


def field_value(q: Query, pool: list[FactRecord]) -> FactAnswer | None:
    name = q.field or ""
    held = [r for r in pool if value(r, name) is not None]
    if not held and name in FALLBACK:
        name = FALLBACK[name]
        held = [r for r in pool if value(r, name) is not None]
        held = [r for r in held if r.doc_type in FALLBACK_TYPES[q.field or ""]] or held
    if not held:
        return None
    if name in ("iban", "bic") and not q.issuers.named and not q.types:
        # "mon IBAN": the user's own account, on a statement or a mandate, before a payee's.
        own = [r for r in held if r.doc_type in ("releve_bancaire", "contrat", "bulletin_salaire")]
        held = own or held
    pick = held[-1] if q.earliest else held[0]
    said = Said()
    stated = value(pick, name)
    said.values.append(stated)
    label_fr, agreed, label_en = say.field_name(name)
    d_fr, d_en = said.document(pick)
    text = say.shown(name, stated)
    fr = f"{say.capital(label_fr)} {agreed} sur {d_fr} est {text}."
    en = f"The {label_en} on {d_en} is {text}."
    same = [r for r in held if value(r, name) == stated]
    others = list(dict.fromkeys(str(value(r, name)) for r in held if value(r, name) != stated))
    if others and not (q.latest or q.earliest):
        said.values.extend(others[:3])
        listed = ", ".join(say.shown(name, v) for v in others[:3])
        fr += f" D'autres documents indiquent : {listed}."
        en += f" Other documents give: {listed}."
    return said.answer(fr, en, "value", same, [(r.id, name) for r in same], q)


def due(q: Query, pool: list[FactRecord], today: date) -> FactAnswer | None:
    held = [r for r in pool if field_date(r, "due_date") is not None]
    if not held:
        return None
    said = Said()
    targeted = (
        q.latest
        or len(held) == 1
        or bool(q.ids)
        or (q.period is not None and q.period.day is not None)
    )
    upcoming = sorted(
        (r for r in held if (field_date(r, "due_date") or date.min) >= today),
        key=lambda r: field_date(r, "due_date") or date.min,
    )
    if targeted:
        pick = held[0]
    elif upcoming:
        pick = upcoming[0]
    else:
        pick = max(held, key=lambda r: field_date(r, "due_date") or date.min)
    due = field_date(pick, "due_date")
    assert due is not None
    when_fr, when_en = said.day(due)
    d_fr, d_en = said.document(pick)
    total = amount(pick, "amount_total")
    m_fr = m_en = ""
    if total is not None:
        money_fr, money_en = said.money(total, pick)
        m_fr, m_en = f" (montant : {money_fr})", f" (amount: {money_en})"
    cited = [(pick.id, "due_date")] + ([(pick.id, "amount_total")] if total is not None else [])
    if targeted:
        is_fr, is_en = ("est", "is") if due >= today else ("était", "was")
        fr = f"La date limite de paiement de {d_fr} {is_fr} le {when_fr}{m_fr}."
        en = f"The payment due date of {d_en} {is_en} {when_en}{m_en}."
    elif upcoming:
        fr = f"Votre prochaine échéance est le {when_fr} : {d_fr}{m_fr}."
        en = f"Your next due date is {when_en}: {d_en}{m_en}."
        if len(upcoming) > 1:
            k = said.number(len(upcoming) - 1)
            s, follow, follows = ("s", "suivent", "follow") if k > 1 else ("", "suit", "follows")
            fr += f" {k} autre{s} échéance{s} {follow}."
            en += f" {k} more due date{s} {follows}."
    else:
        fr = f"Aucune échéance à venir : la dernière était le {when_fr} ({d_fr}){m_fr}."
        en = f"No upcoming due date: the last one was {when_en} ({d_en}){m_en}."
    return said.answer(fr, en, "next_due", [pick], cited, q)


def dated(q: Query, pool: list[FactRecord]) -> FactAnswer | None:
    held = [r for r in pool if field_date(r, "date") is not None]
    if not held:
        return None
    pick = held[0]
    said = Said()
    when = field_date(pick, "date")
    assert when is not None
    when_fr, when_en = said.day(when)
    d_fr, d_en = said.document(pick, dated=False)
    return said.answer(
        f"{say.capital(d_fr)} est datée du {when_fr}." if say.type_name(pick.doc_type)[2]
        else f"{say.capital(d_fr)} est daté du {when_fr}.",
        f"{say.capital(d_en)} is dated {when_en}.",
        "date",
        [pick],
        [(pick.id, "date")],
        q,
    )  # fmt: skip


_ROLES = {
    "bulletin_salaire": ("Votre employeur", "Your employer"),
    "quittance_loyer": ("Votre bailleur", "Your landlord"),
    "releve_bancaire": ("Votre banque", "Your bank"),
}


def issuer(q: Query, pool: list[FactRecord]) -> FactAnswer | None:
    held = [r for r in pool if r.issuer]
    if not held:
        return None
    pick = held[0]
    said = Said()
    d_fr, d_en = said.document(pick, issuer=False)
    role_fr, role_en = _ROLES.get(pick.doc_type or "", ("L'émetteur", "The issuer"))
    return said.answer(
        f"{role_fr} est {say.the(pick.issuer or '')} (d'après {d_fr}).",
        f"{role_en} is {pick.issuer} (according to {d_en}).",
        "issuer",
        [pick],
        [(pick.id, "issuer")],
        q,
    )


def covered(q: Query, pool: list[FactRecord]) -> FactAnswer | None:
    held = [r for r in pool if field_date(r, "period_end") or value(r, "period")]
    if not held:
        return None
    pick = held[0]
    said = Said()
    d_fr, d_en = said.document(pick, dated=pick.doc_type not in say.MONTHLY)
    start, end = field_date(pick, "period_start"), field_date(pick, "period_end")
    cited = [(pick.id, n) for n in ("period_start", "period_end", "period") if value(pick, n)]
    if start is not None and end is not None:
        s_fr, s_en = said.day(start)
        e_fr, e_en = said.day(end)
        fr = f"{say.capital(d_fr)} couvre la période du {s_fr} au {e_fr}."
        en = f"{say.capital(d_en)} covers {s_en} to {e_en}."
    elif end is not None:
        e_fr, e_en = said.day(end)
        fr, en = (
            f"{say.capital(d_fr)} vaut jusqu'au {e_fr}.",
            f"{say.capital(d_en)} runs until {e_en}.",
        )
    else:
        period = str(value(pick, "period"))
        said.values.append(period)
        m_fr, m_en = say.month(int(period[:4]), int(period[5:7]))
        fr, en = f"{say.capital(d_fr)} couvre {m_fr}.", f"{say.capital(d_en)} covers {m_en}."
    return said.answer(fr, en, "period", [pick], cited, q)
