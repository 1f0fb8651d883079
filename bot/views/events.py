"""How events look: kind names, the card (with the online link only for the registered and the
organiser), the buttons each viewer gets, the organiser's live list and report, and the button
payloads (`Ev` for one event, `EvL` for the lists). Shared by the flow, the handlers and the
notices, so an event reads the same everywhere."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Annotated

from aiogram.filters.callback_data import CallbackData

from bot.i18n import _, format_when, pgettext
from bot.services import events
from bot.services.event_results import Participant, Report, files_of, library_items_of
from bot.services.events import EventView
from bot.services.library import label as library_label
from bot.views.buttons import Row, button
from bot.views.buttons import rating_row as stars_row
from bot.views.callbacks import Actions
from bot.views.library import Lib
from storage.enums import EventKind, EventStatus, RegistrationStatus
from storage.models import Event, EventMaterial

BISHKEK = events.BISHKEK
CARD_MAX = 3900


class Ev(CallbackData, prefix="ev"):
    """One event: open, register / maybe / no, cancel, calendar file, organiser's actions
    (list, attendance toggle with the member's id in `value`, materials, report, exports, change,
    cancel, approve), rating (`value` is the stars)."""

    action: Annotated[str, Actions(
        "approve", "att", "cancel", "chplace", "chtime", "csv", "cxl", "cxlok", "files", "ics",
        "lib", "list", "mat", "maybe", "no", "open", "rate", "reg", "reject", "report", "send",
        "xlsx")]
    event_id: int
    value: int = 0


class EvL(CallbackData, prefix="evl"):
    """The events page and its lists: upcoming for me, my registrations, past, organised."""

    view: Annotated[str, Actions(
        "awaiting", "home", "mine", "new", "organised", "past", "upcoming")]


def kind_label(kind: EventKind | str) -> str:
    labels = {
        EventKind.WEBINAR: _("Webinar"),
        EventKind.TRAINING: _("Training"),
        EventKind.EXCHANGE: _("Exchange visit"),
        EventKind.BOARD: _("Board meeting"),
        EventKind.CONFERENCE: _("Conference"),
        EventKind.COMMUNITY: _("Community meeting"),
    }
    try:
        return labels.get(EventKind(kind), str(kind))
    except ValueError:
        return str(kind)


KIND_EMOJI = {"webinar": "💻", "training": "🎓", "exchange": "🚌", "board": "🏛",
              "conference": "🎤", "community": "👥"}


def status_label(status: RegistrationStatus | str) -> str:
    labels = {
        RegistrationStatus.INVITED: _("invited"),
        RegistrationStatus.REGISTERED: _("registered"),
        RegistrationStatus.WAITLISTED: _("on the waiting list"),
        RegistrationStatus.MAYBE: _("maybe"),
        RegistrationStatus.DECLINED: _("not going"),
        RegistrationStatus.CANCELLED: pgettext("registration", "cancelled"),
    }
    return labels.get(RegistrationStatus(status), str(status))


def when_label(event: Event, locale: str) -> str:
    """`25 дек. 2026 г., 10:00 – 12:00` in Bishkek time (the end's date only when it differs)."""
    start = event.starts_at.astimezone(BISHKEK)
    end = event.ends_at.astimezone(BISHKEK)
    text = format_when(start, locale, BISHKEK)
    if end.date() == start.date():
        return text + " – " + f"{end:%H:%M}"
    return text + " – " + format_when(end, locale, BISHKEK)


def day_label(moment: datetime, locale: str) -> str:
    return format_when(moment, locale, BISHKEK)


def event_line(event: Event, locale: str, status: str | None = None) -> str:
    """One event as a list button: `💻 12.12 10:00 · Title`."""
    start = event.starts_at.astimezone(BISHKEK)
    line = f"{KIND_EMOJI.get(event.kind, '📅')} {start:%d.%m %H:%M} · {event.title(locale)}"
    if status in (RegistrationStatus.WAITLISTED, RegistrationStatus.MAYBE):
        line = "⏳ " + line if status == RegistrationStatus.WAITLISTED else "❔ " + line
    return line[:60]


def event_text(event: Event, locale: str, *, show_link: bool, host: str | None = None,
               seats: bool = True, limits: list[tuple[str, int]] | None = None) -> str:
    """The event in the member's language; the online link only when `show_link`."""
    lines = [f"{KIND_EMOJI.get(event.kind, '📅')} <b>{html.escape(event.title(locale))}</b>",
             f"{kind_label(event.kind)} · {events.event_code(event.id or 0)}"]
    if event.status == EventStatus.CANCELLED:
        lines.append("🚫 " + _("Cancelled"))
    elif event.status == EventStatus.AWAITING_APPROVAL:
        lines.append("⏳ " + _("Waiting for approval by the Union staff"))
    lines.append("🕘 " + _("When: {when}").format(when=when_label(event, locale)))
    if host:
        lines.append("🏘 " + _("Host municipality: {name}").format(name=html.escape(host)))
    if event.address:
        lines.append("📍 " + _("Place: {value}").format(value=html.escape(event.address)))
    if event.online_url:
        if show_link:
            lines.append("🔗 " + _("Online: {link}").format(link=html.escape(event.online_url)))
        else:
            lines.append("🔗 " + _("Online: the link is shown to those registered"))
    if seats:
        lines.append("👥 " + _("Seats: {taken} of {capacity}").format(
            taken=event.registered, capacity=event.capacity)
            + (" · " + _("at most {count} per district").format(count=event.per_district)
               if event.per_district else ""))
        if limits:
            lines.append("🏘 " + _("Own limits: {list}").format(list=html.escape(", ".join(
                f"{name} — {count}" for name, count in limits))))
        lines.append("⏰ " + _("Registration until: {date}").format(
            date=day_label(event.registration_until, locale)))
    lines.append("")
    lines.append(html.escape(event.description(locale)))
    return "\n".join(lines)[:CARD_MAX]


def card_text(view: EventView, locale: str,
              limits: list[tuple[str, int]] | None = None) -> str:
    text = event_text(view.event, locale, show_link=view.registered or view.organiser,
                      host=view.host, limits=limits)
    if view.status is not None and view.status != RegistrationStatus.INVITED:
        mine = _("Your answer: {status}").format(status=status_label(view.status))
        if view.waiting_place:
            mine += " · " + _("place in line: {place}").format(place=view.waiting_place)
        text += "\n\n" + "✅ " + mine if view.registered else "\n\n" + mine
    if view.organiser and view.waiting:
        text += "\n" + _("Waiting list: {count}").format(count=view.waiting)
    if view.materials and (view.organiser or (view.registration and
                                               view.registration.attended)):
        text += "\n\n" + _("Materials:") + "\n" + material_lines(view.materials)
    return text[:4000]


def material_lines(materials: list[EventMaterial]) -> str:
    """Files as 📎 names, library items as 📚 LIB-12 · title."""
    return "\n".join(
        f"📚 {library_label(m.library_item_id)} · {html.escape(m.name)}"
        if m.library_item_id is not None else "📎 " + html.escape(m.name) for m in materials)


def library_rows(materials: list[EventMaterial]) -> list[Row]:
    """A button to each shared library item's card."""
    return [[button(f"📚 {m.name}"[:40], Lib(action="open", item_id=m.library_item_id))]
            for m in library_items_of(materials) if m.library_item_id is not None][:10]


def answer_row(event_id: int) -> Row:
    return [button("✅ " + _("Register"), Ev(action="reg", event_id=event_id)),
            button("❔ " + _("Maybe"), Ev(action="maybe", event_id=event_id)),
            button("❌ " + _("Not going"), Ev(action="no", event_id=event_id))]


def rating_row(event_id: int) -> Row:
    return stars_row(lambda n: Ev(action="rate", event_id=event_id, value=n))


def card_buttons(view: EventView, now: datetime) -> list[Row]:
    event = view.event
    eid = event.id or 0
    rows: list[Row] = []
    upcoming = event.starts_at > now and event.status == EventStatus.PUBLISHED
    open_for = upcoming and event.registration_until > now
    status = view.status
    if upcoming:
        if status in (None, RegistrationStatus.INVITED, RegistrationStatus.DECLINED,
                      RegistrationStatus.CANCELLED) and open_for:
            rows.append(answer_row(eid))
        elif status == RegistrationStatus.MAYBE and open_for:
            rows.append([button("✅ " + _("Register"), Ev(action="reg", event_id=eid)),
                         button("❌ " + _("Not going"), Ev(action="no", event_id=eid))])
        if status in (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
            rows.append([button("🚫 " + _("Cancel my registration"),
                                Ev(action="cancel", event_id=eid))])
    if view.registered and event.status != EventStatus.CANCELLED:
        rows.append([button("📅 " + _("Calendar file"), Ev(action="ics", event_id=eid))])
    attended = view.registration is not None and view.registration.attended
    shared = files_of(view.materials)
    if attended and shared:
        rows.append([button("📎 " + _("Materials ({count})").format(count=len(shared)),
                            Ev(action="files", event_id=eid))])
    if attended or view.organiser:
        rows += library_rows(view.materials)
    if attended and view.registration is not None and view.registration.rating is None \
            and event.starts_at <= now:
        rows.append(rating_row(eid))
    if view.organiser:
        rows.append([button("👥 " + _("Participants"), Ev(action="list", event_id=eid)),
                     button("📊 " + _("Report"), Ev(action="report", event_id=eid))])
        if upcoming:
            rows.append([button("🕘 " + _("Change the time"), Ev(action="chtime", event_id=eid)),
                         button("📍 " + _("Change the place"), Ev(action="chplace",
                                                                 event_id=eid))])
        if event.status in (EventStatus.PUBLISHED, EventStatus.AWAITING_APPROVAL) \
                and event.ends_at > now:
            rows.append([button("🚫 " + _("Cancel the event"), Ev(action="cxl", event_id=eid))])
        if event.starts_at <= now and event.status == EventStatus.PUBLISHED:
            rows.append([button("📎 " + _("Add materials"), Ev(action="mat", event_id=eid)),
                         button("📨 " + _("Send to attendees"), Ev(action="send",
                                                                  event_id=eid))])
    if view.approver and event.status == EventStatus.AWAITING_APPROVAL:
        rows.append([button("✅ " + _("Approve"), Ev(action="approve", event_id=eid)),
                     button("❌ " + _("Reject"), Ev(action="reject", event_id=eid))])
    rows.append([button("⬅️ " + _("Events"), EvL(view="home"))])
    return rows


def participants_text(event: Event, people: list[Participant], locale: str) -> str:
    counts = {s: sum(1 for p in people if p.status == s) for s in ANSWER_ORDER}
    lines = [f"👥 <b>{html.escape(event.title(locale))}</b>",
             _("Registered: {count} of {capacity}").format(
                 count=counts[RegistrationStatus.REGISTERED], capacity=event.capacity),
             _("Waiting list: {count}").format(count=counts[RegistrationStatus.WAITLISTED]),
             _("Maybe: {count}").format(count=counts[RegistrationStatus.MAYBE]),
             _("Attended: {count}").format(count=sum(1 for p in people if p.attended))]
    lines.append("")
    for number, p in enumerate(people, 1):
        mark = "☑️" if p.attended else {RegistrationStatus.REGISTERED: "▫️",
                                        RegistrationStatus.WAITLISTED: "⏳",
                                        RegistrationStatus.MAYBE: "❔"}.get(
            RegistrationStatus(p.status), "▫️")
        lines.append(f"{number}. {mark} {html.escape(p.name)} · {html.escape(p.district)}")
    return "\n".join(lines)[:4000]


ANSWER_ORDER = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED,
                RegistrationStatus.MAYBE)


def participants_buttons(event: Event, people: list[Participant], now: datetime,
                         page: int = 0) -> list[Row]:
    """After the start, one button per participant toggles their attendance."""
    eid = event.id or 0
    rows: list[Row] = []
    if event.starts_at <= now + events_margin():
        for p in people[:40]:
            if p.status == RegistrationStatus.MAYBE and not p.attended:
                continue
            rows.append([button(("☑️ " if p.attended else "▫️ ") + p.name[:40],
                                Ev(action="att", event_id=eid, value=p.member_id))])
    rows.append([button("🔄 " + _("Refresh"), Ev(action="list", event_id=eid)),
                 button("📊 XLSX", Ev(action="xlsx", event_id=eid)),
                 button("📄 CSV", Ev(action="csv", event_id=eid))])
    rows.append([button("⬅️ " + _("Back"), Ev(action="open", event_id=eid))])
    return rows


def events_margin() -> timedelta:
    """Attendance can be marked from half an hour before the start."""
    return timedelta(minutes=30)


def report_text(found: Report, locale: str) -> str:
    event = found.event
    t = found.totals

    def mean(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    lines = [f"📊 <b>{html.escape(event.title(locale))}</b>",
             _("Invited: {count}").format(count=found.invited),
             _("Registered: {count} of {capacity}").format(count=t.registered,
                                                           capacity=event.capacity),
             _("Waiting list: {count}").format(count=t.waiting),
             _("Attended: {count}").format(count=t.attended),
             _("Rating: {mean} ({count} ratings)").format(mean=mean(t.mean), count=t.ratings),
             ""]
    for (region, district), f in found.by_place.items():
        lines.append(f"<b>{html.escape(region)} · {html.escape(district)}</b>: "
                     + _("registered {registered}, waiting {waiting}, attended {attended}, "
                         "rating {mean}").format(registered=f.registered, waiting=f.waiting,
                                                 attended=f.attended, mean=mean(f.mean)))
    return "\n".join(lines)[:4000]


def open_button(event_id: int) -> Row:
    return [button("📂 " + _("Open the event"), Ev(action="open", event_id=event_id))]


def list_rows(items: list[tuple[Event, str]] | list[Event], locale: str) -> list[Row]:
    rows: list[Row] = []
    for item in items:
        event, status = item if isinstance(item, tuple) else (item, None)
        rows.append([button(event_line(event, locale, status),
                            Ev(action="open", event_id=event.id or 0))])
    return rows


def home_buttons(can_create: bool, counts: dict[str, int]) -> list[Row]:
    rows = [[button("📅 " + _("Upcoming for me") + f" ({counts['upcoming']})",
                    EvL(view="upcoming"))],
            [button("✅ " + _("My registrations") + f" ({counts['mine']})", EvL(view="mine"))],
            [button("📎 " + _("Past, with materials") + f" ({counts['past']})",
                    EvL(view="past"))]]
    if can_create:
        rows.append([button("🗂 " + _("Organised") + f" ({counts['organised']})",
                            EvL(view="organised"))])
        if counts.get("awaiting"):
            rows.append([button("⏳ " + _("To approve") + f" ({counts['awaiting']})",
                                EvL(view="awaiting"))])
        rows.append([button("➕ " + _("New event"), EvL(view="new"))])
    return rows
