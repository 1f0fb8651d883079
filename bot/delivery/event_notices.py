"""Renderers for events, in the recipient's language: the invitation with Register / Maybe /
Not going, a place freed from the waiting list, a change of time or place and a cancellation
(with a new calendar file), the reminders (with the online link), the materials with a rating,
and staff's approval of a partner's event. The service chose the recipients; a renderer words it
and drops what no longer makes sense (an invitation to an event since cancelled)."""

from __future__ import annotations

import html
from typing import Any

from aiogram.types import BufferedInputFile

from bot.delivery.attachments import Attachment, attachments
from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import event_calendar, event_districts, event_live, event_results, events
from bot.services.errors import ServiceError
from bot.services.events import BISHKEK
from bot.views.buttons import Row, button, markup
from bot.views.events import (
    Ev,
    answer_row,
    event_text,
    library_rows,
    material_lines,
    open_button,
    participants_buttons,
    participants_text,
    rating_row,
    when_label,
)
from storage.db import Database
from storage.enums import EventStatus, RegistrationStatus
from storage.models import Event
from storage.types import utcnow


def _ics(event: Event, language: str) -> BufferedInputFile:
    return BufferedInputFile(event_calendar.ics(event, language),
                             filename=event_calendar.ics_name(event))


def _title(event: Event, language: str) -> str:
    return f"<b>{html.escape(event.title(language))}</b>"


async def render_event(db: Database, to: Recipient, kind: str,
                       payload: dict[str, Any]) -> Rendered | None:
    found = await events.notice_data(db, int(payload["event_id"]), to.member_id)
    if found is None:
        return None
    event, reg, materials = found
    eid = event.id or 0
    lang = to.language
    status = RegistrationStatus(reg.status) if reg is not None else None
    registered = status == RegistrationStatus.REGISTERED
    host = await events.host_name(db, event.host_municipality_id, lang)
    rows: list[Row] = []
    docs: tuple[BufferedInputFile, ...] = ()
    files: tuple[Attachment, ...] = ()
    if kind == "event_invite":
        if event.status != EventStatus.PUBLISHED or event.registration_until <= utcnow():
            return None
        limits = await event_districts.event_limits(db, event, lang)
        body = "📨 " + _("You are invited:") + "\n\n" + event_text(event, lang, show_link=False,
                                                                 host=host, limits=limits)
        if status in (None, RegistrationStatus.INVITED):
            rows.append(answer_row(eid))
        rows.append(open_button(eid))
    elif kind == "event_promoted":
        if not registered or event.status != EventStatus.PUBLISHED:
            return None
        body = "🎉 " + _("A seat became free and you are now registered for {title}.").format(
            title=_title(event, lang)) + "\n\n" + event_text(event, lang, show_link=True,
                                                           host=host, seats=False)
        rows = [[button("🚫 " + _("Cancel my registration"), Ev(action="cancel", event_id=eid))],
                open_button(eid)]
        docs = (_ics(event, lang),)
    elif kind == "event_changed":
        if not registered or event.status != EventStatus.PUBLISHED:
            return None
        if int(payload.get("sequence", event.sequence)) != event.sequence:
            return None  # a later change follows with the newest calendar file
        body = "✏️ " + _("The event {title} has changed. Here is the new calendar file.").format(
            title=_title(event, lang)) + "\n\n" + event_text(event, lang, show_link=True,
                                                           host=host, seats=False)
        rows = [open_button(eid)]
        docs = (_ics(event, lang),)
    elif kind == "event_cancelled":
        body = "🚫 " + _("The event {title} ({when}) is cancelled.").format(
            title=_title(event, lang), when=when_label(event, lang))
        if registered:
            body += "\n" + _("The calendar file below removes it from your calendar.")
            docs = (_ics(event, lang),)
    elif kind == "event_reminder":
        if not registered or event.status != EventStatus.PUBLISHED or event.starts_at <= utcnow():
            return None
        if payload.get("when") != "day":
            line = _("In an hour: {title}")
        elif event.starts_at.astimezone(BISHKEK).date() == utcnow().astimezone(BISHKEK).date():
            line = _("Today: {title}")  # registered less than a day ahead
        else:
            line = _("Tomorrow: {title}")
        body = "⏰ " + line.format(title=_title(event, lang)) + "\n\n" + event_text(
            event, lang, show_link=True, host=host, seats=False)
        rows = [[button("🚫 " + _("Cancel my registration"), Ev(action="cancel", event_id=eid))],
                open_button(eid)]
    elif kind == "event_materials":
        if reg is None or not reg.attended or not materials:
            return None
        body = "📎 " + _("Thank you for taking part in {title}. Here are the materials. How "
                        "useful was it?").format(title=_title(event, lang))
        body += "\n" + material_lines(materials)
        rows = [rating_row(eid)] if reg.rating is None else []
        rows += library_rows(materials)
        rows.append(open_button(eid))
        files = attachments(event_results.files_of(materials))
    elif kind == "event_for_approval":
        if event.status != EventStatus.AWAITING_APPROVAL:
            return None
        body = "🆕 " + _("A partner's event waits for your approval:") + "\n\n" + event_text(
            event, lang, show_link=True, host=host)
        rows = [[button("✅ " + _("Approve"), Ev(action="approve", event_id=eid)),
                 button("❌ " + _("Reject"), Ev(action="reject", event_id=eid))],
                open_button(eid)]
    elif kind == "event_decided":
        if payload.get("approved"):
            body = "✅ " + _("The Union staff approved your event {title}; the invitations are "
                            "on their way.").format(title=_title(event, lang))
        else:
            body = "❌ " + _("The Union staff did not approve your event {title}.").format(
                title=_title(event, lang))
        rows = [open_button(eid)]
    else:
        return None
    return Rendered(body[:4000], markup(rows) if rows else None, attachments=files,
                    uploads=docs)


KINDS = ("event_invite", "event_promoted", "event_changed", "event_cancelled", "event_reminder",
         "event_materials", "event_for_approval", "event_decided")


def _register(kind: str) -> None:
    async def render(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
        return await render_event(db, to, kind, payload)

    renderer(kind)(render)


for _kind in KINDS:
    _register(_kind)


@renderer("event_list_live")
async def render_list_live(db: Database, to: Recipient, payload: dict[str, Any]
                           ) -> Rendered | None:
    """The organiser's open participant list, edited to what it is now (see `event_live`);
    dropped when that message no longer shows the list or the member no longer organises."""
    event_id, message_id = int(payload["event_id"]), int(payload["message_id"])
    if await event_live.watched_message(db, to.member_id, event_id) != message_id:
        return None
    try:
        found, people = await event_results.participants(db, to.member_id, event_id,
                                                         to.language)
    except ServiceError:
        return None
    return Rendered(participants_text(found, people, to.language),
                    markup(participants_buttons(found, people, utcnow())), edit=message_id)
