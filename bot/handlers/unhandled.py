"""What nothing else handled: unknown commands, stray text, stickers, stale buttons, groups.

Private chats get a short hint in the member's language. Group messages and edited messages are
deliberately ignored: Birge reads groups only where a feature asks for it.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import guard
from bot.i18n import _
from bot.services.members import MemberView
from storage.db import Database

log = logging.getLogger(__name__)
router = Router(name="unhandled")


@router.message(F.chat.type == "private", F.text.startswith("/"))
async def on_unknown_command(message: Message) -> None:
    await message.answer(_("I do not know that command. /help lists what you can do."))


@router.message(F.chat.type == "private")
async def on_stray_message(message: Message, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("Welcome! Send /start to join Birge."))
    else:
        await message.answer(_("I did not understand. /help lists what you can do."))


@router.message()
async def on_group_message(message: Message) -> None:
    log.debug("ignoring a group message in %s", message.chat.id)


@router.edited_message()
async def on_edited(message: Message) -> None:
    log.debug("ignoring an edited message in %s", message.chat.id)


@router.callback_query()
async def on_stale_button(query: CallbackQuery, state: FSMContext | None = None,
                          db: Database | None = None, member: MemberView | None = None) -> None:
    """A button no handler takes: in the middle of a flow, the member sees their step again."""
    await guard.stale_press(query, state, db, member)
