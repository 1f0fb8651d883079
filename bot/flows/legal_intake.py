"""Asking the Union's lawyers for help (`/lawyer`, or ⚖️ in the home menu): the guided intake.

category → what happened → the act or decision in question (optional) → deadline (a calendar,
or none) → documents (optional, up to 10) → consent to share with the Union's lawyers → confirm
→ a case id (L-45). Answers live in FSM state (in the database, so a restart loses nothing);
`legal.open_case` checks everything again.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, time
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.flows import guard, steps
from bot.flows.dates import BISHKEK, date_refusal, parse_moment
from bot.flows.ui import Event, notice, remember, show, wrong_input
from bot.i18n import _, __, format_day
from bot.services import files, legal
from bot.services.errors import ServiceError
from bot.services.legal import Doc, Intake
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup, nav_row
from bot.views.callbacks import Lc, Lq, Menu, Nav, Pick, parse_id
from bot.views.labels import refusal
from bot.views.legal import calendar, case_line, category_label
from storage.db import Database
from storage.enums import LegalCategory
from storage.types import utcnow

router = Router(name="legal_intake")
router.message.filter(F.chat.type == "private")


class LegalIntake(StatesGroup):
    category = State()
    summary = State()
    act = State()
    deadline = State()
    documents = State()
    consent = State()
    confirm = State()


ORDER = ["category", "summary", "act", "deadline", "documents", "consent", "confirm"]
TEXT_STEPS = {"summary", "act", "deadline"}


def _step(raw: str | None) -> str | None:
    return raw.split(":", 1)[1] if raw and raw.startswith("LegalIntake:") else None


def _today() -> date:
    return utcnow().astimezone(BISHKEK).date()


# --- the member's legal help page --------------------------------------------------------------


async def show_my_requests(event: Event, db: Database, member: MemberView) -> None:
    """A member's own requests, and a button to ask for help."""
    cases = await legal.my_cases(db, member.id)
    text = "⚖️ " + _("Legal help from the Union's lawyers. Your request is private: only you, "
                     "the lawyers and the Union staff see it.")
    rows = [[button("➕ " + _("New request"), Lq(view="ask"))]]
    if cases:
        text += "\n\n" + _("Your requests:")
        rows += [[button(case_line(c, member.language), Lc(action="open", case_id=c.id or 0))]
                 for c in cases]
    await show(event, text, markup(rows))


