"""Renderers for surveys: the invitation, the one reminder, a quick poll (a native Telegram poll),
stopping it at the deadline, and the note to the creator that a survey closed."""

from __future__ import annotations

from typing import Any

from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import survey_forms as forms
from bot.services import surveys
from bot.views.buttons import button, markup
from bot.views.surveys import Svr, invitation, invitation_markup, title
from storage.db import Database


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


@renderer(surveys.POLL_KIND, after_sent=surveys.poll_posted)
async def poll(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await surveys.cached(db, int(payload["survey_id"]))
    if found is None or not surveys.is_open(found):
        return None
    q = found.questions[0]
    question = forms.label(q["label"], to.language)
    heading = found.title(to.language)
    if heading and heading != question and len(heading) + len(question) < 290:
        question = f"{heading}: {question}"
    options = [forms.label(c["label"], to.language)[:surveys.POLL_OPTION_MAX]
               for c in q["choices"]]
    thread = payload.get("thread_id")
    return Rendered("", poll={"question": question[:surveys.POLL_QUESTION_MAX],
                              "options": options, "multiple": q["type"] == "multiple"},
                    thread_id=int(thread) if thread else None)


@renderer(surveys.POLL_STOP_KIND)
async def poll_stop(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    return Rendered("", stop_poll=int(payload["message_id"]))


@renderer("survey_closed")
async def closed(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await surveys.get(db, int(payload["survey_id"]))
    if found is None or found.id is None:
        return None
    return Rendered(
        "🏁 " + _("The survey S-{id} “{title}” is closed.").format(
            id=found.id, title=title(found, to.language)),
        markup([[button("📊 " + _("Results"), Svr(action="card", survey_id=found.id))]]))
