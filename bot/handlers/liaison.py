"""/liaison: a state-body liaison sees what is addressed to their body, records the response
(text, reference number, documents) and asks the Union for clarification. /liaisons: staff link
a member to the state body they answer for, or unlink them."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows.attachments import attachment_of
from bot.flows.ui import show
from bot.i18n import _
from bot.services import liaisons, reference
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.buttons import button, markup, nav_row
from bot.views.callbacks import Nav
from bot.views.liaison import (
    Li,
    Ll,
    Lr,
    bodies_keyboard,
    bodies_text,
    card,
    card_keyboard,
    liaison_keyboard,
    liaison_text,
    list_keyboard,
    roster_keyboard,
    roster_text,
)
from bot.views.vertical_labels import refusal
from storage.db import Database
from storage.models import NationalIssue

router = Router(name="liaison")


class LiaisonFlow(StatesGroup):
    text = State()
    reference = State()
    documents = State()
    clarify = State()
    correct = State()  # staff: the corrected text of a liaison's response
    answer = State()  # staff: the answer to a liaison's question


@router.message(Command("liaison"), F.chat.type == "private")
async def on_list(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    try:
        found = await liaisons.addressed(db, member.id, member.language)
    except ServiceError as exc:
        await message.answer(_("This is for the liaison of a state body, linked to it by the "
                               "Union staff.") if exc.code == "denied" else refusal(exc))
        return
    if not found.issues and not found.dossiers:
        await message.answer(_("Nothing is addressed to {body} now.").format(body=found.body))
        return
    await message.answer(_("Addressed to {body}:").format(body=found.body),
                         reply_markup=list_keyboard(found))


@router.message(Command("liaisons"), F.chat.type == "private")
async def on_roster(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    try:
        found = await liaisons.roster(db, member.id, member.language)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await message.answer(roster_text(found), reply_markup=roster_keyboard(found, 0))


@router.callback_query(Ll.filter())
async def on_roster_button(query: CallbackQuery, callback_data: Ll, db: Database,
                           member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, who, value = callback_data.action, callback_data.member_id, callback_data.value
    lang = member.language
    try:
        if action == "list":
            found = await liaisons.roster(db, member.id, lang)
            await query.answer()
            await show(query, roster_text(found), roster_keyboard(found, value))
            return
        if action == "link":
            await liaisons.liaison(db, member.id, who, lang)  # still on the roster
            await liaisons.assign_body(db, member.id, who, value)
            await query.answer(_("Linked."))
        elif action == "unlink":
            await liaisons.liaison(db, member.id, who, lang)
            await liaisons.unassign_body(db, member.id, who)
            await query.answer(_("Unlinked."))
            found = await liaisons.roster(db, member.id, lang)
            if not any(r.member_id == who for r in found):  # no longer on the roster
                await show(query, roster_text(found), roster_keyboard(found, 0))
                return
        row = await liaisons.liaison(db, member.id, who, lang)
        if action == "bodies":
            bodies = [(b.id, b.name) for b in await reference.state_bodies(db, lang)]
            await query.answer()
            await show(query, bodies_text(row), bodies_keyboard(who, bodies, value))
            return
        if action == "card":
            await query.answer()
        await show(query, liaison_text(row), liaison_keyboard(row))
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(Li.filter())
async def on_button(query: CallbackQuery, callback_data: Li, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    kind, target = callback_data.kind, callback_data.target_id
    try:
        if callback_data.action == "show":
            found = await liaisons.view(db, member.id, kind, target)
            answered = (found.state != "forwarded") if isinstance(found, NationalIssue) \
                else found.status != "sent"
            await query.answer()
            await show(query, card(found), card_keyboard(kind, target, answered))
            return
        await liaisons.check(db, member.id, kind, target)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    step = LiaisonFlow.text if callback_data.action == "respond" else LiaisonFlow.clarify
    await state.set_state(step)
    await state.set_data({"kind": kind, "target_id": target, "documents": []})
    await query.answer()
    prompt = _("Send the body's response.") if callback_data.action == "respond" else \
        _("Send your question to the Union.")
    if isinstance(query.message, Message):
        await query.message.answer(prompt, reply_markup=markup([nav_row(False)]))


@router.callback_query(Lr.filter())
async def on_correct(query: CallbackQuery, callback_data: Lr, state: FSMContext, db: Database,
                     member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    fixing = callback_data.action == "correct"
    try:
        if fixing:
            await liaisons.check_correct(db, member.id, callback_data.reply_id)
        else:
            await liaisons.check_clarification(db, member.id, callback_data.reply_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await state.set_state(LiaisonFlow.correct if fixing else LiaisonFlow.answer)
    await state.set_data({"reply_id": callback_data.reply_id})
    await query.answer()
    prompt = _("Send the corrected text of the response (up to {limit} characters); everyone "
               "behind the issue is told.") if fixing else \
        _("Send your answer to the liaison (up to {limit} characters).")
    if isinstance(query.message, Message):
        await query.message.answer(prompt.format(limit=liaisons.TEXT_MAX),
                                   reply_markup=markup([nav_row(False)]))


@router.callback_query(Nav.filter(), StateFilter(LiaisonFlow))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    current = await state.get_state()
    await query.answer()
    if member is not None and callback_data.action in ("skip", "done") and current in (
            LiaisonFlow.reference.state, LiaisonFlow.documents.state):
        if current == LiaisonFlow.reference.state:
            await state.set_state(LiaisonFlow.documents)
            await _ask_documents(query.message)
            return
        if isinstance(query.message, Message):
            await _finish(query.message, state, db, member)
        return
    await state.clear()
    await show(query, _("Cancelled."))


async def _ask_documents(message: object) -> None:
    if isinstance(message, Message):
        await message.answer(_("Attach the response's documents, then press Done."),
                             reply_markup=markup([[button("✅ " + _("Done"), Nav(action="done"))],
                                                  nav_row(False)]))


async def _finish(message: Message, state: FSMContext, db: Database, member: MemberView) -> None:
    data = await state.get_data()
    try:
        await liaisons.respond(db, member.id, str(data["kind"]), int(data["target_id"]),
                               str(data["text"]), data.get("reference"),
                               list(data.get("documents") or []))
    except ServiceError as exc:
        await message.answer(refusal(exc))
        await state.clear()
        return
    await state.clear()
    await message.answer(_("The response is recorded; everyone behind the issue hears it."))


@router.message(StateFilter(LiaisonFlow), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    current = await state.get_state()
    data = await state.get_data()
    text = message.text.strip()
    if current in (LiaisonFlow.correct.state, LiaisonFlow.answer.state):
        fixing = current == LiaisonFlow.correct.state
        try:
            if fixing:
                await liaisons.correct(db, member.id, int(data["reply_id"]), text)
            else:
                await liaisons.answer_clarification(db, member.id, int(data["reply_id"]), text)
        except ServiceError as exc:
            await message.answer(refusal(exc))
            if exc.code != "response_length":
                await state.clear()
            return
        await state.clear()
        await message.answer(_("The response is corrected; everyone behind the issue is told.")
                             if fixing else _("Your answer was sent to the liaison."))
        return
    if current == LiaisonFlow.clarify.state:
        try:
            await liaisons.ask_clarification(db, member.id, str(data["kind"]),
                                             int(data["target_id"]), text)
        except ServiceError as exc:
            await message.answer(refusal(exc))
            if exc.code != "response_length":
                await state.clear()
            return
        await state.clear()
        await message.answer(_("Your question was sent to the Union staff."))
        return
    if current == LiaisonFlow.text.state:
        if not liaisons.TEXT_MIN <= len(text) <= liaisons.TEXT_MAX:
            await message.answer(refusal(ServiceError("response_length",
                                                      limit=liaisons.TEXT_MAX)))
            return
        await state.update_data(text=text)
        await state.set_state(LiaisonFlow.reference)
        await message.answer(_("Send the response's reference number, or skip."),
                             reply_markup=markup([[button("⏭ " + _("Skip"), Nav(action="skip"))],
                                                  nav_row(False)]))
        return
    if current == LiaisonFlow.reference.state:
        if len(text) > liaisons.REFERENCE_MAX:
            await message.answer(refusal(ServiceError("liaison_reference",
                                                      limit=liaisons.REFERENCE_MAX)))
            return
        await state.update_data(reference=text)
        await state.set_state(LiaisonFlow.documents)
        await _ask_documents(message)
        return
    await message.answer(_("Please send the files as documents, or press Done."))


@router.message(StateFilter(LiaisonFlow), F.document | F.photo)
async def on_file(message: Message, state: FSMContext) -> None:
    if await state.get_state() != LiaisonFlow.documents.state:
        await message.answer(_("Please send text, not a file, sticker or voice message."))
        return
    try:
        found = attachment_of(message)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    data = await state.get_data()
    docs = list(data.get("documents") or [])
    if len(docs) >= liaisons.DOCUMENTS_MAX:
        await message.answer(refusal(ServiceError("issue_documents",
                                                  limit=liaisons.DOCUMENTS_MAX)))
        return
    await state.update_data(documents=[*docs, found])
    await message.answer(_("Added: {name}. More, or press Done.").format(name=found["name"]))


@router.message(StateFilter(LiaisonFlow))
async def on_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))
