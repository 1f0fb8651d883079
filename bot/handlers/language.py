"""`/language`: switch the language at any time, registered or not."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import guard
from bot.flows.ui import Event, show
from bot.i18n import LANGUAGES, _, in_locale, language_name
from bot.menu import Menus
from bot.middlewares import remember_visitor_language
from bot.services import members
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup
from bot.views.callbacks import Menu, Pick
from storage.db import Database

router = Router(name="language")
router.message.filter(F.chat.type == "private")

STEP = "setlang"


async def show_picker(event: Event) -> None:
    buttons = [button(language_name(c), Pick(step=STEP, value=c)) for c in LANGUAGES]
    await show(event, _("Choose your language."), markup(grid(buttons, 3)))


@router.message(Command("language"))
async def on_language(message: Message) -> None:
    await show_picker(message)


@router.callback_query(Menu.filter(F.item == "language"))
async def on_language_button(query: CallbackQuery) -> None:
    await query.answer()
    await show_picker(query)


@router.callback_query(Pick.filter(F.step == STEP))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None, menus: Menus) -> None:
    lang = callback_data.value
    if lang not in LANGUAGES:
        await query.answer(_("That choice is not available. Please try again."))
        return
    await query.answer()
    if member is not None:
        await members.set_language(db, member.id, lang)
    else:
        await remember_visitor_language(state, lang)
    if query.bot is not None:
        await menus.sync(query.bot, query.from_user.id, member, lang)
    data = await state.get_data()
    if data:
        data["lang"] = lang
        await state.set_data(data)
    with in_locale(lang):
        await show(query, _("Language changed: {language}.").format(language=language_name(lang)))
        if isinstance(query.message, Message):
            await guard.show_step(query.message, state, db, member)
