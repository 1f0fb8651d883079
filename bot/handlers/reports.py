"""/stats (figures for the Union staff: text, PNG charts, XLSX) and /report YEAR (the annual
report: pick indicator surveys, consultation round, DOCX, finalise)."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel import col, select

from bot.flows.ui import show
from bot.i18n import _, in_locale
from bot.services import annual_report, stats
from bot.services.errors import InvalidInput, ServiceError
from bot.services.members import MemberView
from bot.views.buttons import markup, nav_row
from bot.views.callbacks import Nav
from bot.views.reports import (
    Ar,
    charts,
    pick_keyboard,
    report_card,
    report_keyboard,
    report_words,
    stats_xlsx,
    summary,
)
from bot.views.vertical_labels import refusal
from storage.db import Database
from storage.models import Survey

router = Router(name="reports")


class ReportFlow(StatesGroup):
    pick = State()
    comment = State()


def _draw(f: stats.Figures, lang: str) -> tuple[list[tuple[str, bytes]], bytes]:
    with in_locale(lang):
        return charts(f), stats_xlsx(f)


@router.message(Command("stats"), F.chat.type == "private")
async def on_stats(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    try:
        found = await stats.figures(db, member.id, lang=member.language)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await message.answer(summary(found))
    pngs, xlsx = await asyncio.to_thread(_draw, found, member.language)
    for caption, png in pngs:
        await message.answer_photo(BufferedInputFile(png, filename="chart.png"),
                                   caption=caption[:1000])
    await message.answer_document(BufferedInputFile(xlsx, filename="birge-stats.xlsx"))


async def _surveys(db: Database, year: int) -> list[Survey]:
    begin, end = annual_report.year_bounds(year)
    async with db.read() as s:
        return list((await s.exec(select(Survey).where(
            col(Survey.created_at) >= begin, col(Survey.created_at) < end)
            .order_by(col(Survey.id).desc()).limit(20))).all())


@router.message(Command("report"), F.chat.type == "private")
async def on_report(message: Message, command: CommandObject, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    arg = (command.args or "").strip()
    try:
        if not (arg.isascii() and arg.isdigit() and len(arg) == 4):
            raise InvalidInput("report_year")
        year = int(arg)
        await stats.figures(db, member.id, *annual_report.year_bounds(year))  # staff only
        found = await _surveys(db, year)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await state.set_state(ReportFlow.pick)
    await state.set_data({"year": year, "picked": []})
    await message.answer(_("Annual report {year}: pick the indicator surveys to include, then "
                           "create the draft.").format(year=year),
                         reply_markup=pick_keyboard(year, found, [], member.language))


@router.callback_query(Ar.filter())
async def on_button(query: CallbackQuery, callback_data: Ar, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, rid = callback_data.action, callback_data.report_id
    try:
        if action in ("pick", "create"):
            if await state.get_state() != ReportFlow.pick.state:
                await query.answer(_("This button is no longer active."))
                return
            data = await state.get_data()
            year, picked = int(data["year"]), list(data.get("picked") or [])
            if action == "pick":
                sid = callback_data.survey_id
                picked = [p for p in picked if p != sid] if sid in picked else [*picked, sid]
                await state.update_data(picked=picked)
                await show(query, _("Annual report {year}: pick the indicator surveys to "
                                    "include, then create the draft.").format(year=year),
                           pick_keyboard(year, await _surveys(db, year), picked,
                                         member.language))
            else:
                report = await annual_report.start(db, member.id, year, picked)
                await state.clear()
                await show(query, report_card(report), report_keyboard(report))
        elif action == "consult":
            asked = await annual_report.open_consultation(db, member.id, rid)
            report = await annual_report.get(db, member.id, rid)
            await show(query, report_card(report) + "\n" + _(
                "{count} district leaders and liaisons are asked to comment.").format(
                count=asked), report_keyboard(report))
        elif action == "final":
            report = await annual_report.finalise(db, member.id, rid)
            await show(query, report_card(report), report_keyboard(report))
        elif action == "docx":
            data_ = await annual_report.compile_data(db, member.id, rid, member.language)
            words = report_words(member.language)
            pngs, _xlsx = await asyncio.to_thread(_draw, data_.figures, member.language)
            doc = await asyncio.to_thread(annual_report.report_docx, data_, words, pngs)
            await query.answer()
            if isinstance(query.message, Message):
                await query.message.answer_document(BufferedInputFile(
                    doc, filename=f"annual-report-{data_.report.year}.docx"))
            return
        elif action == "comment":
            await annual_report.check_comment(db, member.id, rid)
            await state.set_state(ReportFlow.comment)
            await state.set_data({"report_id": rid})
            if isinstance(query.message, Message):
                await query.message.answer(_("Send your comment on the draft report."),
                                           reply_markup=markup([nav_row(False)]))
        await query.answer()
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(Nav.filter(), StateFilter(ReportFlow))
async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await show(query, _("Cancelled."))


@router.message(StateFilter(ReportFlow.comment), F.text)
async def on_comment(message: Message, state: FSMContext, db: Database,
                     member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    data = await state.get_data()
    try:
        await annual_report.comment(db, member.id, int(data["report_id"]), message.text)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        if exc.code != "reply_length":
            await state.clear()
        return
    await state.clear()
    await message.answer(_("Your comment was recorded. Thank you."))


@router.message(StateFilter(ReportFlow))
async def on_other(message: Message) -> None:
    await message.answer(_("Please use the buttons."))
