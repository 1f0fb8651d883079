"""`/profile`: the member's card, with buttons that reopen one onboarding step at a time."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import onboarding
from bot.flows.cards import show_profile
from bot.i18n import _
from bot.services.members import MemberView
from bot.views.callbacks import Menu
from storage.db import Database

router = Router(name="profile")
router.message.filter(F.chat.type == "private")

EDITABLE = ("name", "position", "place", "communities")


@router.message(Command("profile"))
async def on_profile(message: Message, state: FSMContext, db: Database,
                     member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not registered yet. Send /start to join."))
        return
    await state.clear()
    await show_profile(message, db, member.id, member.language)


@router.callback_query(Menu.filter(F.item == "profile"))
async def on_profile_button(query: CallbackQuery, db: Database, member: MemberView | None) -> None:
    await query.answer()
    if member is None:
        return
    await show_profile(query, db, member.id, member.language)


@router.callback_query(Menu.filter(F.item.startswith("edit_")))
async def on_edit(query: CallbackQuery, callback_data: Menu, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    field = callback_data.item.removeprefix("edit_")
    if member is None or field not in EDITABLE:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await onboarding.start_edit(query, state, db, member, field)
