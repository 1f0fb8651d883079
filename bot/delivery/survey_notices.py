"""Renderers for surveys: the invitation, the one reminder, a quick poll (a native Telegram poll),
stopping it at the deadline, and the note to the creator that a survey closed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from aiogram.types import BufferedInputFile

from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _, in_locale
from bot.services import broadcasts, cache, survey_polls, surveys
from bot.services import survey_forms as forms
from bot.views.buttons import button, markup
from bot.views.survey_charts import chart_kind, chart_png
from bot.views.survey_exports import summary_xlsx
from bot.views.surveys import (
    Svr,
    both_languages,
    invitation,
    invitation_markup,
    poll_results_text,
    results_files_text,
    title,
)
from storage.db import Database
from storage.enums import BroadcastStatus

# At most this many charts follow a results broadcast (more would bury it); the table has all.
MAX_CHARTS = 10


@renderer(surveys.INVITE_KIND)
async def invite(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await surveys.cached(db, int(payload["survey_id"]))
    if found is None or not surveys.is_open(found):
        return None
    return Rendered(invitation(found, to.language), invitation_markup(found))


@renderer(surveys.REMINDER_KIND)
async def reminder(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await surveys.cached(db, int(payload["survey_id"]))
    if found is None or not surveys.is_open(found):
        return None
    return Rendered(invitation(found, to.language, reminder=True), invitation_markup(found))


@renderer(surveys.POLL_KIND, after_sent=survey_polls.poll_posted)
async def poll(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await surveys.cached(db, int(payload["survey_id"]))
    if found is None or not surveys.is_open(found):
        return None
    q = found.questions[0]
    thread = payload.get("thread_id")
    question = forms.label(q["label"], to.language)
    heading = found.title(to.language)
    if heading and heading != question and len(heading) + len(question) < 290:
        question = f"{heading}: {question}"
    options = [forms.label(c["label"], to.language)[:surveys.POLL_OPTION_MAX]
               for c in q["choices"]]
    if thread:  # a forum thread is read in Kyrgyz and Russian: both, where they fit
        question = both_languages(q["label"], surveys.POLL_QUESTION_MAX) or question
        both = [both_languages(c["label"], surveys.POLL_OPTION_MAX) for c in q["choices"]]
        if all(both):
            options = [str(o) for o in both]
    return Rendered("", poll={"question": question[:surveys.POLL_QUESTION_MAX],
                              "options": options, "multiple": q["type"] == "multiple"},
                    thread_id=int(thread) if thread else None)


@renderer(surveys.POLL_STOP_KIND)
async def poll_stop(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    return Rendered("", stop_poll=int(payload["message_id"]))


@renderer(surveys.POLL_RESULTS_KIND)
async def poll_results(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    """A closed forum poll's results in its thread: the figures in Kyrgyz and Russian and the
    chart, its options named in both."""
    sid = int(payload["survey_id"])
    found = await surveys.shared_results(db, sid, "ru")
    if found is None or not found.questions:
        return None
    texts = []
    for lang in ("ky", "ru"):
        with in_locale(lang):
            texts.append(poll_results_text(found, lang))
    result = found.questions[0]
    q = result.question
    labels = {"label": {"ky": both_languages(q["label"], 400) or forms.label(q["label"], "ky")},
              "choices": [{**c, "label": {"ky": both_languages(c["label"], 200)
                                          or forms.label(c["label"], "ky")}}
                          for c in q["choices"]]}
    png = await asyncio.to_thread(_draw, replace(result, question={**q, **labels}), "ky")
    return Rendered("\n\n".join(texts)[:4000], thread_id=int(payload["thread_id"]),
                    photos=(BufferedInputFile(png, f"S-{sid}.png"),) if png else ())


# Charts and table per survey and language: drawn once for all the recipients of its results.
_files: cache.ReadCache[tuple[tuple[bytes, ...], bytes] | None] = cache.ReadCache(600.0)
_drawing: dict[int, asyncio.Lock] = {}


@renderer(surveys.RESULTS_FILES_KIND)
async def results_files(db: Database, to: Recipient, payload: dict[str, Any]
                        ) -> Rendered | None:
    """After a survey's results broadcast: its charts and summary table, in the member's
    language (figures only)."""
    sid, broadcast_id = int(payload["survey_id"]), int(payload["broadcast_id"])
    sent = await broadcasts.cached(db, broadcast_id)
    if sent is None or sent.status == BroadcastStatus.CANCELLED:
        return None  # the files follow the broadcast, not without it
    key = (sid, to.language, broadcast_id)  # each sending has the figures of its moment
    lock = _drawing.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    async with lock:  # the first recipient draws, the others reuse
        made = _files.get(key)
        if cache.missing(made):
            found = await surveys.shared_results(db, sid, to.language)
            made = _files.put(key, None if found is None else
                              await asyncio.to_thread(_draw_all, found, to.language))
    if not isinstance(made, tuple):
        return None
    charts, table = made
    survey = await surveys.cached(db, sid)
    if survey is None:
        return None
    return Rendered(results_files_text(survey, to.language),
                    photos=tuple(BufferedInputFile(png, f"S-{sid}-{i}.png")
                                 for i, png in enumerate(charts, 1)),
                    uploads=(BufferedInputFile(table, f"S-{sid}-results.xlsx"),))


def _draw(result: surveys.QuestionResult, lang: str) -> bytes | None:
    with in_locale(lang):
        return chart_png(result, lang)


def _draw_all(found: surveys.Results, lang: str) -> tuple[tuple[bytes, ...], bytes]:
    with in_locale(lang):
        charts = tuple(png for png in (chart_png(q, lang) for q in found.questions
                                       if chart_kind(q.question)) if png)
        return charts[:MAX_CHARTS], summary_xlsx(found, lang)


@renderer("survey_closed")
async def closed(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await surveys.get(db, int(payload["survey_id"]))
    if found is None or found.id is None:
        return None
    return Rendered(
        "🏁 " + _("The survey S-{id} “{title}” is closed.").format(
            id=found.id, title=title(found, to.language)),
        markup([[button("📊 " + _("Results"), Svr(action="card", survey_id=found.id))]]))
