"""A question's card and what members do on it: open, files, accept, useful, resolve; and
"My questions". Writing (answers, follow-ups, reasons) is the `bot.flows.reply` flow."""

from __future__ import annotations

import html

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.delivery.attachments import send_attachments
from bot.flows.cards import show_question
from bot.flows.ui import Event, show
from bot.i18n import _
from bot.services import questions
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.buttons import button, markup
from bot.views.callbacks import An, Menu, Qn
from bot.views.labels import refusal
from bot.views.questions import clip, status_label
from storage.db import Database

router = Router(name="questions")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


@router.callback_query(Qn.filter(F.action == "open"))
async def on_open(query: CallbackQuery, callback_data: Qn, db: Database,
                  member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    if await show_question(query, db, member, callback_data.question_id, new_message=True):
        await query.answer()


@router.callback_query(Qn.filter(F.action == "files"))
async def on_files(query: CallbackQuery, callback_data: Qn, db: Database,
                   member: MemberView | None, bot: Bot) -> None:
    if member is None:
        await query.answer()
        return
    try:
        card = await questions.question_card(db, member.id, callback_data.question_id,
                                             member.language)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await send_attachments(bot, query.from_user.id, card.attachments)


@router.callback_query(An.filter(F.action == "files"))
async def on_answer_files(query: CallbackQuery, callback_data: An, db: Database,
                          member: MemberView | None, bot: Bot) -> None:
    if member is None:
        await query.answer()
        return
    try:
        files = await questions.answer_files(db, member.id, callback_data.answer_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await send_attachments(bot, query.from_user.id, files)


@router.callback_query(Qn.filter(F.action == "resolve"))
async def on_resolve(query: CallbackQuery, callback_data: Qn, db: Database,
                     member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    try:
        await questions.mark_resolved(db, member.id, callback_data.question_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer(_("Marked resolved."))
    await show_question(query, db, member, callback_data.question_id, answered=True)


@router.callback_query(An.filter(F.action == "accept"))
async def on_accept(query: CallbackQuery, callback_data: An, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    try:
        question_id = await questions.accept_answer(db, member.id, callback_data.answer_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer(_("Accepted. Your question is resolved."))
    await show_question(query, db, member, question_id, answered=True)


@router.callback_query(An.filter(F.action == "useful"))
async def on_useful(query: CallbackQuery, callback_data: An, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    try:
        added = await questions.mark_useful(db, member.id, callback_data.answer_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer(_("Thank you: marked useful.") if added
                       else _("You already marked this answer useful."))
    question_id = await questions.question_of_answer(db, callback_data.answer_id)
    if added and question_id is not None:
        await show_question(query, db, member, question_id, answered=True)


async def show_mine(event: Event, db: Database, member: MemberView) -> None:
    mine = await questions.my_questions(db, member.id, limit=15)
    if not mine:
        await show(event, _("You have not asked any questions yet. /ask asks one."))
        return
    lines = ["<b>" + _("My questions") + "</b>"]
    rows = []
    for q in mine:
        lines.append(f"{status_label(q.status)} · <b>{questions.label(q.id)}</b> · "
                     + _("answers: {count}").format(count=q.answers) + "\n"
                     + html.escape(clip(q.text, 120)))
        rows.append([button(questions.label(q.id) + " · " + clip(q.text, 30),
                            Qn(action="open", question_id=q.id))])
    await show(event, "\n\n".join(lines), markup(rows))


@router.message(Command("myquestions"))
async def on_mine(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("Welcome! Send /start to join Birge."))
        return
    await show_mine(message, db, member)


@router.callback_query(Menu.filter(F.item == "mine"))
async def on_mine_button(query: CallbackQuery, db: Database, member: MemberView | None) -> None:
    await query.answer()
    if member is not None:
        await show_mine(query, db, member)
