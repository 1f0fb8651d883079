"""`/profile`: the member's card, with buttons that reopen one onboarding step at a time."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import onboarding
from bot.flows.ui import Event, show
from bot.i18n import _, in_locale, language_name
from bot.services import members
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup
from bot.views.callbacks import Menu
from bot.views.labels import position_label, role_label, status_label
from storage.db import Database
from storage.enums import Role

router = Router(name="profile")
router.message.filter(F.chat.type == "private")

EDITABLE = ("name", "position", "place", "communities")


async def show_profile(event: Event, db: Database, member_id: int, lang: str,
                       saved: bool = False) -> None:
    with in_locale(lang):
        card = await members.profile_card(db, member_id, lang)
        m = card.member
        place = ", ".join(p for p in (card.municipality, card.district, card.region) if p)
        roles = [role_label(r) for r in sorted(m.roles, key=str) if r != Role.MEMBER]
        lines = [
            ("✅ " + _("Saved.") + "\n\n") if saved else "",
            "👤 <b>" + html.escape(m.full_name) + "</b>",
            _("Position: {value}").format(value=position_label(m.position)),
            _("Place: {value}").format(value=html.escape(place) if place else "—"),
            _("Communities: {value}").format(value=", ".join(card.communities) or "—"),
            _("Language: {value}").format(value=language_name(m.language)),
            _("Status: {value}").format(value=status_label(m.status)),
        ]
        if roles:
            lines.append(_("Roles: {value}").format(value=", ".join(roles)))
        buttons = [
            button("✏️ " + _("Name"), Menu(item="edit_name")),
            button("✏️ " + _("Position"), Menu(item="edit_position")),
            button("✏️ " + _("Place"), Menu(item="edit_place")),
            button("✏️ " + _("Communities"), Menu(item="edit_communities")),
            button("🌐 " + _("Language"), Menu(item="language")),
        ]
        if m.active:
            buttons.append(button("⚙️ " + _("Settings"), Menu(item="settings")))
        buttons.append(button("🏠 " + _("Menu"), Menu(item="home")))
        await show(event, "\n".join(line for line in lines if line), markup(grid(buttons, 2)))


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
