"""Raising a national issue (`/raise` or the home menu's "Raise a problem").

title → topic → what the problem is → what causes it (a law, rule or practice; optional) →
proposed solution → which state body should act → evidence documents → is it sensitive →
confirm → P-12. Answers live in FSM state (the database); Back and Cancel work at every step;
`national_issues.raise_issue` checks everything again and fills the author's place from the
profile.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import guard, steps
from bot.flows.attachments import attachment_of
from bot.flows.ui import Event, remember, show, wrong_input
from bot.i18n import _, __
from bot.services import files, reference
from bot.services import national_issues as ni
from bot.services.errors import InvalidInput, ServiceError
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup, nav_row, page_number, page_rows, short
from bot.views.callbacks import Iss, Menu, Nav, Pick, parse_id
from bot.views.issues import clip, fit, topic_label
from bot.views.labels import refusal
from storage.db import Database
from storage.enums import IssueTopic

router = Router(name="raise_issue")
router.message.filter(F.chat.type == "private")


class RaiseIssue(StatesGroup):
    title = State()
    topic = State()
    problem = State()
    cause = State()
    solution = State()
    body = State()
    documents = State()
    sensitive = State()
    confirm = State()


ORDER = ["title", "topic", "problem", "cause", "solution", "body", "documents", "sensitive",
         "confirm"]
TEXT_STEPS = {"title", "problem", "cause", "solution"}


def _step(raw: str | None) -> str | None:
    return raw.split(":", 1)[1] if raw and raw.startswith("RaiseIssue:") else None


def _draft(data: dict[str, Any]) -> ni.IssueDraft:
    return ni.IssueDraft(
        title=data.get("title", ""), topic=data.get("topic", ""),
        problem=data.get("problem", ""), solution=data.get("solution", ""),
        cause=data.get("cause"), state_body_id=data.get("body"),
        documents=list(data.get("documents", [])), restricted=bool(data.get("sensitive")))


async def ask(event: Event, state: FSMContext, db: Database, member: MemberView,
              step: str, page: int = 0) -> None:
    data = await state.get_data()
    await remember(state, getattr(RaiseIssue, step), data)
    skip = [button(_("Skip") + " ➡️", Nav(action="skip"))]
    if step == "title":
        await show(event, _("Raise a problem to the national level. A short title, please "
                            "({low} to {limit} characters).").format(
                                low=ni.TITLE_MIN, limit=ni.TITLE_MAX),
                   markup([nav_row(back=False)]))
    elif step == "topic":
        buttons = [button(topic_label(t), Pick(step="it", value=t.value)) for t in IssueTopic]
        await show(event, _("Which topic is it?"), markup([*grid(buttons, 2), nav_row()]))
    elif step == "problem":
        await show(event, _("What is the problem? Describe it as it is in your municipality "
                            "(up to {limit} characters).").format(limit=ni.TEXT_MAX),
                   markup([nav_row()]))
    elif step == "cause":
        await show(event, _("Which law, rule or practice causes it? You may skip this."),
                   markup([skip, nav_row()]))
    elif step == "solution":
        await show(event, _("What do you propose? (up to {limit} characters)").format(
            limit=ni.TEXT_MAX), markup([nav_row()]))
    elif step == "body":
        bodies = await reference.state_bodies(db, member.language)
        rows = page_rows([button(short(p.name, 60), Pick(step="ib", value=str(p.id)))
                          for p in bodies], page, lambda n: Pick(step="ibp", value=str(n)))
        rows.append([button(_("I do not know"), Pick(step="ib", value="0"))])
        await show(event, _("Which state body should act?"), markup([*rows, nav_row()]))
    elif step == "documents":
        docs = data.get("documents", [])
        text = _("Send evidence documents (up to {limit} files of at most {mb} MB: PDF, Word, "
                 "Excel, ODT, JPG or PNG), then press Done.").format(
                     limit=ni.DOCUMENTS_MAX, mb=files.MAX_MB)
        if docs:
            text += "\n" + "\n".join("📎 " + html.escape(d["name"]) for d in docs)
        await show(event, text, markup([[button(_("Done") + " ➡️", Nav(action="skip"))],
                                        nav_row()]))
    elif step == "sensitive":
        await show(event, _("Is this issue sensitive? A restricted issue is seen only by the "
                            "Union staff and you; others cannot co-sign it."),
                   markup([[button("🔓 " + _("No, everyone may see it"),
                                   Pick(step="is", value="0"))],
                           [button("🔒 " + _("Yes, restricted"), Pick(step="is", value="1"))],
                           nav_row()]))
    elif step == "confirm":
        await show(event, await _summary(db, member, data),
                   markup([[button("✅ " + _("Confirm and raise"), Pick(step="ic", value="yes"))],
                           nav_row()]))


async def _summary(db: Database, member: MemberView, data: dict[str, Any]) -> str:
    e = html.escape
    body = "—"
    if data.get("body"):
        body = next((p.name for p in await reference.state_bodies(db, member.language)
                     if p.id == data["body"]), "—")
    lines = [_("Please check before raising it:"), "",
             f"<b>{e(data.get('title', ''))}</b>",
             _("Topic: {topic}").format(topic=topic_label(data.get("topic", "other"))),
             _("Who should act: {body}").format(body=e(body)), "",
             "<b>" + _("The problem") + "</b>", clip(data.get("problem"), 1000)]
    if data.get("cause"):
        lines += ["<b>" + _("What causes it") + "</b>", clip(data["cause"], 1000)]
    lines += ["<b>" + _("Proposed solution") + "</b>", clip(data.get("solution"), 1000)]
    docs = data.get("documents", [])
    if docs:
        lines.append("📎 " + ", ".join(e(d["name"]) for d in docs))
    if data.get("sensitive"):
        lines.append("🔒 " + _("Restricted: only the Union staff and the author see it."))
    return fit(lines)


# --- entry and navigation ----------------------------------------------------------------------


async def start(event: Event, state: FSMContext, db: Database,
                member: MemberView | None) -> None:
    if member is None or not member.active:
        await show(event, _("You are not allowed to do that."))
        return
    await state.set_data({"documents": []})
    await ask(event, state, db, member, "title")


@router.message(Command("raise"))
async def on_raise(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    await start(message, state, db, member)


@router.callback_query(Menu.filter(F.item == "raise"))
async def on_raise_button(query: CallbackQuery, state: FSMContext, db: Database,
                          member: MemberView | None) -> None:
    await query.answer()
    await start(query, state, db, member)


def _next(step: str, direction: int = 1) -> str:
    i = max(0, min(ORDER.index(step) + direction, len(ORDER) - 1))
    return ORDER[i]


@router.callback_query(Nav.filter(), StateFilter(RaiseIssue))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    await query.answer()
    step = _step(await state.get_state())
    if member is None or step is None:
        return
    if callback_data.action == "cancel":
        await state.clear()
        await show(query, _("Cancelled. Nothing was raised."))
    elif callback_data.action == "back":
        await ask(query, state, db, member, _next(step, -1))
    elif callback_data.action == "skip" and step in ("cause", "documents"):
        if step == "cause":
            data = await state.get_data()
            data["cause"] = None
            await state.set_data(data)
        await ask(query, state, db, member, _next(step))


@router.message(StateFilter(RaiseIssue), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None or message.text is None:
        return
    if step not in TEXT_STEPS:
        await message.answer(_("Please use the buttons."))
        return
    data = await state.get_data()
    try:
        if step == "title":
            data["title"] = ni.clean_title(message.text)
        else:
            data[step] = ni.clean_text(message.text)
    except InvalidInput as exc:
        await message.answer(refusal(exc))
        return
    await state.set_data(data)
    await ask(message, state, db, member, _next(step))


@router.message(StateFilter(RaiseIssue.documents), F.document | F.photo)
async def on_document(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    docs = list(data.get("documents", []))
    if len(docs) >= ni.DOCUMENTS_MAX:
        await message.answer(refusal(InvalidInput("issue_documents", limit=ni.DOCUMENTS_MAX)))
        return
    try:
        doc = attachment_of(message)  # with its kind: a photo is sent back as a photo
    except InvalidInput as exc:
        await message.answer(refusal(exc))
        return
    docs.append(doc)
    data["documents"] = docs
    await state.set_data(data)
    await message.answer(_("Attached: {name}. Send more, or press Done.").format(
        name=html.escape(doc["name"])),
        reply_markup=markup([[button(_("Done") + " ➡️", Nav(action="skip"))]]))


@router.message(StateFilter(RaiseIssue))
async def on_other(message: Message, state: FSMContext) -> None:
    await wrong_input(message, _step(await state.get_state()), TEXT_STEPS)


@router.callback_query(Pick.filter(F.step.in_({"it", "ib", "ibp", "is", "ic"})),
                       StateFilter(RaiseIssue))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None:
        await query.answer()
        return
    expected = {"it": "topic", "ib": "body", "ibp": "body", "is": "sensitive", "ic": "confirm"}
    if expected[callback_data.step] != step:
        await query.answer(_("This button is no longer active."))
        if step in ORDER:  # the step the member is on (its prompt may be lost to a restart)
            await ask(query, state, db, member, step)
        return
    data = await state.get_data()
    value = callback_data.value
    if callback_data.step == "ibp":
        await query.answer()
        await ask(query, state, db, member, "body", page_number(value))
        return
    if step == "topic":
        if value not in {t.value for t in IssueTopic}:
            await query.answer(_("That choice is not available. Please try again."))
            return
        data["topic"] = value
    elif step == "body":
        bodies = {p.id for p in await reference.state_bodies(db, member.language)}
        body_id = parse_id(value)
        if body_id is None or (body_id and body_id not in bodies):
            await query.answer(_("That choice is not available. Please try again."))
            return
        data["body"] = body_id or None
    elif step == "sensitive":
        data["sensitive"] = value == "1"
    elif step == "confirm":
        await query.answer()
        await _submit(query, state, member, db, data)
        return
    await query.answer()
    await state.set_data(data)
    await ask(query, state, db, member, _next(step))


async def _submit(query: CallbackQuery, state: FSMContext, member: MemberView, db: Database,
                  data: dict[str, Any]) -> None:
    try:
        issue = await ni.raise_issue(db, member.id, _draft(data))
    except ServiceError as exc:
        await show(query, refusal(exc), markup([nav_row()]))
        return
    await state.clear()
    assert issue.id is not None
    await show(query, _("Your issue {id} is registered. Other members can now co-sign it, "
                        "and the Union staff will review it.").format(id=ni.short_id(issue.id)),
               markup([[button(_("Open the issue"), Iss(action="o", issue_id=issue.id))]]))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is not None:
        await ask(message, state, db, member, step)


guard.register(RaiseIssue, __("the problem you are raising"), _resume)
steps.track(RaiseIssue)
