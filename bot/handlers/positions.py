"""Staff on a draft law: the comments whole (paged, DOCX, XLSX), the Union's position and its
sign-off by the district leaders, the letter, the bill's stage; members' effect reports on an
adopted law."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.flows.attachments import attachment_of
from bot.flows.dates import date_refusal, parse_moment
from bot.flows.ui import show
from bot.i18n import _
from bot.services import bill_stages, effect_reports, law_comments, positions, reference
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.buttons import Row, button, markup, nav_row
from bot.views.callbacks import Nav
from bot.views.positions import (
    Bs,
    Ef,
    Lo,
    Lp,
    Lv,
    Lw,
    audience_keyboard,
    audience_text,
    comment_words,
    comments_keyboard,
    confirm_keyboard,
    confirm_text,
    date_prompt,
    deadline_keyboard,
    deadline_text,
    effect_words,
    letter_words,
    position_card,
    position_keyboard,
    stage_label,
    stages_keyboard,
    tally_text,
)
from bot.views.vertical_labels import refusal
from storage.db import Database

router = Router(name="positions")
OPEN_KEY = "position_open"  # the audience and deadline chosen before a sign-off opens


class PositionDraft(StatesGroup):
    addressee = State()
    text_ky = State()
    text_ru = State()
    file = State()


class PositionOpen(StatesGroup):
    date = State()


class PositionSent(StatesGroup):
    reference = State()


class LeaderRemark(StatesGroup):
    remark = State()


class EffectForm(StatesGroup):
    changed = State()
    problem = State()
    figures = State()
    document = State()


async def _send_file(query: CallbackQuery, data: bytes, name: str) -> None:
    if isinstance(query.message, Message):
        await query.message.answer_document(BufferedInputFile(data, filename=name))


async def show_comments(event: Message | CallbackQuery, db: Database, member: MemberView,
                        broadcast_id: int, by: str = "district", page: int = 0) -> None:
    words = comment_words(member.language)
    _title, found = await law_comments.all_comments(db, member.id, broadcast_id, words)
    if not found:
        await show(event, _("No comments yet."))
        return
    pages = law_comments.pages(law_comments.grouped(found, by), by, words)
    page = min(page, len(pages) - 1)
    head = _("{count} comments").format(count=len(found))
    await show(event, f"{head}\n\n{pages[page]}",
               comments_keyboard(broadcast_id, by, page, len(pages)))


@router.callback_query(Lw.filter())
async def on_law(query: CallbackQuery, callback_data: Lw, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, bid = callback_data.action, callback_data.broadcast_id
    try:
        if action in ("district", "article"):
            await show_comments(query, db, member, bid, action, callback_data.page)
        elif action in ("docx", "xlsx"):
            words = comment_words(member.language)
            title, found = await law_comments.all_comments(db, member.id, bid, words)
            if action == "docx":
                data = await asyncio.to_thread(law_comments.comments_docx, title,
                                               law_comments.grouped(found, "district"),
                                               "district", words)
            else:
                data = await asyncio.to_thread(law_comments.comments_xlsx, title, found, words)
            await query.answer()
            await _send_file(query, data, f"comments-B{bid}.{action}")
            return
        elif action == "position":
            found_positions = await positions.of_broadcast(db, member.id, bid)
            if found_positions:
                p = found_positions[-1]
                await show(query, position_card(p, member.language), position_keyboard(p))
            else:
                await state.set_state(PositionDraft.addressee)
                await state.set_data({"broadcast_id": bid})
                await show(query, _("The Union's position. To whom is the letter addressed "
                                    "(a committee or state body)?"), markup([nav_row(False)]))
        elif action == "stages":
            await positions.of_broadcast(db, member.id, bid)  # staff only
            current = await bill_stages.current(db, bid)
            text = _("Bill stage: {stage}").format(
                stage=stage_label(current.stage) if current else "—")
            await show(query, text, stages_keyboard(bid))
        elif action == "effect_ask":
            asked = await effect_reports.request(db, member.id, bid)
            await query.answer(_("{count} members are asked to report the effect.").format(
                count=asked), show_alert=True)
            return
        elif action in ("effect_docx", "effect_xlsx"):
            make = effect_reports.report_docx if action == "effect_docx" \
                else effect_reports.report_xlsx
            data = await make(db, member.id, bid, effect_words(member.language))
            await query.answer()
            await _send_file(query, data, f"effect-B{bid}.{action.split('_')[1]}")
            return
        await query.answer()
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(Bs.filter())
async def on_stage(query: CallbackQuery, callback_data: Bs, db: Database,
                   member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    try:
        told = await bill_stages.move(db, member.id, callback_data.broadcast_id,
                                      callback_data.stage)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await show(query, _("Bill stage: {stage}").format(stage=stage_label(callback_data.stage))
               + "\n" + _("{count} members who commented are told.").format(count=told))


@router.callback_query(Lp.filter())
async def on_position(query: CallbackQuery, callback_data: Lp, state: FSMContext, db: Database,
                      member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, pid = callback_data.action, callback_data.position_id
    try:
        if action == "open":
            await positions.audience_size(db, member.id, pid)  # staff, and still a draft
            await state.update_data({OPEN_KEY: {"pid": pid, "coms": [], "until": None}})
            await query.answer()
            await _show_audience(query, db, member, pid, set())
            return
        if action == "tally":
            found = await positions.tally(db, member.id, pid, member.language)
            await query.answer()
            if isinstance(query.message, Message):
                text = tally_text(found)
                while text:  # whole lines only, never a cut tag
                    cut = text.rfind("\n", 0, 3900) if len(text) > 3900 else len(text)
                    cut = cut if cut > 0 else min(len(text), 3900)
                    await query.message.answer(text[:cut])
                    text = text[cut:].lstrip("\n")
            return
        if action == "letter":
            data = await positions.letter_docx(db, member.id, pid, letter_words(
                "ky" if member.language == "ky" else "ru"))
            await query.answer()
            await _send_file(query, data, f"position-L{pid}.docx")
            return
        if action == "final":
            p = await positions.finalise(db, member.id, pid)
            await query.answer()
            await show(query, position_card(p, member.language), position_keyboard(p))
            return
        if action == "sent":
            p = await positions.get(db, member.id, pid)
            if p.status != "final":
                raise ServiceError("position_not_final")
            await state.set_state(PositionSent.reference)
            await state.set_data({"position_id": pid})
            await query.answer()
            await show(query, _("Send the letter's reference number."), markup([nav_row(False)]))
            return
        p = await positions.get(db, member.id, pid)
        await query.answer()
        await show(query, position_card(p, member.language), position_keyboard(p))
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


async def _show_audience(event: CallbackQuery | Message, db: Database, member: MemberView,
                         pid: int, chosen: set[int]) -> None:
    communities = [(c.id, c.name) for c in await reference.communities(db, member.language)]
    await show(event, audience_text(pid), audience_keyboard(pid, communities, chosen))


async def _show_confirm(event: CallbackQuery | Message, db: Database, member: MemberView,
                        pid: int, chosen: list[int], until: datetime) -> None:
    count = await positions.audience_size(db, member.id, pid, chosen)
    names = [c.name for c in await reference.communities(db, member.language)
             if c.id in chosen]
    await show(event, confirm_text(pid, names, count, until, member.language),
               confirm_keyboard(pid, count))


@router.callback_query(Lo.filter())
async def on_open(query: CallbackQuery, callback_data: Lo, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    """Staff choose who signs the position off and until when, see how many leaders that is,
    and confirm."""
    chosen = (await state.get_data()).get(OPEN_KEY) or {}
    pid, action, value = callback_data.position_id, callback_data.action, callback_data.value
    if member is None or chosen.get("pid") != pid:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    coms = {int(c) for c in chosen.get("coms") or []}
    until = datetime.fromisoformat(chosen["until"]) if chosen.get("until") else None
    try:
        await positions.audience_size(db, member.id, pid, sorted(coms))
        if action in ("aud", "all", "com"):
            if action == "all":
                coms = set()
            elif action == "com":
                known = {c.id for c in await reference.communities(db, member.language)}
                if value not in known:
                    await query.answer(_("That choice is not available. Please try again."))
                    return
                coms ^= {value}
            await _show_audience(query, db, member, pid, coms)
        elif action == "next":
            await show(query, deadline_text(), deadline_keyboard(pid))
        elif action == "days":
            until = positions.preset_deadline(value)
            await _show_confirm(query, db, member, pid, sorted(coms), until)
        elif action == "date":
            await state.set_state(PositionOpen.date)
            await show(query, date_prompt(), markup([nav_row(False)]))
        elif until is None:  # "go" before a deadline was chosen
            await show(query, deadline_text(), deadline_keyboard(pid))
        else:
            asked = await positions.open_signoff(db, member.id, pid, until, sorted(coms))
            await state.update_data({OPEN_KEY: None})
            await query.answer(_("{count} district leaders are asked to sign off.").format(
                count=asked), show_alert=True)
            p = await positions.get(db, member.id, pid)
            await show(query, position_card(p, member.language), position_keyboard(p))
            return
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await state.update_data({OPEN_KEY: {"pid": pid, "coms": sorted(coms),
                                        "until": until.isoformat() if until else None}})
    await query.answer()


async def _typed_deadline(message: Message, state: FSMContext, db: Database,
                          member: MemberView, text: str) -> None:
    chosen = (await state.get_data()).get(OPEN_KEY) or {}
    moment = parse_moment(text, end_of_day=True)
    if moment is None:
        await message.answer(date_refusal(text, date_prompt()))
        return
    try:
        until = positions.check_deadline(moment)
        pid, coms = int(chosen["pid"]), [int(c) for c in chosen.get("coms") or []]
        await state.set_state(None)
        await state.update_data({OPEN_KEY: {"pid": pid, "coms": coms,
                                            "until": until.isoformat()}})
        await _show_confirm(message, db, member, pid, coms, until)
    except (KeyError, TypeError, ValueError):
        await state.clear()
        await message.answer(_("This button is no longer active."))
    except ServiceError as exc:
        await message.answer(refusal(exc))


@router.callback_query(Lv.filter())
async def on_vote(query: CallbackQuery, callback_data: Lv, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    pid = callback_data.position_id
    try:
        if callback_data.action == "agree":
            await positions.sign_off(db, member.id, pid, "agree")
            await query.answer()
            await show(query, _("Thank you: you agreed with the position L-{id}.").format(id=pid))
            return
        await positions.check_open(db, member.id, pid)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await state.set_state(LeaderRemark.remark)
    await state.set_data({"position_id": pid, "vote": callback_data.action})
    await query.answer()
    prompt = _("Send your remarks.") if callback_data.action == "remarks" else \
        _("Send the reason you disagree.")
    if isinstance(query.message, Message):
        await query.message.answer(prompt, reply_markup=markup([nav_row(False)]))


@router.callback_query(Ef.filter())
async def on_effect(query: CallbackQuery, callback_data: Ef, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    try:
        await effect_reports.check_open(db, member.id, callback_data.broadcast_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await state.set_state(EffectForm.changed)
    await state.set_data({"broadcast_id": callback_data.broadcast_id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("What changed in your community with this law?"),
                                   reply_markup=markup([nav_row(False)]))


FLOWS = StateFilter(PositionDraft, PositionOpen, PositionSent, LeaderRemark, EffectForm)


@router.callback_query(Nav.filter(), FLOWS)
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    current = await state.get_state()
    if callback_data.action == "skip" and member is not None and current in (
            EffectForm.problem.state, EffectForm.figures.state, EffectForm.document.state,
            PositionDraft.file.state):
        await query.answer()
        if isinstance(query.message, Message):
            await _next(query.message, state, db, member, None)
        return
    await state.clear()
    await query.answer()
    await show(query, _("Cancelled."))


def _skip_row() -> list[Row]:
    return [[button("⏭ " + _("Skip"), Nav(action="skip"))], nav_row(False)]


async def _next(message: Message, state: FSMContext, db: Database, member: MemberView,
                value: object) -> None:
    """Store `value` for the current step and go on (or finish)."""
    current = await state.get_state()
    data = await state.get_data()
    try:
        if current == PositionDraft.addressee.state:
            data["addressee"] = value
            await state.set_state(PositionDraft.text_ky)
            await message.answer(_("Send the position's text in Kyrgyz."))
        elif current == PositionDraft.text_ky.state:
            data["text_ky"] = value
            await state.set_state(PositionDraft.text_ru)
            await message.answer(_("Send the position's text in Russian."))
        elif current == PositionDraft.text_ru.state:
            data["text_ru"] = value
            await state.set_state(PositionDraft.file)
            await message.answer(_("Attach the position as a file, or skip."),
                                 reply_markup=markup(_skip_row()))
        elif current == PositionDraft.file.state:
            p = await positions.draft_position(
                db, member.id, int(data["broadcast_id"]), str(data["addressee"]),
                str(data["text_ky"]), str(data["text_ru"]),
                [value] if isinstance(value, dict) else [])
            await state.clear()
            await message.answer(position_card(p, member.language),
                                 reply_markup=position_keyboard(p))
            return
        elif current == PositionSent.reference.state:
            p = await positions.record_sent(db, member.id, int(data["position_id"]), str(value))
            await state.clear()
            await message.answer(position_card(p, member.language),
                                 reply_markup=position_keyboard(p))
            return
        elif current == LeaderRemark.remark.state:
            await positions.sign_off(db, member.id, int(data["position_id"]), str(data["vote"]),
                                     str(value))
            await state.clear()
            await message.answer(_("Thank you: your answer on L-{id} is recorded.").format(
                id=data["position_id"]))
            return
        elif current == EffectForm.changed.state:
            effect_reports._bounded(str(value), 2, effect_reports.CHANGED_MAX, "effect_length")
            data["changed"] = value
            await state.set_state(EffectForm.problem)
            await message.answer(_("What problem did it bring, if any?"),
                                 reply_markup=markup(_skip_row()))
        elif current == EffectForm.problem.state:
            effect_reports._bounded(str(value or ""), 2, effect_reports.PROBLEM_MAX,
                                    "effect_length", optional=True)
            data["problem"] = value
            await state.set_state(EffectForm.figures)
            await message.answer(_("Any figures (money, people, days)?"),
                                 reply_markup=markup(_skip_row()))
        elif current == EffectForm.figures.state:
            effect_reports._bounded(str(value or ""), 1, effect_reports.FIGURES_MAX,
                                    "effect_length", optional=True)
            data["figures"] = value
            await state.set_state(EffectForm.document)
            await message.answer(_("Attach a document, or skip."),
                                 reply_markup=markup(_skip_row()))
        elif current == EffectForm.document.state:
            await effect_reports.submit(
                db, member.id, int(data["broadcast_id"]), str(data["changed"]),
                data.get("problem"), data.get("figures"),
                value if isinstance(value, dict) else None)
            await state.clear()
            await message.answer(_("Your report was recorded. Thank you."))
            return
    except ServiceError as exc:
        await message.answer(refusal(exc))
        if exc.code not in ("effect_length", "position_text", "position_addressee",
                            "position_remark", "position_reference", "invalid",
                            "file_type", "file_size"):
            await state.clear()
        return
    await state.update_data(data)


@router.message(FLOWS, F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    current = await state.get_state()
    if current in (PositionDraft.file.state, EffectForm.document.state):
        await message.answer(_("Please send a document, or press Skip."))
        return
    if current == PositionOpen.date.state:
        await _typed_deadline(message, state, db, member, message.text)
        return
    await _next(message, state, db, member, message.text)


@router.message(FLOWS, F.document | F.photo)
async def on_file(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None:
        return
    current = await state.get_state()
    if current not in (PositionDraft.file.state, EffectForm.document.state):
        await message.answer(_("Please send text, not a file, sticker or voice message."))
        return
    try:
        found = attachment_of(message)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await _next(message, state, db, member, found)


@router.message(FLOWS)
async def on_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))
