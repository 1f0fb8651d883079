"""Events after creation (`/events`): the lists, an event's card, registering, the calendar file,
and the organiser's live list, attendance, materials, report, exports, changes and cancellation.
Every button goes through an `events` service, which re-checks who may do what to the event id
(and the member id) it carries."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.delivery.attachments import attachments, send_attachment
from bot.flows import guard
from bot.flows.event_compose import start_change, start_new
from bot.flows.ui import Event as Update
from bot.flows.ui import remember, show
from bot.i18n import _, __
from bot.services import event_calendar, event_districts, event_live, event_results, events
from bot.services.errors import ServiceError
from bot.services.library import label as events_library_label
from bot.services.members import MemberView
from bot.views.buttons import button, markup, nav_row
from bot.views.callbacks import Menu, Nav
from bot.views.events import (
    Ev,
    EvL,
    card_buttons,
    card_text,
    home_buttons,
    list_rows,
    participants_buttons,
    participants_text,
    report_text,
)
from bot.views.labels import refusal
from storage.db import Database
from storage.enums import RegistrationStatus, Role
from storage.types import utcnow

router = Router(name="events")


class EventInput(StatesGroup):
    materials = State()  # the organiser sends files for the attendees
    comment = State()  # an attendee's comment on their rating


def materials_prompt() -> str:
    return _("Send the materials as documents (presentations, handouts, photos), then press "
             "Done.") + "\n" + _("To share a library item, send its number "
                                 "(<code>LIB-12</code>) or words from its title.")


def _can_create(member: MemberView) -> bool:
    return member.active and bool({Role.UNION_STAFF, Role.DISTRICT_LEADER, Role.PARTNER}
                                  & member.roles)


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    event_id = int((await state.get_data()).get("event_id", 0))
    if step == "comment":
        await message.answer(_("Would you add a comment: what was useful, what to improve? Send "
                               "it, or press Skip."),
                             reply_markup=markup([[button(_("Skip"), Nav(action="cancel"))]]))
    else:
        await message.answer(materials_prompt(),
                             reply_markup=markup([[button(_("Done") + " ➡️",
                                                          Ev(action="open", event_id=event_id))]]))


guard.register(EventInput, __("the event's materials or your comment"), _resume)


# --- the events page and its lists -------------------------------------------------------------


async def show_home(event: Update, db: Database, member: MemberView) -> None:
    found = await events.lists(db, member.id)
    counts = {"upcoming": len(found.upcoming), "mine": len(found.mine), "past": len(found.past),
              "organised": len(found.organised), "awaiting": len(found.awaiting)}
    await show(event, "📅 " + _("Events: webinars, trainings, exchange visits and meetings."),
               markup(home_buttons(_can_create(member), counts)))


async def show_list(event: Update, db: Database, member: MemberView, view: str) -> None:
    found = await events.lists(db, member.id)
    items: Any = {"upcoming": found.upcoming, "mine": found.mine, "past": found.past,
             "organised": found.organised, "awaiting": found.awaiting}[view]
    titles = {"upcoming": _("Upcoming events for you:"), "mine": _("Your registrations:"),
              "past": _("Past events with materials:"), "organised": _("Events you organise:"),
              "awaiting": _("Partners' events to approve:")}
    text = titles[view] if items else _("Nothing here yet.")
    rows = list_rows(items, member.language)
    rows.append([button("⬅️ " + _("Back"), EvL(view="home"))])
    await show(event, text, markup(rows))


@router.message(Command("events"), F.chat.type == "private")
async def on_events(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None or not member.active:
        await message.answer(_("You are not allowed to do that."))
        return
    await state.clear()
    await show_home(message, db, member)


@router.callback_query(Menu.filter(F.item == "events"))
async def on_menu(query: CallbackQuery, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    await query.answer()
    if member is None or not member.active:
        return
    await state.clear()
    await show_home(query, db, member)


@router.callback_query(EvL.filter())
async def on_list(query: CallbackQuery, callback_data: EvL, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None or not member.active:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    view = callback_data.view
    if view == "home":
        await query.answer()
        await state.clear()
        await show_home(query, db, member)
    elif view in ("upcoming", "mine", "past", "organised", "awaiting"):
        await query.answer()
        await show_list(query, db, member, view)
    elif view == "new" and _can_create(member):
        await query.answer()
        await start_new(query, state, db, member)
    else:
        await query.answer(_("You are not allowed to do that."), show_alert=True)


# --- one event -----------------------------------------------------------------------------


async def show_card(event: Update, db: Database, member: MemberView, event_id: int) -> None:
    view = await events.event_view(db, member.id, event_id, member.language)
    limits = await event_districts.event_limits(db, view.event, member.language)
    await show(event, card_text(view, member.language, limits),
               markup(card_buttons(view, utcnow())))


async def send_calendar(query: CallbackQuery, db: Database, member: MemberView,
                        event_id: int) -> None:
    name, data = await event_calendar.calendar_file(db, member.id, event_id, member.language)
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(data, filename=name),
            caption=_("Open the file to add the event to your phone's calendar."))


async def show_participants(event: Update, db: Database, member: MemberView,
                            event_id: int) -> None:
    found, people = await event_results.participants(db, member.id, event_id, member.language)
    shown = await show(event, participants_text(found, people, member.language),
                       markup(participants_buttons(found, people, utcnow())))
    if shown is not None:  # it keeps itself current from now on
        await event_live.watch(db, member.id, event_id, shown)


@router.callback_query(Ev.filter())
async def on_event(query: CallbackQuery, callback_data: Ev, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    try:
        await _act(query, state, db, member, callback_data)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


ANSWERS = {"reg": RegistrationStatus.REGISTERED, "maybe": RegistrationStatus.MAYBE,
           "no": RegistrationStatus.DECLINED}


async def _act(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
               data: Ev) -> None:
    action, eid, value = data.action, data.event_id, data.value
    if action == "open":
        if isinstance(query.message, Message):  # back from the participant list, if it was
            await event_live.unwatch(db, member.id, query.message.message_id)
        await show_card(query, db, member, eid)
        await query.answer()
    elif action in ANSWERS:
        answer = await events.respond(db, member.id, eid, ANSWERS[action])
        await show_card(query, db, member, eid)
        if answer.status == RegistrationStatus.REGISTERED:
            await query.answer(_("You are registered."))
            await send_calendar(query, db, member, eid)
        elif answer.status == RegistrationStatus.WAITLISTED:
            await query.answer(_("The event is full: you are number {place} on the waiting "
                                 "list. You will be told if a seat becomes free.").format(
                place=answer.waiting_place), show_alert=True)
        else:
            await query.answer(_("Your answer is saved."))
    elif action == "cancel":
        await events.cancel_registration(db, member.id, eid)
        await show_card(query, db, member, eid)
        await query.answer(_("Your registration is cancelled."))
    elif action == "ics":
        await send_calendar(query, db, member, eid)
        await query.answer()
    elif action == "files":
        view = await events.event_view(db, member.id, eid, member.language)
        if not (view.organiser or (view.registration and view.registration.attended)):
            await query.answer(_("You are not allowed to do that."), show_alert=True)
            return
        await query.answer()
        if query.bot is not None and query.from_user is not None:
            for item in attachments(event_results.files_of(view.materials)):
                await send_attachment(query.bot, query.from_user.id, item)
    elif action == "rate":
        await event_results.rate_event(db, member.id, eid, value)
        await query.answer(_("Thank you for your rating!"))
        await remember(state, EventInput.comment, {"event_id": eid})
        if isinstance(query.message, Message):
            await _resume(query.message, state, db, member, "comment")
    elif action in ("list", "att"):
        if action == "att":
            await event_results.toggle_attendance(db, member.id, eid, value)
        await show_participants(query, db, member, eid)
        await query.answer()
    elif action in ("xlsx", "csv"):
        content = (await event_results.export_xlsx(db, member.id, eid, member.language)
                   if action == "xlsx" else
                   await event_results.export_csv(db, member.id, eid, member.language))
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer_document(BufferedInputFile(
                content, filename=f"{events.event_code(eid)}-participants.{action}"))
    elif action == "report":
        found = await event_results.report(db, member.id, eid, member.language)
        await show(query, report_text(found, member.language),
                   markup([[button("⬅️ " + _("Back"), Ev(action="open", event_id=eid))]]))
        await query.answer()
    elif action in ("chtime", "chplace"):
        await query.answer()
        await start_change(query, state, db, member, eid,
                           "time" if action == "chtime" else "place")
    elif action == "cxl":
        await event_results.participants(db, member.id, eid)  # organisers only, before asking
        await query.answer()
        await show(query, _("Cancel this event? Everyone registered is told."),
                   markup([[button("🚫 " + _("Yes, cancel the event"),
                                   Ev(action="cxlok", event_id=eid))],
                           [button("⬅️ " + _("Back"), Ev(action="open", event_id=eid))]]))
    elif action == "cxlok":
        told = await events.cancel_event(db, member.id, eid)
        await query.answer()
        await show(query, _("The event is cancelled; {count} members are told.").format(
            count=told), markup([[button("⬅️ " + _("Events"), EvL(view="home"))]]))
    elif action == "mat":
        await event_results.participants(db, member.id, eid)  # organisers only
        await query.answer()
        await remember(state, EventInput.materials, {"event_id": eid})
        await show(query, materials_prompt(),
                   markup([[button(_("Done") + " ➡️", Ev(action="open", event_id=eid))]]))
    elif action == "lib":
        count = await event_results.add_library_item(db, member.id, eid, value, member.language)
        await query.answer(_("Added to the materials ({count} in all).").format(count=count),
                           show_alert=True)
    elif action == "send":
        count = await event_results.send_materials(db, member.id, eid)
        await query.answer(_("The materials are on their way to {count} attendees.").format(
            count=count), show_alert=True)
    elif action in ("approve", "reject"):
        result = await (events.approve_event if action == "approve" else events.reject_event)(
            db, member.id, eid)
        await query.answer()
        text = (_("Approved; {count} invitations are on their way.").format(count=result.invited)
                if result.status == "published" else _("The event was not approved."))
        await show(query, text, markup([[button("📂 " + _("Open the event"),
                                                Ev(action="open", event_id=eid))]]))
    else:
        await query.answer(_("This button is no longer active."))


# --- files and comments ------------------------------------------------------------------------


@router.message(StateFilter(EventInput.materials), F.document | F.photo)
async def on_material(message: Message, state: FSMContext, db: Database,
                      member: MemberView | None) -> None:
    if member is None:
        return
    event_id = int((await state.get_data()).get("event_id", 0))
    try:
        if message.photo:
            photo = message.photo[-1]
            material = event_results.check_material(photo.file_id, None, "image/jpeg",
                                                    photo.file_size)
        else:
            assert message.document is not None
            d = message.document
            material = event_results.check_material(d.file_id, d.file_name, d.mime_type,
                                                    d.file_size)
        count = await event_results.add_material(db, member.id, event_id, material)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await message.answer(_("Added: {name} ({count} in all). Send more, or press Done.").format(
        name=html.escape(material.name), count=count),
        reply_markup=markup([[button(_("Done") + " ➡️", Ev(action="open", event_id=event_id))]]))


@router.message(StateFilter(EventInput.materials), F.text)
async def on_library_search(message: Message, state: FSMContext, db: Database,
                            member: MemberView | None) -> None:
    """Text while adding materials looks for a library item to share."""
    if member is None or message.text is None:
        return
    event_id = int((await state.get_data()).get("event_id", 0))
    try:
        found = await event_results.find_library_items(db, member.id, event_id, message.text,
                                                       member.language)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    done = [button(_("Done") + " ➡️", Ev(action="open", event_id=event_id))]
    if not found:
        await message.answer(_("No published library item matches. Try other words or the "
                               "number (<code>LIB-12</code>), or send files."),
                             reply_markup=markup([done]))
        return
    rows = [[button(f"📚 {events_library_label(p.item_id)} · {p.title}"[:60],
                    Ev(action="lib", event_id=event_id, value=p.item_id))] for p in found]
    await message.answer(_("Which library item do you share with the attendees?"),
                         reply_markup=markup([*rows, done]))


@router.message(StateFilter(EventInput.materials))
async def on_material_other(message: Message) -> None:
    await message.answer(_("Please send the files as documents, or press Done."))


@router.callback_query(Nav.filter(), StateFilter(EventInput))
async def on_input_nav(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await show(query, _("Thank you!"))


@router.message(StateFilter(EventInput.comment), F.text)
async def on_comment(message: Message, state: FSMContext, db: Database,
                     member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    event_id = int((await state.get_data()).get("event_id", 0))
    try:
        await event_results.comment_rating(db, member.id, event_id, message.text)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await state.clear()
    await message.answer(_("Thank you! The organisers will see your comment."))


@router.message(StateFilter(EventInput.comment))
async def on_comment_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."),
                         reply_markup=markup([nav_row(back=False)]))
