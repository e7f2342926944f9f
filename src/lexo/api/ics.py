"""The deadlines as an iCalendar feed (RFC 5545), for the person's calendar application.

One all-day event per deadline, with a reminder three days before. The UID depends only on
the document and the due date, so a calendar that subscribes to the feed updates its events
instead of duplicating them, and drops one once it is marked paid. ``icalendar`` is imported
only when a feed is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from lexo.understand.amounts import format_amount

#: The reminder, before the due date.
ALARM_BEFORE = timedelta(days=3)


def summary_of(deadline: dict[str, Any]) -> str:
    """ "À payer : EDF — 84,12 €" (the title when the issuer is unknown; no amount unknown)."""
    text = f"À payer : {deadline['issuer'] or deadline['title']}"
    if deadline["amount"] is not None:
        text += f" — {format_amount(deadline['amount'], deadline['currency'], narrow=True)}"
    return text


def calendar(deadlines: Iterable[dict[str, Any]], *, stamp: datetime | None = None) -> bytes:
    """The iCalendar text of ``deadlines`` (as :meth:`lexo.store.deadlines.Deadlines.find`
    lists them)."""
    from icalendar import Alarm, Calendar, Event

    stamp = stamp or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", "-//LEXO//Echeances//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "LEXO — Échéances")
    for deadline in deadlines:
        day = datetime.strptime(deadline["due_date"], "%Y-%m-%d").date()
        summary = summary_of(deadline)
        event = Event()
        event.add("uid", f"lexo-deadline-{deadline['document_id']}-{deadline['due_date']}@lexo")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)  # a date: an all-day event
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", summary)
        event.add(
            "description",
            f"{deadline['title']}\nDocument LEXO n° {deadline['document_id']}",
        )
        event.add("transp", "TRANSPARENT")  # a reminder, not a busy day
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
