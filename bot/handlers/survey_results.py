"""A survey's results for Union staff and its creator: the response rate by region and district,
a PNG chart per question in the viewer's language, text answers, XLSX and CSV, closing early,
and sending the results back to respondents as a broadcast. Also the builder's entry buttons."""

from __future__ import annotations

import asyncio
import html

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.flows import guard, survey_build
from bot.flows.ui import show
from bot.i18n import _, __, format_when, in_locale, pgettext
from bot.services import survey_forms as forms
from bot.services import surveys
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.services.surveys import ANONYMOUS_THRESHOLD, Results
from bot.views.buttons import button, markup, nav_row
from bot.views.callbacks import Nav
from bot.views.survey_charts import chart_kind, chart_png
from bot.views.survey_exports import responses_csv, responses_xlsx
from bot.views.surveys import Svr, region_rates, survey_refusal, title
from storage.db import Database
from storage.models import Survey

router = Router(name="survey_results")

TEXTS_PER_MESSAGE = 3500


class Publish(StatesGroup):
    audience = State()
    text = State()


def results_text(found: Results, lang: str) -> str:
    s = found.survey
    state = _("open until {when}").format(when=format_when(s.deadline, lang)) \
        if surveys.is_open(s) else pgettext("survey", "closed")
    # A poll in a forum thread invites nobody: whoever is in the thread may vote.
    forum = s.forum_thread_id is not None
    of = "" if forum else "/{invited}"
    lines = [f"<b>S-{s.id} · {title(s, lang)}</b>", state,
             _("Voted: {count}").format(count=found.responded) if forum else
             _("Responses: {responded} of {invited} ({rate}%)").format(
                 responded=found.responded, invited=found.invited,
                 rate=round(found.rate * 100))]
    if s.per_municipality:
        lines.append("🏛 " + _("One answer per municipality"))
    if s.anonymous:
        lines.append("🕶 " + _("Anonymous: places where fewer than {count} answered show no "
                              "figure.").format(count=ANONYMOUS_THRESHOLD))
    if found.by_place:
        lines.append("")
        for r in region_rates(found):
            got = f"&lt;{ANONYMOUS_THRESHOLD}" if r.hidden else str(r.responded)
            lines.append(f"<b>{html.escape(r.region)}: {got}{of.format(invited=r.invited)}</b>")
        lines.append("")
        for p in found.by_place[:40]:
            got = f"&lt;{ANONYMOUS_THRESHOLD}" if p.hidden else str(p.responded)
            lines.append(f"{html.escape(p.district)} ({html.escape(p.region)}): {got}"
                         + of.format(invited=p.invited))
    for i, q in enumerate(found.questions, 1):
        summary = ""
        if q.mean is not None:
            summary = _("mean: {value}").format(value=f"{q.mean:.1f}")
        elif q.question["type"] == "ranking" and q.borda:
            names = {c["name"]: forms.label(c["label"], lang) for c in q.question["choices"]}
            summary = " › ".join(html.escape(names.get(k, k)) for k, _v in q.borda[:3])
        lines.append(f"\n{i}. {html.escape(forms.label(q.question['label'], lang)[:120])} — "
                     + _("answers: {count}").format(count=q.answered)
                     + (f"; {summary}" if summary else ""))
    return "\n".join(lines)[:4000]


async def show_card(event: Message | CallbackQuery, db: Database, member: MemberView,
                    survey_id: int) -> None:
    found = await surveys.results(db, member.id, survey_id, member.language)
    sid = survey_id
    rows = [[button("🔄 " + _("Refresh"), Svr(action="card", survey_id=sid)),
             button("📈 " + _("Charts"), Svr(action="charts", survey_id=sid))],
            [button("💬 " + _("Text answers"), Svr(action="texts", survey_id=sid)),
             button("📥 XLSX", Svr(action="xlsx", survey_id=sid)),
             button("📥 CSV", Svr(action="csv", survey_id=sid))],
            [button("📣 " + _("Send the results"), Svr(action="publish", survey_id=sid))]]
    if surveys.is_open(found.survey):
        rows.append([button("⛔ " + _("Close the survey"), Svr(action="close", survey_id=sid))])
    await show(event, results_text(found, member.language), markup(rows))


