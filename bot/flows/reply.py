"""Writing to a question: an answer, the asker's follow-up, a moderator's reason for hiding, or
the original of a duplicate. One small flow: the text, then (for answers and follow-ups) files,
then Send; the service named by the mode checks everything again."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.flows import guard, steps
from bot.flows.attachments import attachment_of
from bot.flows.cards import show_question
from bot.flows.ui import Event, remember, show
from bot.i18n import _, __
from bot.services import questions
from bot.services.errors import ServiceError
from bot.services.forums import forums_of
from bot.services.members import MemberView
from bot.views.buttons import button, markup, nav_row
from bot.views.callbacks import An, Nav, Pick, Qn
from bot.views.labels import refusal
from storage.db import Database

router = Router(name="reply")
router.message.filter(F.chat.type == "private")

WITH_FILES = ("answer", "follow")


class Reply(StatesGroup):
    text = State()
    files = State()


def _prompt(mode: str, label: str) -> str:
    limits = {"minimum": questions.ANSWER_MIN, "limit": questions.ANSWER_MAX}
    return {
        "answer": _("Write your answer to {label} ({minimum} to {limit} characters). You can "
                    "attach files next."),
        "follow": _("Write what you want to add to {label} ({minimum} to {limit} characters)."),
        "hide_q": _("Why hide {label}? The author will see the reason."),
        "hide_a": _("Why hide this answer to {label}? The author will see the reason."),
        "dup": _("{label} repeats which question? Send its number, for example Q-12."),
    }[mode].format(label=label, **limits)


async def begin(event: Event, state: FSMContext, mode: str, question_id: int,
                answer_id: int | None = None) -> None:
    await remember(state, Reply.text, {"reply": {"mode": mode, "question_id": question_id,
                                                 "answer_id": answer_id, "files": []}})
    await show(event, _prompt(mode, questions.label(question_id)),
               markup([nav_row(back=False)]))


async def _entry(query: CallbackQuery, state: FSMContext, db: Database,
                 member: MemberView | None, mode: str, question_id: int,
                 answer_id: int | None = None) -> None:
    """Refuse at once what the card would not offer this member; otherwise start writing."""
    if member is None:
        await query.answer()
        return
    try:
        card = await questions.question_card(db, member.id, question_id, member.language)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    allowed = {"answer": card.can_answer and not card.is_asker, "follow": card.is_asker,
               "hide_q": card.moderates, "hide_a": card.moderates, "dup": card.moderates}[mode]
    if not allowed or (card.status not in questions.VISIBLE and mode != "hide_a"):
        await query.answer(refusal(ServiceError("denied" if not allowed else "question_closed")),
                           show_alert=True)
        return
    await query.answer()
    await begin(query, state, mode, question_id, answer_id)


@router.callback_query(Qn.filter(F.action.in_({"answer", "follow", "hide", "dup"})))
async def on_question_action(query: CallbackQuery, callback_data: Qn, state: FSMContext,
                             db: Database, member: MemberView | None) -> None:
    mode = {"hide": "hide_q"}.get(callback_data.action, callback_data.action)
    await _entry(query, state, db, member, mode, callback_data.question_id)


@router.callback_query(An.filter(F.action == "hide"))
async def on_hide_answer(query: CallbackQuery, callback_data: An, state: FSMContext,
                         db: Database, member: MemberView | None) -> None:
    question_id = await questions.question_of_answer(db, callback_data.answer_id)
    if question_id is None:
        await query.answer(refusal(ServiceError("not_found")), show_alert=True)
        return
    await _entry(query, state, db, member, "hide_a", question_id, callback_data.answer_id)


async def _submit(event: Event, state: FSMContext, db: Database, member: MemberView,
                  settings: Settings, data: dict[str, Any]) -> None:
    mode, qid = data["mode"], int(data["question_id"])
    text, files = data.get("text", ""), list(data.get("files", []))
    try:
        if mode == "answer":
            await questions.answer_question(db, member.id, qid, text, files,
                                            forum_chat_id=forums_of(settings))
            done = _("Your answer is posted. The asker will get it.")
        elif mode == "follow":
            await questions.follow_up(db, member.id, qid, text, files)
            done = _("Added to your question. Those who answered will see it.")
        elif mode == "hide_q":
            await questions.hide_question(db, member.id, qid, text)
            done = _("The question is hidden.")
        elif mode == "hide_a":
            await questions.hide_answer(db, member.id, int(data["answer_id"]), text)
            done = _("The answer is hidden.")
        else:
            original = questions.parse_label(text)
            if original is None:
                await show(event, _("Please send a question number, for example Q-12."))
                return
            await questions.close_as_duplicate(db, member.id, qid, original)
            done = _("Closed as a duplicate of {label}; the asker is pointed to it.").format(
                label=questions.label(original))
    except ServiceError as exc:
        await show(event, refusal(exc))
        if exc.code in ("answer_length", "reason_length", "duplicate_target"):
            return  # still writing: the next message is another try
        await state.clear()
        return
    await state.clear()
    await show(event, "✅ " + done)
    await show_question(event, db, member, qid, new_message=True)


def _files_prompt(data: dict[str, Any]) -> str:
    text = _("Attach up to {limit} documents or photos if you wish, then press Send.").format(
        limit=questions.ATTACHMENTS_MAX)
    attached = data.get("files", [])
    if attached:
        text += "\n" + "\n".join("📎 " + html.escape(f["name"]) for f in attached)
    return text


def _send_markup() -> Any:
    return markup([[button("✅ " + _("Send"), Pick(step="rs", value="send"))],
                   nav_row(back=False)])


@router.message(StateFilter(Reply.text), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None, settings: Settings) -> None:
    if member is None or message.text is None:
        return
    everything = await state.get_data()
    data = {**everything.get("reply", {}), "text": message.text.strip()}
    if data.get("mode") in WITH_FILES:
        if not questions.ANSWER_MIN <= len(data["text"]) <= questions.ANSWER_MAX:
            await message.answer(refusal(ServiceError("answer_length",
                                                      minimum=questions.ANSWER_MIN,
                                                      limit=questions.ANSWER_MAX)))
            return
        await remember(state, Reply.files, {**everything, "reply": data})
        await message.answer(_files_prompt(data), reply_markup=_send_markup())
        return
    await state.update_data(reply=data)
    await _submit(message, state, db, member, settings, data)


@router.message(StateFilter(Reply.files), F.document | F.photo)
async def on_file(message: Message, state: FSMContext) -> None:
    everything = await state.get_data()
    data = dict(everything.get("reply", {}))
    files = list(data.get("files", []))
    if len(files) >= questions.ATTACHMENTS_MAX:
        await message.answer(_("At most {limit} files. Press Send.").format(
            limit=questions.ATTACHMENTS_MAX), reply_markup=_send_markup())
        return
    try:
        files.append(attachment_of(message))
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    data["files"] = files
    await state.update_data(reply=data)
    await message.answer(_("Attached: {name}. Send more, or press Send.").format(
        name=html.escape(files[-1]["name"])), reply_markup=_send_markup())


@router.callback_query(Pick.filter(F.step == "rs"), StateFilter(Reply.files))
async def on_send(query: CallbackQuery, state: FSMContext, db: Database,
                  member: MemberView | None, settings: Settings) -> None:
    await query.answer()
    if member is None:
        return
    data = (await state.get_data()).get("reply", {})
    await _submit(query, state, db, member, settings, data)


@router.callback_query(Nav.filter(), StateFilter(Reply))
async def on_nav(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await show(query, _("Cancelled. Nothing was posted."))


@router.message(StateFilter(Reply))
async def on_other(message: Message, state: FSMContext) -> None:
    if await state.get_state() == Reply.files.state:
        await message.answer(_("Please send documents or photos, or press Send."),
                             reply_markup=_send_markup())
    else:
        await message.answer(_("Please send text, not a file, sticker or voice message."))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    data = (await state.get_data()).get("reply", {})
    if not data.get("mode"):
        return
    if step == "files":
        await message.answer(_files_prompt(data), reply_markup=_send_markup())
    else:
        await message.answer(_prompt(data["mode"], questions.label(int(data["question_id"]))),
                             reply_markup=markup([nav_row(back=False)]))


guard.register(Reply, __("your message to a question"), _resume)
steps.track(Reply)
