"""Events in time: the calendar file each registered member gets (RFC 5545, written by the
`icalendar` library) and the reminders the day before and the hour before.

One UID per event and a SEQUENCE raised by every change let a phone replace the entry it holds;
a cancelled event's file (METHOD:CANCEL) removes it. Each reminder is marked on the registration
by a conditional update in the job that enqueues it, so it goes once whoever runs the job."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select, update

from bot.services import notify, policy
from bot.services.errors import InvalidState
from bot.services.events import DAY_BEFORE, HOUR_BEFORE, load, registration_of
from storage.db import Database
from storage.enums import EventStatus, RegistrationStatus
from storage.models import Event, EventRegistration

# --- calendar files (RFC 5545, written by the icalendar library) ------------------------------


def ics(event: Event, language: str, *, with_link: bool = True) -> bytes:
    """The event as an iCalendar file; a cancelled event's file removes the entry."""
    from icalendar import Calendar
    from icalendar import Event as VEvent

    cancelled = event.status == EventStatus.CANCELLED
    cal = Calendar()
    cal.add("prodid", "-//Birge//Union of LSGs//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    entry = VEvent()
    entry.add("uid", f"event-{event.id}@birge.kg")
    entry.add("sequence", event.sequence)
    entry.add("dtstamp", (event.changed_at or event.created_at).astimezone(UTC))
    # In UTC ("…Z"): every calendar reads it without a time zone definition in the file.
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.title(language))
    description = event.description(language)
    if with_link and event.online_url:
        description += "\n\n" + event.online_url
        entry.add("url", event.online_url)
    entry.add("description", description)
    place = event.address or (event.online_url if with_link else None)
    if place:
        entry.add("location", place)
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(entry)
    return bytes(cal.to_ical())


def ics_name(event: Event) -> str:
    return f"event-{event.id}.ics"


async def calendar_file(db: Database, member_id: int, event_id: int,
                        language: str) -> tuple[str, bytes]:
    """A registered member's calendar file; refused for a cancelled event."""
    async with db.read() as s:
        actor = await policy.load_actor(s, member_id)
        event = await load(s, event_id)
        reg = await registration_of(s, event_id, member_id)
        organiser = policy.can_organise_event(actor, event.created_by_id)
        registered = reg is not None and reg.status == RegistrationStatus.REGISTERED
        if not (registered and actor.active) and not organiser:
            await policy.ensure(db, actor, False, policy.Action.ANSWER_EVENT, event_id)
        if event.status == EventStatus.CANCELLED:
            raise InvalidState("event_cancelled")
        return ics_name(event), ics(event, language)


# --- reminders ---------------------------------------------------------------------------------


async def send_reminders(db: Database, now: datetime) -> tuple[int, int]:
    """The day before and the hour before, to everyone registered; each marker is set by a
    conditional update, so each reminder goes once whoever runs the job and however often.
    The hour-before one is urgent (not held by quiet hours). Returns (day, hour)."""
    day = hour = 0
    async with db.transaction() as s:
        due = (await s.exec(
            select(EventRegistration.id, Event.id, Event.starts_at)
            .join(Event, col(Event.id) == EventRegistration.event_id)
            .where(Event.status == EventStatus.PUBLISHED,
                   EventRegistration.status == RegistrationStatus.REGISTERED,
                   col(Event.starts_at) > now, col(Event.starts_at) <= now + DAY_BEFORE,
                   col(EventRegistration.reminded_hour_at).is_(None))
            .order_by(col(Event.starts_at), col(EventRegistration.id)))).all()
        for reg_id, event_id, starts_at in due:
            if starts_at - now <= HOUR_BEFORE:
                marked = await s.exec(update(EventRegistration).where(
                    col(EventRegistration.id) == reg_id,
                    col(EventRegistration.reminded_hour_at).is_(None))
                    .values(reminded_hour_at=now,
                            reminded_day_at=func.coalesce(
                                col(EventRegistration.reminded_day_at), now)))
                which = "hour"
            else:
                marked = await s.exec(update(EventRegistration).where(
                    col(EventRegistration.id) == reg_id,
                    col(EventRegistration.reminded_day_at).is_(None))
                    .values(reminded_day_at=now))
                which = "day"
            if not marked.rowcount:
                continue
            member_id = (await s.exec(select(EventRegistration.member_id).where(
                EventRegistration.id == reg_id))).one()
            notify.enqueue(s, member_id, "event_reminder", event_id=event_id, when=which,
                           urgent=which == "hour")
            if which == "hour":
                hour += 1
            else:
                day += 1
    return day, hour
