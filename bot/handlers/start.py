"""`/start` (with an optional invite code), `/cancel` and the home menu."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.config import Settings
from bot.flows import onboarding
from bot.flows.ui import Event, show
from bot.i18n import _, ngettext, pick_language
from bot.middlewares import visitor_language
from bot.services import members, policy
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup
from bot.views.callbacks import Lq, Menu
from storage.db import Database
from storage.enums import MemberStatus

router = Router(name="start")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


def home_keyboard(member: MemberView) -> InlineKeyboardMarkup:
    caps = policy.capabilities(member.roles, member.active)
    buttons = []
    if policy.Capability.ASK in caps:
        buttons += [button("❓ " + _("Ask a question"), Menu(item="ask")),
                    button("🔎 " + _("Search answers"), Menu(item="search")),
                    button("👥 " + _("Groups"), Menu(item="groups")),
                    button("📋 " + _("My questions"), Menu(item="mine"))]
    if policy.Capability.LIBRARY in caps:
        buttons += [button("📚 " + _("Library"), Menu(item="library")),
                    button("🗄 " + _("Decisions"), Menu(item="decisions"))]
    if policy.Capability.LEGAL_HELP in caps:
        buttons.append(button("⚖️ " + _("Legal help"), Menu(item="legal")))
    if policy.Capability.LEGAL_DESK in caps:
        buttons.append(button("📂 " + _("Legal desk"), Lq(view="desk")))
    if policy.Capability.ISSUES in caps:
        buttons += [button("📣 " + _("Raise a problem"), Menu(item="raise")),
                    button("🗂 " + _("National issues"), Menu(item="issues"))]
    if policy.Capability.PEOPLE in caps:
        buttons.append(button("👥 " + _("People"), Menu(item="people")))
    if policy.Capability.EVENTS in caps:
        buttons.append(button("📅 " + _("Events"), Menu(item="events")))
    buttons += [button("👤 " + _("Profile"), Menu(item="profile")),
                button("🌐 " + _("Language"), Menu(item="language")),
                button("ℹ️ " + _("Help"), Menu(item="help"))]
    if policy.Capability.SETTINGS in caps:
        buttons.append(button("⚙️ " + _("Settings"), Menu(item="settings")))
    if policy.Capability.INVITE in caps:
        buttons.append(button("✉️ " + _("Invite"), Menu(item="invite")))
    return markup(grid(buttons, 2))


async def show_home(event: Event, member: MemberView, db: Database) -> None:
    text = _("Hello, {name}! What would you like to do?").format(name=html.escape(member.full_name))
    if policy.Capability.APPROVE in policy.capabilities(member.roles, member.active):
        waiting = await members.pending_for(db, member.id)
        if waiting:
            text += "\n\n" + ngettext("{count} newcomer is waiting for your decision.",
                                       "{count} newcomers are waiting for your decision.",
                                       len(waiting)).format(count=len(waiting))
    await show(event, text, home_keyboard(member))


@router.message(CommandStart())
async def on_start(message: Message, command: CommandObject, state: FSMContext, db: Database,
                   member: MemberView | None, settings: Settings) -> None:
    code = (command.args or "").strip() or None
    if member is not None and member.status == MemberStatus.ACTIVE:
        await state.clear()
        if code:
            await message.answer(_("You are already a member; the invitation was not needed."))
        await show_home(message, member, db)
        return
    if member is not None and member.status == MemberStatus.PENDING:
        await state.clear()
        await message.answer(_("Your application is waiting for approval. You will get a "
                               "message here when it is decided."))
        return
    data = await state.get_data()
    user = message.from_user
    lang = data.get("lang") or await visitor_language(state) or pick_language(
        user.language_code if user else None, settings.default_language)
    await onboarding.start_joining(message, state, db, lang, code)


@router.message(Command("cancel"))
async def on_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled."))


@router.callback_query(Menu.filter(F.item == "home"))
async def on_home(query: CallbackQuery, member: MemberView | None, db: Database) -> None:
    await query.answer()
    if member is not None:
        await show_home(query, member, db)