@router.callback_query(Svr.filter())
async def on_button(query: CallbackQuery, callback_data: Svr, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None or not member.active:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, sid = callback_data.action, callback_data.survey_id
    if action in ("new", "poll", "import"):
        await survey_build.start(query, state, db, member, action)
        return
    if action == "mine":
        await query.answer()
        mine = await surveys.managed(db, member.id)
        if not mine:
            await show(query, _("No surveys yet."))
            return
        await show(query, _("Your surveys:"), markup([
            [button(f"S-{s.id} · {s.title(member.language)[:40]}",
                    Svr(action="card", survey_id=s.id or 0))] for s in mine]))
        return
    message = query.message if isinstance(query.message, Message) else None
    try:
        if action == "card":
            await query.answer()
            await show_card(query, db, member, sid)
        elif action == "charts":
            found = await surveys.results(db, member.id, sid, member.language)
            await query.answer(_("Drawing the charts…"))
            for i, q in enumerate(found.questions, 1):
                if chart_kind(q.question) is None or message is None:
                    continue
                png = await asyncio.to_thread(_draw, q, member.language)
                if png:
                    await message.answer_photo(
                        BufferedInputFile(png, f"S-{sid}-{i}.png"),
                        caption=f"{i}. " + html.escape(
                            forms.label(q.question["label"], member.language))[:900])
        elif action == "texts":
            found = await surveys.results(db, member.id, sid, member.language)
            await query.answer()
            chunks: list[str] = []
            for q in found.questions:
                if q.question["type"] not in ("text", "date") or message is None:
                    continue
                head = "<b>" + html.escape(forms.label(q.question["label"],
                                                       member.language)) + "</b>"
                body = "\n".join("• " + html.escape(t[:500]) for t in q.texts) or "—"
                chunks.append(head + "\n" + body)
            if message is not None:
                text = "\n\n".join(chunks) or _("No text answers yet.")
                for start in range(0, min(len(text), TEXTS_PER_MESSAGE * 5),
                                   TEXTS_PER_MESSAGE):
                    await message.answer(text[start:start + TEXTS_PER_MESSAGE])
        elif action in ("xlsx", "csv"):
            survey, exported = await surveys.export_rows(db, member.id, sid, member.language)
            await query.answer()
            if message is None:
                return
            if action == "csv":
                data = responses_csv(survey, exported, member.language)
            else:
                figures = await surveys.results(db, member.id, sid, member.language)
                data = await asyncio.to_thread(_xlsx, survey, exported, figures,
                                               member.language)
            await message.answer_document(BufferedInputFile(data, f"survey-S-{sid}.{action}"))
        elif action == "close":
            await surveys.close_survey(db, member.id, sid)
            await query.answer(_("The survey is closed."))
            await show_card(query, db, member, sid)
        elif action == "publish":
            found = await surveys.results(db, member.id, sid, member.language)  # may they?
            await query.answer()
            known = not found.survey.anonymous and not found.survey.forum_thread_id
            if known and callback_data.v not in (0, 1):
                await state.set_state(Publish.audience)
                await show(query, _("Who should receive the results?"), markup([
                    [button("🙋 " + _("Respondents"), Svr(action="publish", survey_id=sid,
                                                          v=0))],
                    [button("👥 " + _("Everyone invited"), Svr(action="publish",
                                                               survey_id=sid, v=1))],
                    nav_row(back=False)]))
                return
            await state.set_state(Publish.text)
            await state.set_data({"survey_id": sid, "everyone": callback_data.v == 1})
            await show(query, _("Write what the survey found and what will be done: a paragraph "
                                "in Kyrgyz, an empty line, a paragraph in Russian. It goes as "
                                "a broadcast, followed by the charts and the summary table."),
                       markup([nav_row(back=False)]))
        else:
            await query.answer(_("This button is no longer active."))
    except ServiceError as exc:
        await query.answer(survey_refusal(exc)[:200], show_alert=True)


def _draw(q: surveys.QuestionResult, lang: str) -> bytes | None:
    with in_locale(lang):
        return chart_png(q, lang)


def _xlsx(survey: Survey, rows: list[surveys.ExportRow], found: Results, lang: str) -> bytes:
    with in_locale(lang):
        return responses_xlsx(survey, rows, found, lang)


@router.callback_query(Nav.filter(), StateFilter(Publish))
async def on_publish_nav(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await show(query, _("Cancelled. Nothing was sent."))


@router.message(StateFilter(Publish.audience), ~F.text.startswith("/"))
async def on_publish_audience_text(message: Message) -> None:
    await message.answer(_("Please use the buttons."))


@router.message(StateFilter(Publish.text), ~F.text)
async def on_publish_not_text(message: Message) -> None:
    """A sticker, photo or file where the results' text is awaited."""
    await message.answer(_paragraphs())


def _paragraphs() -> str:
    return _("Please send a paragraph in Kyrgyz and one in Russian, separated by an empty "
             "line (at most {limit} characters each).").format(limit=3500)


@router.message(StateFilter(Publish.text), F.text, ~F.text.startswith("/"))
async def on_publish_text(message: Message, state: FSMContext, db: Database,
                          member: MemberView | None) -> None:
    data = await state.get_data()
    sid = data.get("survey_id")
    if member is None or not isinstance(sid, int) or message.text is None:
        await state.clear()
        return
    parts = [p.strip() for p in message.text.split("\n\n") if p.strip()]
    if len(parts) < 2:
        await message.answer(_paragraphs())
        return
    survey = await surveys.get(db, sid)
    if survey is None:
        await state.clear()
        return
    try:
        sent = await surveys.publish_results(
            db, member.id, sid, ("📊 " + survey.title_ru)[:200], parts[0], parts[1],
            parts[2] if len(parts) > 2 else None, everyone=bool(data.get("everyone")))
    except ServiceError as exc:
        await message.answer(survey_refusal(exc))
        return
    await state.clear()
    await message.answer(_("The results go to {count} members as broadcast B-{id}.").format(
        count=sent.recipients, id=sent.broadcast_id))


guard.register(Publish, __("the results you are sending"))
