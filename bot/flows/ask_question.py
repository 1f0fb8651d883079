"""Asking a question (`/ask`, the home menu, or "Ask here" on a group's card).

group → the question (10–3,500 characters) → files (up to 5 documents or photos, optional) →
with my name or anonymously → up to three similar answered questions ("this answers me" / "ask
anyway") → confirm → Q-<id>. Answers live in the conversation state until the member confirms;
`questions.ask_question` checks everything again.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.flows import guard, steps
from bot.flows.attachments import attachment_of
from bot.flows.cards import show_question
from bot.flows.ui import Event, remember, show
from bot.i18n import _, __
from bot.services import files, groups, library, questions, search
from bot.services.errors import ServiceError
from bot.services.forums import forums_of
from bot.services.members import MemberView
from bot.services.questions import QuestionDraft
from bot.views.buttons import button, markup, nav_row, page_number, page_rows
from bot.views.callbacks import Gr, Menu, Nav, Pick, Qn, parse_id
from bot.views.labels import refusal
from bot.views.library import Lib
from bot.views.questions import clip, status_label
from storage.db import Database

router = Router(name="ask_question")
router.message.filter(F.chat.type == "private")


class Ask(StatesGroup):
    group = State()
    text = State()
    files = State()
    anonymous = State()
    similar = State()
    confirm = State()


ORDER = ["group", "text", "files", "anonymous", "confirm"]


async def start(event: Event, state: FSMContext, db: Database, member: MemberView,
                group_id: int | None = None) -> None:
    if not member.active:
        await show(event, _("You are not allowed to do that."))
        return
    if group_id is not None:
        await remember(state, Ask.text, {"ask": {"group_id": group_id, "files": []}})
        await ask(event, state, db, member, "text")
        return
    await remember(state, Ask.group, {"ask": {"files": []}})
    await ask(event, state, db, member, "group")


async def ask(event: Event, state: FSMContext, db: Database, member: MemberView,
              step: str, page: int = 0) -> None:
    await state.set_state(getattr(Ask, step))
    data: dict[str, Any] = (await state.get_data()).get("ask", {})
    if step == "group":
        lines = await groups.list_groups(db, member.id, member.language)
        buttons = [button(("⭐️ " if g.joined else "") + g.name, Pick(step="qg", value=str(g.id)))
                   for g in lines]
        await show(event, _("In which group do you want to ask?"),
                   markup([*page_rows(buttons, page, lambda n: Pick(step="qgp", value=str(n))),
                           nav_row(back=False)]))
    elif step == "text":
        await show(event, _("Write your question: what happened, what you need to know. "
                            "{minimum} to {limit} characters.").format(
            minimum=questions.QUESTION_MIN, limit=questions.QUESTION_MAX), markup([nav_row()]))
    elif step == "files":
        attached = data.get("files", [])
        text = _("You may attach up to {limit} documents or photos (each up to {size} MB). "
                 "Send them, or press Next.").format(limit=questions.ATTACHMENTS_MAX,
                                                    size=files.MAX_MB)
        if attached:
            text += "\n" + "\n".join("📎 " + html.escape(f["name"]) for f in attached)
        await show(event, text, markup([[button(_("Next") + " ➡️", Nav(action="skip"))],
                                        nav_row()]))
    elif step == "anonymous":
        await show(event, _("Show your name with the question? If you ask anonymously, only "
                            "the group's moderators and the Union staff see your name."),
                   markup([[button("👤 " + _("With my name"), Pick(step="qa", value="no"))],
                           [button("🕶 " + _("Anonymously"), Pick(step="qa", value="yes"))],
                           nav_row()]))
    elif step == "confirm":
        await _show_confirm(event, db, member, data)


async def _show_confirm(event: Event, db: Database, member: MemberView,
                        data: dict[str, Any]) -> None:
    lines = {g.id: g.name for g in await groups.list_groups(db, member.id, member.language)}
    who = "🕶 " + _("anonymously") if data.get("anonymous") else "👤 " + html.escape(
        member.full_name)
    text = "\n".join([
        _("Check your question:"), "",
        _("Group: {name}").format(name=html.escape(lines.get(data.get("group_id", 0), "?"))),
        _("Asked by: {name}").format(name=who), "",
        html.escape(clip(data.get("text", ""), 1500)),
    ])
    if data.get("files"):
        text += "\n\n" + "\n".join("📎 " + html.escape(f["name"]) for f in data["files"])
    await show(event, text, markup([[button("✅ " + _("Post the question"),
                                             Pick(step="qc", value="yes"))], nav_row()]))


async def _offer_similar(event: Event, state: FSMContext, db: Database, member: MemberView,
                         data: dict[str, Any]) -> None:
    """Before posting: answered questions like this one, or straight to confirming."""
    readable = await groups.readable_groups(db, member.id)
    hits = await search.similar(db, data.get("text", ""), readable)
    items = await search.similar_items(db, data.get("text", ""), readable, member.language)
    if not hits and not items:
        await ask(event, state, db, member, "confirm")
        return
    await state.set_state(Ask.similar)
    parts = ([_("These answered questions look similar. Does one of them answer you?"), ""]
             if hits else [])
    rows = []
    for hit in hits:
        parts.append(f"{status_label(hit.status)[:2]} <b>{questions.label(hit.question_id)}</b> "
                     f"{html.escape(clip(hit.text, 160))}")
        rows.append([button("✅ " + _("{label} answers me").format(
            label=questions.label(hit.question_id)), Pick(step="qs", value=str(hit.question_id)))])
    if items:
        parts += ["", _("This from the library may answer you:")]
        for item in items:
            parts.append(f"📚 <b>{library.label(item.item_id)}</b> "
                         f"{html.escape(clip(item.title, 160))}")
            rows.append([button("📚 " + library.label(item.item_id) + " · " + clip(item.title, 28),
                                Lib(action="open", item_id=item.item_id))])
    rows.append([button("➡️ " + _("Ask anyway"), Pick(step="qs", value="ask"))])
    rows.append(nav_row())
    await show(event, "\n".join(parts), markup(rows))


def _step(raw: str | None) -> str | None:
    return raw.split(":", 1)[1] if raw and raw.startswith("Ask:") else None


# --- entry points ----------------------------------------------------------------------------


@router.message(Command("ask"))
async def on_ask(message: Message, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("Welcome! Send /start to join Birge."))
        return
    await start(message, state, db, member)


@router.callback_query(Menu.filter(F.item == "ask"))
async def on_ask_button(query: CallbackQuery, state: FSMContext, db: Database,
                        member: MemberView | None) -> None:
    await query.answer()
    if member is not None:
        await start(query, state, db, member)


@router.callback_query(Gr.filter(F.action == "ask"))
async def on_ask_here(query: CallbackQuery, callback_data: Gr, state: FSMContext, db: Database,
                      member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    try:
        card = await groups.group_card(db, member.id, callback_data.group_id, member.language)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    if card.archived:
        await show(query, refusal(ServiceError("group_archived")))
        return
    await start(query, state, db, member, callback_data.group_id)


# --- the steps -------------------------------------------------------------------------------


@router.callback_query(Nav.filter(), StateFilter(Ask))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    await query.answer()
    step = _step(await state.get_state())
    if member is None or step is None:
        return
    if callback_data.action == "cancel":
        await state.clear()
        await show(query, _("Cancelled. Your question was not posted."))
    elif callback_data.action == "back":
        back = "anonymous" if step == "similar" else ORDER[max(0, ORDER.index(step) - 1)]
        await ask(query, state, db, member, back)
    elif callback_data.action == "skip" and step == "files":
        await ask(query, state, db, member, "anonymous")


@router.callback_query(Pick.filter(F.step.startswith("q")), StateFilter(Ask))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None, settings: Settings) -> None:
    step = _step(await state.get_state())
    if member is None or step is None:
        await query.answer()
        return
    everything = await state.get_data()
    data = dict(everything.get("ask", {}))
    kind, value = callback_data.step, callback_data.value
    expected = {"qg": "group", "qgp": "group", "qa": "anonymous", "qs": "similar",
                "qc": "confirm"}.get(kind)
    if expected != step:
        await query.answer(_("This button is no longer active."))
        if step in ORDER:  # the step the member is on (its prompt may be lost to a restart)
            await ask(query, state, db, member, step)
        return
    if kind == "qgp":
        await query.answer()
        await ask(query, state, db, member, "group", page_number(value))
        return
    if kind == "qg":
        visible = {g.id for g in await groups.list_groups(db, member.id, member.language)}
        group_id = parse_id(value)
        if group_id is None or group_id not in visible:
            await query.answer(_("That choice is not available. Please try again."))
            return
        data["group_id"] = group_id
        await query.answer()
        await remember(state, Ask.text, {**everything, "ask": data})
        await ask(query, state, db, member, "text")
    elif kind == "qa":
        data["anonymous"] = value == "yes"
        await query.answer()
        await remember(state, Ask.similar, {**everything, "ask": data})
        await _offer_similar(query, state, db, member, data)
    elif kind == "qs":
        await query.answer()
        if value == "ask":
            await ask(query, state, db, member, "confirm")
            return
        question_id = parse_id(value)
        if question_id is None:
            return
        await state.clear()
        await show(query, _("Glad it helped. Your question was not posted."))
        await show_question(query, db, member, question_id, new_message=True, answered=True)
    elif kind == "qc":
        draft = QuestionDraft(group_id=int(data.get("group_id", 0)), text=data.get("text", ""),
                              attachments=list(data.get("files", [])),
                              anonymous=bool(data.get("anonymous")))
        try:
            question_id = await questions.ask_question(db, member.id, draft,
                                                       forum_chat_id=forums_of(settings))
        except ServiceError as exc:
            await query.answer(refusal(exc), show_alert=True)
            return
        await query.answer()
        await state.clear()
        await show(query, "✅ " + _("Your question is posted as {label}. You will get a message "
                                   "here when someone answers.").format(
            label=questions.label(question_id)),
            markup([[button("👁 " + questions.label(question_id),
                            Qn(action="open", question_id=question_id))]]))


@router.message(StateFilter(Ask.text), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    text = message.text.strip()
    if not questions.QUESTION_MIN <= len(text) <= questions.QUESTION_MAX:
        await message.answer(_("The question must be {minimum} to {limit} characters; yours "
                               "has {count}.").format(minimum=questions.QUESTION_MIN,
                                                      limit=questions.QUESTION_MAX,
                                                      count=len(text)))
        return
    everything = await state.get_data()
    await remember(state, Ask.files, {**everything, "ask": {**everything.get("ask", {}),
                                                            "text": text}})
    await ask(message, state, db, member, "files")


@router.message(StateFilter(Ask.files), F.document | F.photo)
async def on_file(message: Message, state: FSMContext) -> None:
    everything = await state.get_data()
    data = dict(everything.get("ask", {}))
    attached = list(data.get("files", []))
    if len(attached) >= questions.ATTACHMENTS_MAX:
        await message.answer(_("At most {limit} files. Press Next.").format(
            limit=questions.ATTACHMENTS_MAX))
        return
    try:
        attached.append(attachment_of(message))
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    data["files"] = attached
    await state.update_data(ask=data)
    await message.answer(_("Attached: {name}. Send more, or press Next.").format(
        name=html.escape(attached[-1]["name"])),
        reply_markup=markup([[button(_("Next") + " ➡️", Nav(action="skip"))]]))


@router.message(StateFilter(Ask))
async def on_other(message: Message, state: FSMContext) -> None:
    step = _step(await state.get_state())
    if step == "text":
        await message.answer(_("Please send your question as text."))
    elif step == "files":
        await message.answer(_("Please send documents or photos, or press Next."))
    else:
        await message.answer(_("Please use the buttons."))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is None:
        return
    if step == "similar":
        await _offer_similar(message, state, db, member, (await state.get_data()).get("ask", {}))
    else:
        await ask(message, state, db, member, step)


guard.register(Ask, __("your question"), _resume)
steps.track(Ask)
