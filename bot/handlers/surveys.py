"""Answering surveys in the chat (`/surveys`, the invitation's button): one question per message,
buttons edited in place, typed numbers, dates and texts; and quick polls' `poll_answer` votes.

Where the member is lives in the response row (`SurveyResponse.current`), not only in the
conversation state, so a restart or days away continue at the same question.
"""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, PollAnswer

from bot.flows import guard
from bot.flows.ui import Event, remember, show
from bot.i18n import _, __
from bot.services import survey_polls, surveys
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.surveys import Step
from bot.views.buttons import button, markup
from bot.views.surveys import (
    Sv,
    Svr,
    answered_by_text,
    member_list,
    question_markup,
    question_text,
    summary_markup,
    summary_text,
    survey_refusal,
)
from storage.db import Database

router = Router(name="surveys")


class SurveyAnswer(StatesGroup):
    active = State()  # a survey's question is shown: typed text answers it


def render(step: Step, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    if not step.own:
        return answered_by_text(step, lang), None
    if step.current is None:
        return summary_text(step, lang), summary_markup(step)
    return question_text(step, lang), question_markup(step, lang)


async def present(event: Event, state: FSMContext, step: Step, lang: str, *,
                  new: bool = False) -> None:
    text, kb = render(step, lang)
    if step.own and step.current is not None:
        await remember(state, SurveyAnswer.active, {"survey_id": step.survey.id})
    elif await state.get_state() == SurveyAnswer.active.state:
        await state.clear()
    if new and isinstance(event, CallbackQuery):
        if event.bot is not None and event.from_user is not None:
            await event.bot.send_message(event.from_user.id, text, reply_markup=kb)
        return
    await show(event, text, kb)


async def _menu(db: Database, member: MemberView) -> tuple[str, InlineKeyboardMarkup | None]:
    text, kb = member_list(await surveys.for_member(db, member.id), member.language)
    rows = list(kb.inline_keyboard) if kb else []
    if await surveys.may_create(db, member.id):
        rows += [[button("➕ " + _("New survey"), Svr(action="new", survey_id=0)),
                  button("⚡ " + _("Quick poll"), Svr(action="poll", survey_id=0))],
                 [button("📥 " + _("Import XLSForm"), Svr(action="import", survey_id=0)),
                  button("📊 " + _("Results"), Svr(action="mine", survey_id=0))]]
    return text, markup(rows) if rows else None


@router.message(Command("surveys"), F.chat.type == "private")
async def on_surveys(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None or not member.active:
        await message.answer(_("You are not allowed to do that."))
        return
    text, kb = await _menu(db, member)
    await message.answer(text, reply_markup=kb)


@router.callback_query(Sv.filter())
async def on_button(query: CallbackQuery, callback_data: Sv, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    sid, action = callback_data.survey_id, callback_data.action
    survey = await surveys.cached(db, sid)
    if survey is None:
        await query.answer(_("That item no longer exists."), show_alert=True)
        return
    questions = survey.questions
    q = callback_data.q
    name = questions[q]["name"] if 0 <= q < len(questions) else ""
    question = questions[q] if name else None
    choice = ""
    if question is not None and question.get("choices") and 0 <= callback_data.v < len(
            question["choices"]):
        choice = question["choices"][callback_data.v]["name"]
    try:
        if action == "open":
            step = await surveys.begin(db, member.id, sid)
            await query.answer()
            await present(query, state, step, member.language, new=True)
            return
        if action in ("pick", "tog", "rank", "undo", "done", "skip", "edit") and not name:
            raise ServiceError("survey_stale")
        if action == "pick":
            assert question is not None
            value: object = callback_data.v if question["type"] == "scale" else choice
            if question["type"] != "scale" and not choice:
                raise ServiceError("survey_choice")
            step = await surveys.answer(db, member.id, sid, name, value)
        elif action in ("tog", "rank"):
            if not choice:
                raise ServiceError("survey_choice")
            step = await surveys.tap(db, member.id, sid, name, choice)
        elif action == "undo":
            step = await surveys.undo(db, member.id, sid, name)
        elif action == "done":
            step = await surveys.done(db, member.id, sid, name)
        elif action == "skip":
            step = await surveys.skip(db, member.id, sid, name)
        elif action == "edit":
            step = await surveys.edit(db, member.id, sid, name)
        elif action == "back":
            step = await surveys.back(db, member.id, sid)
        elif action == "send":
            step = await surveys.submit(db, member.id, sid)
            await query.answer("✅ " + _("Thank you! Your answers are saved."))
            await present(query, state, step, member.language)
            return
        else:
            raise ServiceError("survey_stale")
    except ServiceError as exc:
        await query.answer(survey_refusal(exc)[:200], show_alert=True)
        if exc.code == "survey_stale" and await state.get_state() == SurveyAnswer.active.state:
            # An older question's button: show the one the member is on (a restart may have
            # lost its message).
            with contextlib.suppress(ServiceError):
                await present(query, state, await surveys.begin(db, member.id, sid),
                              member.language, new=True)
        return
    await query.answer()
    await present(query, state, step, member.language)


@router.message(StateFilter(SurveyAnswer.active), F.chat.type == "private", F.text,
                ~F.text.startswith("/"))
async def on_typed(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    data = await state.get_data()
    sid = data.get("survey_id")
    if member is None or not isinstance(sid, int) or message.text is None:
        await state.clear()
        return
    try:
        step = await surveys.answer_typed(db, member.id, sid, message.text)
    except ServiceError as exc:
        await message.answer(survey_refusal(exc))
        return
    await present(message, state, step, member.language)


@router.message(StateFilter(SurveyAnswer.active), F.chat.type == "private",
                ~F.text.startswith("/"))
async def on_other(message: Message) -> None:
    """A sticker, photo or voice message while a question is shown."""
    await message.answer(_("Please answer with the buttons, or send the answer as text."))


@router.poll_answer()
async def on_poll_answer(answer: PollAnswer, db: Database) -> None:
    """A vote in a quick poll (non-anonymous native polls report who voted)."""
    if answer.user is None:
        return
    await survey_polls.record_poll_vote(db, answer.poll_id, answer.user.id,
                                   list(answer.option_ids))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    sid = (await state.get_data()).get("survey_id")
    if member is None or not isinstance(sid, int):
        return
    try:
        found = await surveys.begin(db, member.id, sid)
    except ServiceError as exc:
        await state.clear()
        await message.answer(survey_refusal(exc))
        return
    await present(message, state, found, member.language)


guard.register(SurveyAnswer, __("the survey you are answering"), _resume)
