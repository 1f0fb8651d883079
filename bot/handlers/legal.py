"""The legal desk after the intake: a case and its timeline, the lawyers' queue (`/legal`), what
lawyers, requesters and staff do to a case, and the monthly figures. Every button goes through a
`legal` service, which re-checks who may do what to the case id it carries."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.delivery.attachments import send_attachments
from bot.flows.legal_intake import keep_document
from bot.flows.ui import Event, remember, show
from bot.i18n import _
from bot.services import legal, questions
from bot.services.errors import InvalidState, PermissionDenied, ServiceError
from bot.services.legal import Doc
from bot.services.members import MemberView
from bot.services.policy import Capability, capabilities
from bot.views.buttons import button, markup, nav_row
from bot.views.callbacks import Lc, Lq, Nav, Pick, Qn
from bot.views.labels import refusal
from bot.views.legal import (
    case_buttons,
    case_card,
    case_line,
    category_label,
    open_button,
    timeline_messages,
)
from storage.db import Database
from storage.enums import LegalStatus
from storage.types import utcnow

router = Router(name="legal")

MONTHS_BACK = 12


class CaseInput(StatesGroup):
    message = State()  # an answer, a request for information or the requester's message
    attach = State()  # … its documents, then Send (text → attach → Send, as for questions)
    comment = State()  # a comment on the rating
    question = State()  # staff edit the anonymised question
    answer = State()  # … and the answer


def _desk(member: MemberView | None) -> bool:
    return member is not None and Capability.LEGAL_DESK in capabilities(member.roles,
                                                                          member.active)


def _staff(member: MemberView) -> bool:
    return Capability.ADMIN in capabilities(member.roles, member.active)


# --- the case ----------------------------------------------------------------------------------


async def show_case(event: Event, db: Database, member: MemberView, case_id: int) -> None:
    view = await legal.case_view(db, member.id, case_id)
    text, cut = case_card(view, member.language)
    await show(event, text, case_buttons(view, cut))


# --- the lawyers' queue ------------------------------------------------------------------------


def view_label(view: str) -> str:
    return {"new": "🆕 " + _("New"), "mine": "👤 " + _("Mine"),
            "waiting": "⏳ " + _("Waiting for the requester"),
            "overdue": "⚠️ " + _("Overdue"),
            "knowledge": "📚 " + _("For the knowledge base")}.get(view, view)


async def show_queue(event: Event, db: Database, member: MemberView, settings: Settings) -> None:
    views = legal.QUEUE_VIEWS + (("knowledge",) if _staff(member) else ())
    counts = await legal.queue_counts(db, member.id, views,
                                      first_response_hours=settings.legal_first_response_hours)
    rows = [[button(f"{view_label(v)} ({counts[v]})", Lq(view=v))] for v in views]
    if _staff(member):
        rows.append([button("📊 " + _("Monthly figures"), Lq(view="fig"))])
    await show(event, "⚖️ " + _("Legal desk. Cases with a near deadline come first."),
               markup(rows))


async def show_list(event: Event, db: Database, member: MemberView, settings: Settings,
                    view: str) -> None:
    cases = await legal.queue(db, member.id, view,
                              first_response_hours=settings.legal_first_response_hours)
    rows = [[button(case_line(c, member.language), Lc(action="open", case_id=c.id or 0))]
            for c in cases]
    rows.append([button("⬅️ " + _("Back"), Lq(view="desk"))])
    text = view_label(view) + "\n" + (_("No cases here.") if not cases else "")
    await show(event, text.strip(), markup(rows))


def _month_key(year: int, month: int) -> int:
    return year * 100 + month


def _shift(key: int, months: int) -> int:
    index = (key // 100) * 12 + key % 100 - 1 + months
    return _month_key(index // 12, index % 12 + 1)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


async def show_figures(event: Event, db: Database, member: MemberView, key: int) -> None:
    now = utcnow().astimezone(legal.BISHKEK)
    current = _month_key(now.year, now.month)
    if not _shift(current, -MONTHS_BACK) <= key <= current:
        key = current
    figures = await legal.monthly_figures(db, member.id, key // 100, key % 100)
    lines = [_("Legal desk, {month}.{year}").format(month=f"{figures.month:02d}",
                                                    year=figures.year),
             _("Cases: {count}").format(count=figures.total)]
    lines += [f"— {category_label(c)}: {n}" for c, n in figures.by_category.items()]
    lines.append(_("Median time to first response: {hours} h").format(
        hours=_hours(figures.median_first_response_hours)))
    lines.append(_("Median time to close: {hours} h").format(
        hours=_hours(figures.median_close_hours)))
    lines.append(_("Mean rating: {rating} ({count} ratings)").format(
        rating="—" if figures.mean_rating is None else f"{figures.mean_rating:.1f}",
        count=figures.ratings))
    nav = []
    if key > _shift(current, -MONTHS_BACK):
        nav.append(button("◀", Lq(view="fig", value=_shift(key, -1))))
    if key < current:
        nav.append(button("▶", Lq(view="fig", value=_shift(key, 1))))
    await show(event, "\n".join(lines), markup([nav, [button("⬅️ " + _("Back"),
                                                             Lq(view="desk"))]]))


@router.message(Command("legal"), F.chat.type == "private")
async def on_legal(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None, settings: Settings) -> None:
    if member is None or not _desk(member):
        await message.answer(_("The legal desk is for the Union's lawyers and staff. To ask "
                               "for legal help, send /lawyer."))
        return
    await state.clear()
    await show_queue(message, db, member, settings)


@router.callback_query(Lq.filter(F.view != "ask"))
async def on_list(query: CallbackQuery, callback_data: Lq, db: Database,
                  member: MemberView | None, settings: Settings) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    view = callback_data.view
    try:
        if view == "desk":
            await show_queue(query, db, member, settings)
        elif view in (*legal.QUEUE_VIEWS, "knowledge"):
            await show_list(query, db, member, settings, view)
        elif view == "fig":
            await show_figures(query, db, member, callback_data.value)
        else:
            await query.answer(_("This button is no longer active."))
            return
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()


# --- what people do to a case ------------------------------------------------------------------

PROMPTS = {
    "answer": lambda: _("Send your answer as text. You can attach documents next."),
    "info": lambda: _("What information do you need from the requester? You can attach "
                      "documents next."),
    "reply": lambda: _("Send your message to the lawyer. You can attach documents next."),
}


def _send_markup() -> Any:
    return markup([[button("📨 " + _("Send"), Pick(step="cs", value="send"))],
                   nav_row(back=False)])


def _attach_prompt(data: dict[str, Any]) -> str:
    text = _("Attach documents if you wish (up to {limit}), then press Send.").format(
        limit=legal.DOCUMENTS_MAX)
    docs = data.get("documents", [])
    if docs:
        text += "\n" + "\n".join("📎 " + html.escape(d["name"]) for d in docs)
    return text


@router.callback_query(Lc.filter())
async def on_case(query: CallbackQuery, callback_data: Lc, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, cid, value = callback_data.action, callback_data.case_id, callback_data.value
    try:
        await _act(query, state, db, member, action, cid, value)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


async def _act(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
               action: str, cid: int, value: int) -> None:
    if action == "open":
        await show_case(query, db, member, cid)
        await query.answer()
    elif action == "take":
        await legal.take_case(db, member.id, cid)
        await query.answer(_("The case is yours."))
        await show_case(query, db, member, cid)
    elif action == "assign":
        colleagues = await legal.lawyers(db, member.id)
        await legal.case_view(db, member.id, cid)
        await query.answer()
        rows = [[button(name, Lc(action="to", case_id=cid, value=mid))]
                for mid, name in colleagues]
        await show(query, _("Assign {code} to:").format(code=legal.case_code(cid)),
                   markup([*rows, open_button(cid)]))
    elif action == "to":
        await legal.assign_case(db, member.id, cid, value)
        await query.answer(_("Assigned."))
        await show_case(query, db, member, cid)
    elif action in PROMPTS:
        view = await legal.case_view(db, member.id, cid)
        if view.case.status == LegalStatus.CLOSED:
            raise InvalidState("legal_case_closed", case=legal.case_code(cid))
        if not (view.is_requester if action == "reply" else view.can_work):
            raise PermissionDenied()
        await query.answer()
        await remember(state, CaseInput.message, {"case_id": cid, "action": action,
                                                  "documents": []})
        await show(query, PROMPTS[action](), markup([nav_row(back=False)]))
    elif action == "close":
        await legal.close_case(db, member.id, cid)
        await query.answer(_("The case is closed."))
        await show_case(query, db, member, cid)
    elif action == "reopen":
        await legal.reopen_case(db, member.id, cid)
        await query.answer(_("The case is open again; the lawyer will see it."), show_alert=True)
        await show_case(query, db, member, cid)
    elif action == "rate":
        await legal.rate_case(db, member.id, cid, value)
        await query.answer(_("Thank you for the rating."))
        await _after_rating(query, cid)
    elif action == "comment":
        await legal.case_view(db, member.id, cid)
        await query.answer()
        await remember(state, CaseInput.comment, {"case_id": cid})
        await show(query, _("Send your comment on the lawyers' help."),
                   markup([nav_row(back=False)]))
    elif action in ("pubyes", "pubno"):
        await legal.set_publication_consent(db, member.id, cid, action == "pubyes")
        await query.answer(_("Noted. Thank you."))
        await show(query, _("Noted. Thank you."), markup([open_button(cid)]))
    elif action == "publish":
        question, answer = await legal.publication_draft(db, member.id, cid)
        await query.answer()
        await remember(state, CaseInput.question, {"case_id": cid, "question": question,
                                                   "answer": answer})
        await _ask_publication(query, "question", question)
    elif action == "keep":
        await _keep(query, state, db, member)
    elif action == "all":
        view = await legal.case_view(db, member.id, cid)
        await query.answer()
        if isinstance(query.message, Message):
            for text in timeline_messages(view, member.language):
                await query.message.answer(text)
    elif action == "docs":
        view = await legal.case_view(db, member.id, cid)
        await query.answer()
        if isinstance(query.message, Message) and query.bot is not None:
            await send_attachments(query.bot, query.message.chat.id, view.documents, named=True)
    else:
        await query.answer(_("This button is no longer active."))


async def _after_rating(event: Event, cid: int) -> None:
    await show(event, _("Your rating is saved. You may add a comment. May the Union publish this "
                        "question and answer without names, so other municipalities can learn "
                        "from it?"),
               markup([[button("💬 " + _("Add a comment"), Lc(action="comment", case_id=cid))],
                       [button("✅ " + _("Yes, publish without names"),
                               Lc(action="pubyes", case_id=cid)),
                        button("🚫 " + _("Do not publish"), Lc(action="pubno", case_id=cid))],
                       open_button(cid)]))


async def _ask_publication(event: Event, part: str, draft: str) -> None:
    head = (_("The question for the knowledge base, without names:") if part == "question"
            else _("The answer for the knowledge base, without names:"))
    text = head + "\n\n" + html.escape(draft) + "\n\n" + _(
        "Send an edited text, or keep this one.")
    await show(event, text[:4000], markup([[button("✅ " + _("Keep"),
                                                   Lc(action="keep", case_id=0))],
                                           nav_row(back=False)]))


async def _keep(query: CallbackQuery, state: FSMContext, db: Database,
                member: MemberView) -> None:
    current = await state.get_state()
    data = await state.get_data()
    await query.answer()
    if current == CaseInput.question.state:
        await remember(state, CaseInput.answer, data)
        await _ask_publication(query, "answer", data.get("answer", ""))
    elif current == CaseInput.answer.state:
        await _store_publication(query, state, db, member, data)
    else:
        await show(query, _("This button is no longer active."))


async def _store_publication(event: Event, state: FSMContext, db: Database,
                             member: MemberView, data: dict[str, Any]) -> None:
    cid = int(data["case_id"])
    try:
        await legal.prepare_publication(db, member.id, cid, data.get("question", ""),
                                        data.get("answer", ""))
        question_id = await legal.publish_to_knowledge_base(db, member.id, cid)
    except ServiceError as exc:
        await show(event, refusal(exc))
        if exc.code != "legal_text":
            await state.clear()
        return
    await state.clear()
    await show(event, _("Published in the knowledge base as {label}: members find it with "
                        "/search.").format(label=questions.label(question_id)),
               markup([open_button(cid), [button("👁 " + questions.label(question_id),
                                                 Qn(action="open", question_id=question_id))]]))


# --- typed input ---------------------------------------------------------------------------


@router.callback_query(Nav.filter(), StateFilter(CaseInput))
async def on_input_cancel(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    await state.clear()
    await query.answer()
    cid = int(data.get("case_id") or 0)
    await show(query, _("Cancelled."), markup([open_button(cid)]) if cid else None)


@router.message(StateFilter(CaseInput.message, CaseInput.attach), F.document | F.photo)
async def on_input_document(message: Message, state: FSMContext, settings: Settings) -> None:
    name = await keep_document(message, state, settings.legal_document_max_mb)
    if name is None:
        return
    if await state.get_state() == CaseInput.attach.state:
        await message.answer(_("Attached: {name}. Send more, or press Send.").format(
            name=html.escape(name)), reply_markup=_send_markup())
    else:
        await message.answer(_("Attached: {name}. Send more documents, or your text.").format(
            name=html.escape(name)))


@router.callback_query(Pick.filter(F.step == "cs"), StateFilter(CaseInput.attach))
async def on_send(query: CallbackQuery, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    await query.answer()
    if member is None or not isinstance(query.message, Message):
        return
    await _send_message(query, state, db, member, await state.get_data())


@router.message(StateFilter(CaseInput), F.text)
async def on_input_text(message: Message, state: FSMContext, db: Database,
                        member: MemberView | None) -> None:
    current = await state.get_state()
    data = await state.get_data()
    if member is None or message.text is None:
        return
    if len(message.text) > legal.MESSAGE_MAX:
        await message.answer(_("That is too long: at most {limit} characters.").format(
            limit=legal.MESSAGE_MAX))
        return
    cid = int(data["case_id"])
    if current in (CaseInput.question.state, CaseInput.answer.state):
        key = "question" if current == CaseInput.question.state else "answer"
        data[key] = message.text.strip()
        if key == "question":
            await remember(state, CaseInput.answer, data)
            await _ask_publication(message, "answer", data.get("answer", ""))
        else:
            await _store_publication(message, state, db, member, data)
        return
    if current == CaseInput.comment.state:
        try:
            await legal.comment_rating(db, member.id, cid, message.text)
        except ServiceError as exc:
            await message.answer(refusal(exc))
            if exc.code != "legal_text":
                await state.clear()
            return
        await state.clear()
        await message.answer(_("Your comment was recorded. Thank you."),
                             reply_markup=markup([open_button(cid)]))
        return
    # The text first, then documents, then Send (the text may be replaced until Send).
    data["text"] = message.text
    await remember(state, CaseInput.attach, data)
    await message.answer(_attach_prompt(data), reply_markup=_send_markup())


async def _send_message(query: CallbackQuery, state: FSMContext, db: Database,
                        member: MemberView, data: dict[str, Any]) -> None:
    """Send the lawyer's answer or question, or the requester's message, with its documents:
    what was done replaces the prompt and its Send button (a refusal comes below it)."""
    assert isinstance(query.message, Message)
    message = query.message
    cid = int(data.get("case_id") or 0)
    text = str(data.get("text", ""))
    docs = [Doc(**d) for d in data.get("documents", [])]
    action = data.get("action")
    try:
        if action == "answer":
            await legal.answer_case(db, member.id, cid, text, docs)
            done = _("Your answer was sent to the requester.")
        elif action == "info":
            await legal.request_info(db, member.id, cid, text, docs)
            done = _("Your question was sent to the requester.")
        else:
            await legal.add_requester_reply(db, member.id, cid, text, docs)
            done = _("Your message was added to the case; the lawyer will see it.")
    except ServiceError as exc:
        await message.answer(refusal(exc))
        if exc.code != "legal_text":
            await state.clear()
        return
    await state.clear()
    await show(query, done, markup([open_button(cid)]))


@router.message(StateFilter(CaseInput))
async def on_input_other(message: Message, state: FSMContext) -> None:
    if await state.get_state() == CaseInput.attach.state:
        await message.answer(_("Please send documents or photos, or press Send."),
                             reply_markup=_send_markup())
        return
    await message.answer(_("Please send text, not a file, sticker or voice message."))

