"""`/people`: the member directory, its filters and cards; "Write to them" (one relayed message),
the recipient's Reply and Block; and the member's own listing choices (from /settings)."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.flows import guard
from bot.flows.attachments import attachment_of
from bot.flows.ui import Event, show
from bot.i18n import _, __
from bot.services import people, reference
from bot.services.errors import NotFound, ServiceError
from bot.services.members import MemberView
from bot.views.buttons import button, markup
from bot.views.callbacks import Menu
from bot.views.labels import role_label
from bot.views.people import (
    CHOICES_PAGE,
    Pe,
    card_keyboard,
    card_text,
    choice_keyboard,
    directory_keyboard,
    directory_text,
    listing_keyboard,
    listing_text,
    people_refusal,
)
from storage.db import Database

router = Router(name="people")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")

QUERY_KEY = "people_query"
ID_MAX = 2**31 - 1


class PeopleSearch(StatesGroup):
    query = State()


class PeopleWrite(StatesGroup):
    text = State()


def _active(member: MemberView | None) -> bool:
    return member is not None and member.active


async def _labels(db: Database, filters: people.Filters, lang: str) -> tuple[str, dict[str, str]]:
    """The filters in words: one line for the text, short labels for the buttons."""
    labels: dict[str, str] = {}
    if filters.district_id:
        for region in await reference.regions(db, lang):
            for d in await reference.districts(db, region.id, lang):
                if d.id == filters.district_id:
                    labels["district"] = d.name
    if filters.district_id and filters.municipality_id:
        for m in await reference.municipalities(db, filters.district_id, lang):
            if m.id == filters.municipality_id:
                labels["municipality"] = m.name
    if filters.community_id:
        for c in await reference.communities(db, lang):
            if c.id == filters.community_id:
                labels["community"] = c.name
    if filters.role:
        labels["role"] = role_label(filters.role)
    line = " · ".join(html.escape(v) for v in labels.values())
    return line, {k: v[:18] for k, v in labels.items()}


async def show_directory(event: Event, state: FSMContext, db: Database, member: MemberView,
                         filters: people.Filters, page: int = 0) -> None:
    try:
        found = await people.search(db, member.id, filters, member.language, page)
    except ServiceError as exc:
        await show(event, people_refusal(exc))
        return
    line, labels = await _labels(db, filters, member.language)
    await show(event, directory_text(found, line, filters.query),
               directory_keyboard(found, filters, labels))


async def _filters(state: FSMContext, packed: str) -> people.Filters:
    data = await state.get_data()
    return people.Filters.unpack(packed, str(data.get(QUERY_KEY) or ""))


@router.message(Command("people"))
async def on_people(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if not _active(member):
        await message.answer(_("The member directory is for approved members. Send /start to "
                               "join."))
        return
    assert member is not None
    await state.clear()
    await show_directory(message, state, db, member, people.Filters(
        district_id=member.district_id))


@router.callback_query(Menu.filter(F.item == "people"))
async def on_people_button(query: CallbackQuery, state: FSMContext, db: Database,
                           member: MemberView | None) -> None:
    if not _active(member):
        await query.answer(_("The member directory is for approved members. Send /start to "
                             "join."))
        return
    assert member is not None
    await query.answer()
    await state.clear()
    await show_directory(query, state, db, member, people.Filters(
        district_id=member.district_id))


@router.callback_query(Pe.filter())
async def on_pe(query: CallbackQuery, callback_data: Pe, state: FSMContext, db: Database,
                member: MemberView | None, settings: Settings) -> None:
    if not _active(member):
        await query.answer(_("The member directory is for approved members. Send /start to "
                             "join."))
        return
    assert member is not None
    action, oid, packed = callback_data.action, callback_data.id, callback_data.value
    if not 0 <= oid <= ID_MAX or len(packed) > 40:
        await query.answer(_("This button is no longer active."))
        return
    filters = await _filters(state, packed)
    lang = member.language
    try:
        await _act(query, state, db, member, settings, action, oid, filters, lang)
    except NotFound:
        await query.answer(_("This member is no longer in the directory."), show_alert=True)
    except ServiceError as exc:
        await query.answer(people_refusal(exc), show_alert=True)


async def _act(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
               settings: Settings, action: str, oid: int, filters: people.Filters,
               lang: str) -> None:
    packed = filters.pack()
    if action == "f":
        await query.answer()
        await state.update_data({QUERY_KEY: ""})
        await show_directory(query, state, db, member, people.Filters())
    elif action == "pg":
        await query.answer()
        await show_directory(query, state, db, member, filters, oid)
    elif action == "fr":
        await query.answer()
        regions = [(r.id, r.name) for r in await reference.regions(db, lang)]
        await show(query, _("Choose a region."), choice_keyboard(regions, "fd", packed, "xd"))
    elif action == "fd":
        districts = [(d.id, d.name) for d in await reference.districts(db, oid, lang)]
        if not districts:
            await query.answer(_("That choice is not available. Please try again."))
            return
        await query.answer()
        await show(query, _("Choose a district."), choice_keyboard(districts, "sd", packed))
    elif action == "fm":
        if not filters.district_id:
            await query.answer(_("Choose a district first."), show_alert=True)
            return
        options = [(m.id, m.name) for m in await reference.municipalities(
            db, filters.district_id, lang)]
        if oid * CHOICES_PAGE >= max(len(options), 1):  # `oid` is the page
            await query.answer(_("This button is no longer active."))
            return
        await query.answer()
        await show(query, _("Choose a municipality."), choice_keyboard(
            options, "sm", packed, "xm", page_action="fm", page=oid))
    elif action == "fc":
        options = [(c.id, c.name) for c in await reference.communities(db, lang)]
        if oid * CHOICES_PAGE >= max(len(options), 1):
            await query.answer(_("This button is no longer active."))
            return
        await query.answer()
        await show(query, _("Choose a practice community."), choice_keyboard(
            options, "sc", packed, "xc", page_action="fc", page=oid))
    elif action == "fo":
        await query.answer()
        options = [(i, role_label(r)) for i, r in enumerate(people.ROLES)]
        await show(query, _("Choose a role."), choice_keyboard(options, "so", packed, "xo"))
    elif action in ("sd", "sm", "sc", "so", "xd", "xm", "xc", "xo"):
        await query.answer()
        await show_directory(query, state, db, member, _with(filters, action, oid))
    elif action == "q":
        await query.answer()
        await state.set_state(PeopleSearch.query)
        await state.update_data({"people_filters": packed})
        await show(query, _("Send a name or part of it (up to {limit} characters).").format(
            limit=people.QUERY_MAX), markup([[button("✖️ " + _("Cancel"),
                                                     Pe(action="pg", value=packed))]]))
    elif action == "o":
        card = await people.card(db, member.id, oid, lang)
        await query.answer()
        await show(query, card_text(card), card_keyboard(card, packed))
    elif action in ("w", "r"):
        card = await people.card(db, member.id, oid, lang)
        if not card.can_write:
            await query.answer(people_refusal(ServiceError("people_blocked")), show_alert=True)
            return
        await query.answer()
        await state.set_state(PeopleWrite.text)
        await state.update_data({"write_to": oid})
        prompt = _("Your message to {name}: send text (up to {limit} characters), or one "
                   "document or photo with a caption. They will see your name and can answer "
                   "you.").format(name=html.escape(card.name), limit=people.MESSAGE_MAX)
        kb = markup([[button("✖️ " + _("Cancel"), Pe(action="wc"))]])
        if action == "r" and isinstance(query.message, Message):
            # The message being answered stays on screen, with its Block button.
            await query.message.answer(prompt, reply_markup=kb)
        else:
            await show(query, prompt, kb)
    elif action == "wc":
        await query.answer()
        await state.set_state(None)
        await show(query, _("Cancelled."))
    elif action in ("bl", "ub"):
        await people.block(db, member.id, oid, blocked=action == "bl")
        await query.answer(_("Blocked: Birge will not pass on their messages to you.")
                           if action == "bl" else _("Unblocked."), show_alert=action == "bl")
    elif action == "ls":
        await query.answer()
        await show_listing(query, db, member)
    elif action in ("lh", "lu", "lp"):
        on = oid == 1
        await people.set_listing(db, member.id, **{
            {"lh": "hidden", "lu": "show_username", "lp": "show_phone"}[action]: on})
        await query.answer(_("Saved."))
        await show_listing(query, db, member)
    else:
        await query.answer(_("This button is no longer active."))


def _with(filters: people.Filters, action: str, oid: int) -> people.Filters:
    values: dict[str, Any] = {"district_id": filters.district_id,
                              "municipality_id": filters.municipality_id,
                              "community_id": filters.community_id, "role": filters.role,
                              "query": filters.query}
    if action == "sd":
        values.update(district_id=oid, municipality_id=None)
    elif action == "xd":
        values.update(district_id=None, municipality_id=None)
    elif action == "sm":
        values["municipality_id"] = oid
    elif action == "xm":
        values["municipality_id"] = None
    elif action == "sc":
        values["community_id"] = oid
    elif action == "xc":
        values["community_id"] = None
    elif action == "so":
        values["role"] = people.ROLES[oid] if oid < len(people.ROLES) else None
    elif action == "xo":
        values["role"] = None
    return people.Filters(**values)


async def show_listing(event: Event, db: Database, member: MemberView) -> None:
    listing = await people.listing(db, member.id)
    await show(event, listing_text(listing), listing_keyboard(listing))


@router.message(StateFilter(PeopleSearch.query), F.text)
async def on_query(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    if not _active(member) or message.text is None:
        await state.clear()
        return
    assert member is not None
    try:
        query = people.clean_query(message.text.strip())
    except ServiceError as exc:
        await message.answer(people_refusal(exc))
        return
    data = await state.get_data()
    await state.set_state(None)
    await state.update_data({QUERY_KEY: query})
    filters = people.Filters.unpack(str(data.get("people_filters") or ""), query)
    await show_directory(message, state, db, member, filters)


@router.message(StateFilter(PeopleSearch.query))
async def on_query_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))


@router.message(StateFilter(PeopleWrite.text), F.text | F.document | F.photo)
async def on_write(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None, settings: Settings) -> None:
    if not _active(member):
        await state.clear()
        return
    assert member is not None
    text = message.text if message.text is not None else message.caption
    data = await state.get_data()
    to = int(data.get("write_to") or 0)
    try:
        attachment = attachment_of(message) if message.document or message.photo else None
        draft = people.clean_message(text, attachment)
        await people.write(db, member.id, to, draft, new_per_day=settings.people_new_per_day)
    except NotFound:
        await state.set_state(None)
        await message.answer(_("This member is no longer in the directory."))
        return
    except ServiceError as exc:
        await message.answer(people_refusal(exc))
        if exc.code in ("people_blocked", "people_limit", "people_unreachable", "denied"):
            await state.set_state(None)
        return
    await state.set_state(None)
    await message.answer("✅ " + _("Sent. They see your name and can answer you here."))


@router.message(StateFilter(PeopleWrite.text))
async def on_write_other(message: Message) -> None:
    await message.answer(_("Please send text, a document or a photo."))


async def _resume_write(message: Message, state: FSMContext, db: Database,
                        member: MemberView | None, step: str) -> None:
    await message.answer(_("Send your message: text, or one document or photo."),
                         reply_markup=markup([[button("✖️ " + _("Cancel"), Pe(action="wc"))]]))


async def _resume_search(message: Message, state: FSMContext, db: Database,
                         member: MemberView | None, step: str) -> None:
    await message.answer(_("Send a name or part of it (up to {limit} characters).").format(
        limit=people.QUERY_MAX))


guard.register(PeopleWrite, __("your message to a colleague"), _resume_write)
guard.register(PeopleSearch, __("a name to look for"), _resume_search)


@router.message(F.contact)
async def on_contact(message: Message, db: Database, member: MemberView | None) -> None:
    """A member shares their own contact: it becomes the phone their card may show."""
    contact = message.contact
    if not _active(member) or contact is None or message.from_user is None:
        return
    assert member is not None
    if contact.user_id != message.from_user.id:
        await message.answer(_("Please share your own contact."))
        return
    try:
        await people.set_phone(db, member.id, contact.phone_number)
    except ServiceError as exc:
        await message.answer(people_refusal(exc))
        return
    await message.answer("✅ " + _("Your phone is saved. It shows on your card only if you "
                                   "switch it on."))
    await show_listing(message, db, member)
