"""Reading a date or a date and time typed by a member, in Bishkek time, as aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.i18n import _

BISHKEK = ZoneInfo("Asia/Bishkek")
_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s*(?:(\d{1,2})[:.](\d{2}))?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*(?:[T ](\d{1,2}):(\d{2}))?\s*$")


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime | None:
    """`25.12.2026`, `25.12.2026 09:00` or `2026-12-25 09:00`; a bare date means the start of
    that day (or its end, with `end_of_day`). None when it is not a date."""
    text = text[:40]
    m = _DATE.match(text)
    if m:
        day, month, year, hour, minute = m.groups()
    else:
        m = _ISO.match(text)
        if not m:
            return None
        year, month, day, hour, minute = m.groups()
    try:
        if hour is None:
            clock = time(23, 59) if end_of_day else time(0, 0)
        else:
            clock = time(int(hour), int(minute))
        local = datetime.combine(datetime(int(year), int(month), int(day)).date(), clock,
                                 tzinfo=BISHKEK)
    except ValueError:
        return None
    return local.astimezone(UTC)


def no_such_date(text: str) -> bool:
    """Shaped like a date but no such day exists ("31.02.2027", "12.13.2026", "25:70")."""
    return parse_moment(text) is None and bool(_DATE.match(text[:40]) or _ISO.match(text[:40]))


def date_refusal(text: str, future: str) -> str:
    """What to say about a date that was not taken: "no such date" when the day does not exist,
    else `future` (the step's own "send a future date …")."""
    return _("There is no such date. Please check the day and the month.") \
        if no_such_date(text) else future


def today() -> date:
    """Today in Bishkek."""
    from storage.types import utcnow

    return utcnow().astimezone(BISHKEK).date()


def end_of_day(day: date) -> datetime:
    """23:59 of a Bishkek day, as aware UTC (what a deadline picked on the calendar means)."""
    return datetime.combine(day, time(23, 59), tzinfo=BISHKEK).astimezone(UTC)


def calendar_press(value: str, month: bool) -> date | None:
    """The day ("2026-12-25") or the month ("2026-12", read as its first day) a calendar button
    carries (`bot.views.legal.calendar`); None when it is no such date."""
    parts = value.split("-")
    if len(parts) != (2 if month else 3) or not all(
            p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        return None
    try:
        return date(int(parts[0]), int(parts[1]), 1 if month else int(parts[2]))
    except ValueError:
        return None
