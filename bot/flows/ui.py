"""Showing a flow step: edit the message a button was pressed on, or send a new one.

Editing in place keeps a conversation short on slow connections; when an edit is impossible (an
old or deleted message) the step is sent anew.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import _
from storage.fsm import SQLStorage

log = logging.getLogger(__name__)

Event = Message | CallbackQuery


async def show(event: Event, text: str, kb: InlineKeyboardMarkup | None = None) -> None:
    if isinstance(event, CallbackQuery):
        msg = event.message
        if isinstance(msg, Message):
            try:
                await msg.edit_text(text, reply_markup=kb)
                return
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    return
                log.debug("edit failed, sending anew: %s", exc.message)
        if event.from_user is not None and event.bot is not None:
            await event.bot.send_message(event.from_user.id, text, reply_markup=kb)
        return
    await event.answer(text, reply_markup=kb)


async def remember(state: FSMContext, step: State, data: dict[str, Any]) -> None:
    """Save a flow's answers and its next state together (one write on Birge's own storage)."""
    if isinstance(state.storage, SQLStorage):
        await state.storage.set_state_and_data(state.key, step, data)
    else:
        await state.set_data(data)
        await state.set_state(step)


async def notice(event: Event, text: str) -> None:
    """A short remark that does not replace the current step (a toast for a button press)."""
    if isinstance(event, CallbackQuery):
        await event.answer(text[:200], show_alert=len(text) > 60)
    else:
        await event.answer(text)


async def wrong_input(message: Message, step: str | None, text_steps: Collection[str],
                      files_step: str = "documents") -> None:
    """A sticker, file or stray text that the current step does not take: say what it does."""
    if step == files_step:
        await message.answer(_("Please send the files as documents, or press Done."))
    elif step in text_steps:
        await message.answer(_("Please send text, not a file, sticker or voice message."))
    else:
        await message.answer(_("Please use the buttons."))
