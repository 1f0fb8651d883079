"""Showing a flow step: edit the message a button was pressed on, or send a new one.

Editing in place keeps a conversation short on slow connections. The step is sent anew instead
when the edit is impossible (an old or deleted message) or when the message is no longer the
last one in the chat: an edit far up would leave the chat's last line asking something else.
`Latest` knows each chat's last message: the member's messages (`Latest.middleware` on the
Dispatcher) and everything the bot sends (`Latest.on_request` on the Bot's session).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject

from bot.i18n import _
from storage.fsm import SQLStorage

log = logging.getLogger(__name__)

Event = Message | CallbackQuery
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Latest:
    """The newest message id seen in each chat, per Bot (in memory, a bounded number of chats;
    an unknown chat edits in place as before)."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._ids: OrderedDict[int, int] = OrderedDict()

    def note(self, chat_id: int, message_id: int) -> None:
        if message_id > self._ids.get(chat_id, 0):
            self._ids[chat_id] = message_id
            self._ids.move_to_end(chat_id)
            if len(self._ids) > self.LIMIT:
                self._ids.popitem(last=False)

    def is_last(self, chat_id: int, message_id: int) -> bool:
        return self._ids.get(chat_id, 0) <= message_id

    @staticmethod
    def of(bot: Any) -> Latest:
        # Kept on the Bot object itself: Bots compare and hash by token, so a dictionary would
        # hand a new Bot with the same token (a restarted sandbox, a test after another) the
        # message ids of the old one's chats.
        found = getattr(bot, "_birge_latest", None)
        if found is None:
            found = Latest()
            bot._birge_latest = found
        return found

    @staticmethod
    async def middleware(handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Message) and data.get("bot") is not None:
            Latest.of(data["bot"]).note(event.chat.id, event.message_id)
        return await handler(event, data)

    @staticmethod
    async def on_request(make_request: Any, bot: Any, method: Any) -> Any:
        response = await make_request(bot, method)
        # aiogram's request middlewares get the method's result itself (a Message, a list of
        # them for an album), not the API's envelope.
        items = response if isinstance(response, list) else [response]
        for item in items:
            if isinstance(item, Message):
                Latest.of(bot).note(item.chat.id, item.message_id)
        return response



async def show(event: Event, text: str, kb: InlineKeyboardMarkup | None = None) -> int | None:
    """Show a screen: edit the pressed message when it is the chat's last, else send anew.
    Returns the id of the message that shows it (None when there is none to tell)."""
    if isinstance(event, CallbackQuery):
        msg = event.message
        last = event.bot is None or Latest.of(event.bot).is_last(msg.chat.id, msg.message_id) \
            if isinstance(msg, Message) else False
        if isinstance(msg, Message) and last:
            try:
                await msg.edit_text(text, reply_markup=kb)
                return msg.message_id
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    return msg.message_id
                log.debug("edit failed, sending anew: %s", exc.message)
        if event.from_user is not None and event.bot is not None:
            sent = await event.bot.send_message(event.from_user.id, text, reply_markup=kb)
            return sent.message_id
        return None
    return (await event.answer(text, reply_markup=kb)).message_id


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


async def nav_press(query: CallbackQuery, state: FSMContext, signed_in: bool, action: str,
                    cancelled: str) -> tuple[str, dict[str, Any]] | None:
    """What a compose flow's Back / Cancel / Skip handler shares: answers the press; Cancel ends
    the flow saying `cancelled`. Else (the step, the flow's data) for Back or Skip to go on;
    None when there is nothing to go on with (not signed in, no step, cancelled)."""
    await query.answer()
    raw = await state.get_state()
    step = raw.split(":", 1)[1] if raw and ":" in raw else None
    if not signed_in or step is None:
        return None
    if action == "cancel":
        await state.clear()
        await show(query, cancelled)
        return None
    return step, await state.get_data()
