"""`/places`: district leaders and Union staff confirm the municipality names members typed, merge
them into existing ones, and add their district's municipalities."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import guard
from bot.flows.ui import Event, show
from bot.i18n import _, __
from bot.services import places, policy, reference
from bot.services.errors import InvalidState, ServiceError
from bot.services.members import MemberView
from bot.views.buttons import PAGE_SIZE, button, grid, markup
from bot.views.people import (
    Mu,
    pending_keyboard,
    pending_text,
    people_refusal,
    proposed_keyboard,
    proposed_text,
    targets_keyboard,
)
from storage.db import Database
from storage.enums import Role

router = Router(name="places")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
ID_MAX = 2**31 - 1


class PlacesAdd(StatesGroup):
    name = State()


def _may(member: MemberView | None) -> bool:
    return member is not None and member.active and policy.Capability.PLACES in \
        policy.capabilities(member.roles, member.active)


async def show_pending(event: Event, db: Database, member: MemberView, page: int = 0) -> None:
    items = await places.pending(db, member.id, member.language)
    await show(event, pending_text(items), pending_keyboard(items, page))


@router.message(Command("places"))
async def on_places(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if not _may(member):
        await message.answer(_("Municipality names are decided by district leaders and Union "
                               "staff."))
        return
    assert member is not None
    await state.clear()
    await show_pending(message, db, member)


@router.callback_query(Mu.filter())
async def on_mu(query: CallbackQuery, callback_data: Mu, state: FSMContext, db: Database,
                member: MemberView | None) -> None:
    if not _may(member):
        await query.answer(_("Municipality names are decided by district leaders and Union "
                             "staff."), show_alert=True)
        return
    assert member is not None
    action, oid, value = callback_data.action, callback_data.id, callback_data.value
    if not (0 <= oid <= ID_MAX and 0 <= value <= ID_MAX):
        await query.answer(_("This button is no longer active."))
        return
    lang = member.language
    try:
        if action == "list":  # `oid` is the page
            if oid and oid * PAGE_SIZE >= len(await places.pending(db, member.id, lang)):
                await query.answer(_("This button is no longer active."))
                return
            await query.answer()
            await show_pending(query, db, member, oid)
        elif action == "o":
            found = await places.pending_one(db, member.id, oid, lang)
            if found is None:
                await query.answer(people_refusal(ServiceError("municipality_decided")),
                                   show_alert=True)
                await show_pending(query, db, member)
                return
            await query.answer()
            await show(query, proposed_text(found), proposed_keyboard(found))
        elif action == "ok":
            m = await places.confirm(db, member.id, oid)
            await query.answer("✅ " + _("Confirmed: {name}.").format(name=m.name(lang)),
                               show_alert=True)
            await show_pending(query, db, member)
        elif action == "mg":
            targets = await places.merge_targets(db, member.id, oid, lang)
            if value and value * PAGE_SIZE >= len(targets):  # `value` is the page
                await query.answer(_("This button is no longer active."))
                return
            await query.answer()
            await show(query, _("Merge it into which municipality?"),
                       targets_keyboard(oid, targets, value))
        elif action == "mt":
            source = await places.name_of(db, oid, lang)
            target = await places.name_of(db, value, lang)
            await query.answer()
            await show(query, _("Merge «{source}» into «{target}»? Every member, issue and "
                                "co-signature moves; nobody is counted twice.").format(
                source=html.escape(source or "?"), target=html.escape(target or "?")),
                markup([[button("🔀 " + _("Merge"), Mu(action="my", id=oid, value=value)),
                         button("⬅️ " + _("Back"), Mu(action="o", id=oid))]]))
        elif action == "my":
            merged = await places.merge(db, member.id, oid, value)
            moved = sum(merged.moved.values())
            await query.answer("✅ " + _("Merged. Rows moved: {count}.").format(count=moved),
                               show_alert=True)
            await show_pending(query, db, member)
        elif action == "add":
            await query.answer()
            districts = await _districts(db, member)
            if len(districts) == 1:
                await _ask_name(query, state, districts[0][0], districts[0][1])
            else:
                regions = [(r.id, r.name) for r in await reference.regions(db, lang)]
                await show(query, _("Choose a region."), markup(
                    grid([button(n, Mu(action="ar", id=i)) for i, n in regions], 2)))
        elif action == "ar":
            await query.answer()
            districts = [(d.id, d.name) for d in await reference.districts(db, oid, lang)]
            await show(query, _("Choose a district."), markup(
                grid([button(n, Mu(action="ad", id=i)) for i, n in districts], 2)))
        elif action == "ad":
            names = {i: n for i, n in await _all_districts(db, lang)}
            if oid not in names or not policy.can_manage_municipalities(
                    await _actor(db, member.id), oid):
                await query.answer(_("You are not allowed to do that."), show_alert=True)
                return
            await query.answer()
            await _ask_name(query, state, oid, names[oid])
        elif action == "an":
            data = await state.get_data()
            district_id, name = int(data.get("place_district") or 0), data.get("place_name")
            if not name:
                await query.answer(_("This button is no longer active."))
                return
            m = await places.add(db, member.id, district_id, str(name))
            await state.clear()
            await query.answer()
            await show(query, "✅ " + _("Added: {name}.").format(name=html.escape(m.name_ru)))
        else:
            await query.answer(_("This button is no longer active."))
    except ServiceError as exc:
        await query.answer(people_refusal(exc), show_alert=True)


async def _actor(db: Database, member_id: int) -> policy.Actor:
    async with db.read() as s:
        return await policy.load_actor(s, member_id)


async def _all_districts(db: Database, lang: str) -> list[tuple[int, str]]:
    found = []
    for region in await reference.regions(db, lang):
        found += [(d.id, d.name) for d in await reference.districts(db, region.id, lang)]
    return found


async def _districts(db: Database, member: MemberView) -> list[tuple[int, str]]:
    """The districts whose list this member edits, when they are a leader and not staff."""
    if Role.UNION_STAFF in member.roles:
        return []
    actor = await _actor(db, member.id)
    led = {g.district_id for g in actor.grants if g.role == Role.DISTRICT_LEADER and g.district_id}
    return [(i, n) for i, n in await _all_districts(db, member.language) if i in led]


async def _ask_name(event: Event, state: FSMContext, district_id: int, district: str) -> None:
    await state.set_state(PlacesAdd.name)
    await state.set_data({"place_district": district_id})
    await show(event, _("Send the name of the municipality to add in {district}.").format(
        district=html.escape(district)))


@router.message(StateFilter(PlacesAdd.name), F.text)
async def on_name(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if not _may(member) or message.text is None:
        await state.clear()
        return
    assert member is not None
    data = await state.get_data()
    district_id = int(data.get("place_district") or 0)
    try:
        name = places.clean_name(message.text)
        same = await places.same_name(db, district_id, name, member.language)
        if same is not None:
            raise InvalidState("municipality_exists", name=same)
        similar = await places.suggest(db, district_id, name, member.language)
        if not similar:
            m = await places.add(db, member.id, district_id, name)
            await state.clear()
            await message.answer("✅ " + _("Added: {name}.").format(name=html.escape(m.name_ru)))
            return
    except ServiceError as exc:
        await message.answer(people_refusal(exc))
        return
    await state.update_data({"place_name": name})
    await message.answer(
        _("These are already in the list: {names}. Add «{name}» anyway?").format(
            names=", ".join(html.escape(s.name) for s in similar), name=html.escape(name)),
        reply_markup=markup([[button("➕ " + _("Add anyway"), Mu(action="an")),
                              button("✖️ " + _("Cancel"), Mu(action="list"))]]))


async def _resume(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None, step: str) -> None:
    await message.answer(_("Send the name of the municipality to add."))


guard.register(PlacesAdd, __("a new municipality name"), _resume)


@router.message(StateFilter(PlacesAdd.name))
async def on_name_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))