@router.message(Command("lawyer"))
async def on_lawyer(message: Message, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None or not member.active:
        await message.answer(_("You are not allowed to do that."))
        return
    await state.clear()
    await show_my_requests(message, db, member)


@router.callback_query(Menu.filter(F.item == "legal"))
async def on_menu(query: CallbackQuery, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    await query.answer()
    if member is None or not member.active:
        return
    await state.clear()
    await show_my_requests(query, db, member)


@router.callback_query(Lq.filter(F.view == "ask"))
async def on_new(query: CallbackQuery, state: FSMContext, member: MemberView | None) -> None:
    await query.answer()
    if member is None or not member.active:
        return
    await remember(state, LegalIntake.category, {"documents": []})
    await ask(query, state, member, "category")


# --- asking each question --------------------------------------------------------------------


async def ask(event: Event, state: FSMContext, member: MemberView, step: str,
              month: tuple[int, int] | None = None) -> None:
    data = await state.get_data()
    await remember(state, getattr(LegalIntake, step), data)
    skip = [button(_("Skip") + " ➡️", Nav(action="skip"))]
    if step == "category":
        buttons = [button(category_label(c), Pick(step="lcat", value=c.value))
                   for c in LegalCategory]
        await show(event, _("What is your legal question about?"),
                   markup([*grid(buttons, 1), nav_row(back=False)]))
    elif step == "summary":
        await show(event, _("Describe what happened and what you want to know (up to {limit} "
                            "characters).").format(limit=legal.SUMMARY_MAX),
                   markup([nav_row()]))
    elif step == "act":
        await show(event, _("Which act or decision is in question? For example: decision of "
                            "the aiyl kenesh No. 12 of 01.10.2026. Or skip."),
                   markup([skip, nav_row()]))
    elif step == "deadline":
        today = _today()
        year, mon = month or (today.year, today.month)
        await show(event, _("Is there a deadline? Pick a day, type a date such as 25.12.2026, "
                            "or choose No deadline."),
                   markup([*calendar(year, mon, member.language, today),
                           [button(_("No deadline") + " ➡️", Nav(action="skip"))], nav_row()]))
    elif step == "documents":
        docs = data.get("documents", [])
        text = _("Send documents if you have them (up to {limit} files of up to {mb} MB each: "
                 "{types}, photos), then press Done.").format(
            limit=legal.DOCUMENTS_MAX, mb=files.MAX_MB, types=files.TYPES)
        if docs:
            text += "\n" + "\n".join("📎 " + html.escape(d["name"]) for d in docs)
        await show(event, text, markup([[button(_("Done") + " ➡️", Nav(action="skip"))],
                                        nav_row()]))
    elif step == "consent":
        await show(event, _("Do you agree that your request and its documents are shared with "
                            "the lawyers of the Union of LSGs? Nobody else will see them."),
                   markup([[button("✅ " + _("I agree"), Pick(step="lok", value="yes"))],
                           nav_row()]))
    elif step == "confirm":
        await show(event, _summary(data, member.language),
                   markup([[button("📨 " + _("Send the request"),
                                   Pick(step="lgo", value="yes"))], nav_row()]))


def _summary(data: dict[str, Any], locale: str) -> str:
    lines = [_("Please check your request:"),
             _("Topic: {value}").format(value=category_label(data["category"])),
             html.escape(data.get("summary", ""))]
    if data.get("act"):
        lines.append(_("Act or decision: {act}").format(act=html.escape(data["act"])))
    deadline = datetime.fromisoformat(data["deadline"]) if data.get("deadline") else None
    lines.append(_("Deadline: {date}").format(
        date=format_day(deadline, locale) if deadline else _("none")))
    for d in data.get("documents", []):
        lines.append("📎 " + html.escape(d["name"]))
    return "\n".join(lines)[:4000]


def _intake(data: dict[str, Any]) -> Intake:
    return Intake(
        category=LegalCategory(data["category"]), summary=data.get("summary", ""),
        act=data.get("act"),
        deadline=datetime.fromisoformat(data["deadline"]) if data.get("deadline") else None,
        documents=[Doc(**d) for d in data.get("documents", [])],
        consent=bool(data.get("consent")),
    )


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=BISHKEK).astimezone(UTC)


# --- answers -------------------------------------------------------------------------------


@router.callback_query(Nav.filter(), StateFilter(LegalIntake))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext,
                 member: MemberView | None) -> None:
    await query.answer()
    step = _step(await state.get_state())
    if member is None or step is None:
        return
    data = await state.get_data()
    if callback_data.action == "cancel":
        await state.clear()
        await show(query, _("Cancelled. Nothing was sent."))
    elif callback_data.action == "back":
        await ask(query, state, member, ORDER[max(0, ORDER.index(step) - 1)])
    elif callback_data.action == "skip" and step in ("act", "deadline", "documents"):
        if step != "documents":
            data[step] = None
            await state.set_data(data)
        await ask(query, state, member, ORDER[ORDER.index(step) + 1])


@router.callback_query(Pick.filter(F.step.startswith("l")), StateFilter(LegalIntake))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None:
        await query.answer()
        return
    data = await state.get_data()
    kind, value = callback_data.step, callback_data.value
    if kind == "lcat" and step == "category" and value in {c.value for c in LegalCategory}:
        await query.answer()
        data["category"] = value
        await state.set_data(data)
        await ask(query, state, member, "summary")
    elif kind in ("ldm", "ldd") and step == "deadline":
        await _on_calendar(query, state, member, data, kind, value)
    elif kind == "lok" and step == "consent":
        await query.answer()
        data["consent"] = True
        await state.set_data(data)
        await ask(query, state, member, "confirm")
    elif kind == "lgo" and step == "confirm":
        await _submit(query, state, db, member, data)
    else:
        await query.answer(_("This button is no longer active."))
        await ask(query, state, member, step)  # the step's prompt, lost to a restart?


