"""`/invite`: staff and district leaders make a one-person link that pre-approves and pre-fills.

Staff choose the role, the district and the community; a district leader's invitation is always
for a plain member of their own district. The service decides what is allowed.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.flows import guard, steps
from bot.flows.ui import Event, show
from bot.i18n import _, __
from bot.services import invites, reference
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.policy import Capability, capabilities
from bot.views.buttons import PAGE_SIZE, button, grid, markup, nav_row, page_rows
from bot.views.callbacks import MAX_PAGE, Menu, Nav, Pick, parse_id
from bot.views.labels import refusal, role_label
from storage.db import Database
from storage.enums import Role

router = Router(name="invite")
router.message.filter(F.chat.type == "private")

ANY = "any"


class InviteFlow(StatesGroup):
    role = State()
    region = State()
    district = State()
    community = State()


def _allowed(member: MemberView | None) -> bool:
    return member is not None and Capability.INVITE in capabilities(member.roles, member.active)


async def _begin(event: Event, state: FSMContext, db: Database, member: MemberView) -> None:
    await state.set_data({"role": Role.MEMBER.value})
    if Role.UNION_STAFF in member.roles:
        await state.set_state(InviteFlow.role)
        await _ask(event, state, db, member, "role")
    else:
        await _ask_community(event, state, db, member)


async def _ask(event: Event, state: FSMContext, db: Database, member: MemberView,
               step: str) -> None:
    """The prompt of `step` (the state is already there)."""
    data = await state.get_data()
    if step == "role":
        buttons = [button(role_label(r), Pick(step="i_role", value=r.value)) for r in Role]
        await show(event, _("Whom do you invite? Choose the role."),
                   markup([*grid(buttons, 2), nav_row(back=False)]))
    elif step == "region":
        regions = await reference.regions(db, member.language)
        buttons = [button(p.name, Pick(step="i_region", value=str(p.id))) for p in regions
                   if p.kind == "oblast"]
        rows = grid(buttons, 2)
        if data.get("role") != Role.DISTRICT_LEADER:
            rows.append([button(_("Any district"), Pick(step="i_region", value=ANY))])
        await show(event, _("Choose the region."), markup([*rows, nav_row(back=False)]))
    elif step == "district":
        places = await reference.districts(db, int(data.get("region_id") or 0), member.language)
        buttons = [button(p.name, Pick(step="i_dist", value=str(p.id))) for p in places]
        await show(event, _("Choose the district."), markup([*grid(buttons, 2),
                                                              nav_row(back=False)]))
    else:
        await _ask_community(event, state, db, member)


async def _community_buttons(db: Database, member: MemberView,
                             data: dict[str, Any]) -> list[InlineKeyboardButton]:
    places = await reference.communities(db, member.language)
    buttons = [button(p.name, Pick(step="i_comm", value=str(p.id))) for p in places]
    if data.get("role") != Role.DISTRICT_LEADER:
        buttons.append(button(_("Any community"), Pick(step="i_comm", value=ANY)))
    return buttons


async def _ask_community(event: Event, state: FSMContext, db: Database,
                         member: MemberView, page: int = 0) -> None:
    """The communities a page at a time (they grow with the reference import)."""
    await state.set_state(InviteFlow.community)
    buttons = await _community_buttons(db, member, await state.get_data())
    await show(event, _("Which practice community is the invitation for?"),
               markup([*page_rows(buttons, page, lambda n: Pick(step="i_cpage", value=str(n))),
                       nav_row(back=False)]))


@router.message(Command("invite"))
async def on_invite(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None or not _allowed(member):
        await message.answer(_("You are not allowed to do that."))
        return
    await _begin(message, state, db, member)


@router.callback_query(Menu.filter(F.item == "invite"))
async def on_invite_button(query: CallbackQuery, state: FSMContext, db: Database,
                           member: MemberView | None) -> None:
    if member is None or not _allowed(member):
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    await query.answer()
    await _begin(query, state, db, member)


@router.callback_query(Nav.filter(), StateFilter(InviteFlow))
async def on_nav(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await show(query, _("Cancelled."))


@router.callback_query(Pick.filter(F.step.startswith("i_")), StateFilter(InviteFlow))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  bot: Bot, member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    current = (await state.get_state() or "").split(":")[-1]
    steps = {"i_role": "role", "i_region": "region", "i_dist": "district",
             "i_comm": "community", "i_cpage": "community"}
    data: dict[str, Any] = await state.get_data()
    value = callback_data.value
    page = parse_id(value, MAX_PAGE) if callback_data.step == "i_cpage" else 0
    if steps.get(callback_data.step) != current:
        await guard.stale_press(query, state, db, member)  # its prompt, lost to a restart?
        return
    if page is None or (page and page * PAGE_SIZE >= len(
            await _community_buttons(db, member, data))):  # a forged page: the list stays
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if callback_data.step == "i_cpage":
        await _ask_community(query, state, db, member, page)
        return
    if callback_data.step == "i_role":
        if value not in {r.value for r in Role}:
            return
        data["role"] = value
        await state.set_data(data)
        await state.set_state(InviteFlow.region)
        await _ask(query, state, db, member, "region")
        return
    if callback_data.step == "i_region":
        if value == ANY:
            await _ask_community(query, state, db, member)
            return
        data["region_id"] = parse_id(value) or 0
        await state.set_data(data)
        await state.set_state(InviteFlow.district)
        await _ask(query, state, db, member, "district")
        return
    if callback_data.step == "i_dist":
        data["district_id"] = parse_id(value)
        await state.set_data(data)
        await _ask_community(query, state, db, member)
        return
    community_id = parse_id(value)
    await state.clear()
    try:
        invite = await invites.create_invite(
            db, member.id, role=Role(data["role"]), district_id=data.get("district_id"),
            community_id=community_id)
    except ServiceError as exc:
        await show(query, refusal(exc))
        return
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={invite.code}"
    await show(query, _("Invitation for: {role}. It works once, for 30 days. Send this link to "
                        "the person:").format(role=role_label(invite.role))
               + f"\n\n{html.escape(link)}")


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is not None and _allowed(member):
        await _ask(message, state, db, member, step)


guard.register(InviteFlow, __("the invitation you are making"), _resume)
steps.track(InviteFlow)
