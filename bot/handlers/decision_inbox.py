"""/inbox for Union staff: members' questions about decisions (new, mine, answered); take one,
assign it to a colleague, reply (the member gets it in the chat), or answer every recipient of
the broadcast at once."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows.ui import show
from bot.i18n import _
from bot.services import decision_questions as dq
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.buttons import button, markup, nav_row, short
from bot.views.callbacks import Nav
from bot.views.inbox import Qi, inbox_keyboard, inbox_text, item_keyboard, item_text
from bot.views.vertical_labels import refusal
from storage.db import Database

router = Router(name="decision_inbox")


class InboxReply(StatesGroup):
    answer = State()
    follow_up = State()


async def _show_inbox(event: Message | CallbackQuery, db: Database, member: MemberView,
                      view: str, page: int = 0) -> None:
    items, total = await dq.inbox(db, member.id, view, page)
    await show(event, inbox_text(view, total), inbox_keyboard(view, items, page, total))


@router.message(Command("inbox"), F.chat.type == "private")
async def on_inbox(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    try:
        await _show_inbox(message, db, member, "new")
    except ServiceError as exc:
        await message.answer(refusal(exc))


@router.callback_query(Qi.filter())
async def on_button(query: CallbackQuery, callback_data: Qi, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, item_id = callback_data.action, callback_data.item_id
    try:
        if action in dq.VIEWS:
            await _show_inbox(query, db, member, action, callback_data.page)
        elif action == "open":
            item = await dq.item(db, member.id, item_id)
            await show(query, item_text(item, member.language), item_keyboard(item))
        elif action in ("take", "to"):
            await dq.assign(db, member.id, item_id,
                            member.id if action == "take" else callback_data.to_id)
            item = await dq.item(db, member.id, item_id)
            await show(query, item_text(item, member.language), item_keyboard(item))
        elif action == "assign":
            await dq.check_open(db, member.id, item_id)
            people = await dq.colleagues(db, member.id)
            await show(query, _("Assign to a colleague:"), markup(
                [[button(short(name, 40), Qi(action="to", item_id=item_id, to_id=pid))]
                 for pid, name in people]))
        elif action == "reply":
            await dq.check_open(db, member.id, item_id)
            await state.set_state(InboxReply.answer)
            await state.set_data({"response_id": item_id})
            if isinstance(query.message, Message):
                await query.message.answer(_("Send your answer; the member gets it in the "
                                             "chat."), reply_markup=markup([nav_row(False)]))
        elif action == "followup":
            count = await dq.asked_count(db, item_id)
            await dq.inbox(db, member.id, "new")  # staff only
            await state.set_state(InboxReply.follow_up)
            await state.set_data({"broadcast_id": item_id})
            if isinstance(query.message, Message):
                await query.message.answer(
                    _("Send the answer to all recipients of B-{id} ({count} questions "
                      "asked).").format(id=item_id, count=count),
                    reply_markup=markup([nav_row(False)]))
        await query.answer()
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(Nav.filter(), StateFilter(InboxReply))
async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await show(query, _("Cancelled."))


@router.message(StateFilter(InboxReply), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    current = await state.get_state()
    data = await state.get_data()
    try:
        if current == InboxReply.answer.state:
            await dq.answer(db, member.id, int(data["response_id"]), message.text)
            done = _("Your answer was sent to the member.")
        else:
            count = await dq.follow_up(db, member.id, int(data["broadcast_id"]), message.text)
            done = _("The answer goes to {count} recipients.").format(count=count)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        if exc.code != "reply_length":
            await state.clear()
        return
    await state.clear()
    await message.answer(done)


@router.message(StateFilter(InboxReply))
async def on_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))