async def _on_calendar(query: CallbackQuery, state: FSMContext, member: MemberView,
                       data: dict[str, Any], kind: str, value: str) -> None:
    try:
        read = [parse_id(p, 9999) for p in value.split("-")]
        parts = [p for p in read if p is not None]
        if len(parts) != len(read):
            raise ValueError(value)
        if kind == "ldm":
            shown = date(parts[0], parts[1], 1)
        else:
            shown = date(parts[0], parts[1], parts[2])
    except (ValueError, IndexError):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    today = _today()
    if kind == "ldm":
        if (shown.year, shown.month) < (today.year, today.month):
            shown = today
        await ask(query, state, member, "deadline", (shown.year, shown.month))
        return
    if shown < today:
        await ask(query, state, member, "deadline")
        return
    data["deadline"] = _end_of_day(shown).isoformat()
    await state.set_data(data)
    await ask(query, state, member, "documents")


@router.message(StateFilter(LegalIntake), F.text)
async def on_text(message: Message, state: FSMContext, member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None or message.text is None:
        return
    if step not in TEXT_STEPS:
        await message.answer(_("Please use the buttons."))
        return
    text = message.text.strip()
    data = await state.get_data()
    if step == "summary":
        if len(text) > legal.SUMMARY_MAX:
            await message.answer(_("That is too long: at most {limit} characters.").format(
                limit=legal.SUMMARY_MAX))
            return
        if len(text) < 10:
            await message.answer(_("Please describe the situation in a few sentences."))
            return
        data["summary"] = text
    elif step == "act":
        if len(text) > legal.ACT_MAX:
            await message.answer(_("That is too long: at most {limit} characters.").format(
                limit=legal.ACT_MAX))
            return
        data["act"] = text
    elif step == "deadline":
        moment = parse_moment(text, end_of_day=True)
        if moment is None or moment <= utcnow():
            await message.answer(date_refusal(text, _("Please send a future date, for example "
                                                      "25.12.2026.")))
            return
        data["deadline"] = moment.isoformat()
    await state.set_data(data)
    await ask(message, state, member, ORDER[ORDER.index(step) + 1])


def document_of(message: Message, max_mb: int) -> Doc:
    """The document or photo in a message, checked against the desk's limits."""
    if message.photo:
        photo = message.photo[-1]
        return legal.check_document(photo.file_id, None, "image/jpeg", photo.file_size,
                                    max_mb)
    assert message.document is not None
    d = message.document
    return legal.check_document(d.file_id, d.file_name, d.mime_type, d.file_size, max_mb)


async def keep_document(message: Message, state: FSMContext, max_mb: int) -> str | None:
    """Add the message's document to the conversation's `documents`; its name, or None after
    telling the member why it was refused."""
    data = await state.get_data()
    docs = list(data.get("documents", []))
    if len(docs) >= legal.DOCUMENTS_MAX:
        await message.answer(_("At most {limit} documents.").format(limit=legal.DOCUMENTS_MAX))
        return None
    try:
        doc = document_of(message, max_mb)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return None
    docs.append({"file_id": doc.file_id, "name": doc.name, "mime_type": doc.mime_type,
                 "size": doc.size})
    data["documents"] = docs
    await state.set_data(data)
    return doc.name


@router.message(StateFilter(LegalIntake.documents), F.document | F.photo)
async def on_document(message: Message, state: FSMContext, settings: Settings) -> None:
    name = await keep_document(message, state, settings.legal_document_max_mb)
    if name is None:
        return
    await message.answer(_("Attached: {name}. Send more, or press Done.").format(
        name=html.escape(name)),
        reply_markup=markup([[button(_("Done") + " ➡️", Nav(action="skip"))]]))


@router.message(StateFilter(LegalIntake))
async def on_other(message: Message, state: FSMContext) -> None:
    await wrong_input(message, _step(await state.get_state()), TEXT_STEPS)


async def _submit(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                  data: dict[str, Any]) -> None:
    try:
        case_id = await legal.open_case(db, member.id, _intake(data))
    except (ServiceError, KeyError, ValueError) as exc:
        await notice(query, refusal(exc) if isinstance(exc, ServiceError)
                     else _("That choice is not available. Please try again."))
        return
    await query.answer()
    await state.clear()
    await show(query, _("Your request {code} was sent to the Union's lawyers. You will get "
                        "their answer here.").format(code=legal.case_code(case_id)),
               markup([[button("📂 " + _("Open the case"), Lc(action="open", case_id=case_id))]]))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is not None:
        await ask(message, state, member, step)


guard.register(LegalIntake, __("your request to the lawyers"), _resume)
steps.track(LegalIntake)
