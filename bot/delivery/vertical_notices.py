"""Renderers of the vertical loop: a position to sign off and its reminder, a bill's new stage,
an answer to a question about a decision and the follow-up to all recipients, an effect report
asked, a liaison's request for clarification, a liaison's response (to staff, to correct) and
its correction (to everyone behind the issue), the annual report's consultation."""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _, format_when
from bot.services import decision_questions as dq
from bot.services import liaisons
from bot.services.broadcasts import cached
from bot.views.buttons import button, markup
from bot.views.inbox import Qi
from bot.views.liaison import (
    clarification_keyboard,
    corrected_notice,
    response_notice,
    response_notice_keyboard,
)
from bot.views.positions import effect_button, stage_label, vote_keyboard
from bot.views.reports import Ar
from storage.db import Database
from storage.models import LawPosition


async def _position(db: Database, position_id: int) -> LawPosition | None:
    async with db.read() as s:
        return await s.get(LawPosition, position_id)


async def _signoff(db: Database, to: Recipient, payload: dict[str, Any],
                   reminder: bool) -> Rendered | None:
    p = await _position(db, int(payload["position_id"]))
    if p is None or p.status != "signoff" or p.id is None:
        return None
    b = await cached(db, p.broadcast_id)
    head = _("Reminder: the sign-off closes soon.") if reminder else \
        _("The Union asks you, as a district leader, to sign off its position:")
    text = "\n".join([
        "🗳 " + head, "",
        f"<b>{html.escape(b.title if b else '')}</b>",
        _("To: {addressee}").format(addressee=html.escape(p.addressee)), "",
        html.escape((p.text_ky if to.language == "ky" else p.text_ru)[:3000]), "",
        _("Until {when}").format(when=format_when(p.deadline, to.language)) if p.deadline
        else ""])
    return Rendered(text[:4000], vote_keyboard(p.id))


@renderer("position_signoff")
async def signoff(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    return await _signoff(db, to, payload, reminder=False)


@renderer("position_reminder")
async def reminder(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    return await _signoff(db, to, payload, reminder=True)


@renderer("bill_stage")
async def bill_stage(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    b = await cached(db, int(payload["broadcast_id"]))
    if b is None:
        return None
    text = "🧭 " + _("The draft law you commented on, “{title}”, has {stage}.").format(
        title=html.escape(b.title), stage=stage_label(str(payload["stage"])))
    if payload.get("note"):
        text += "\n\n" + html.escape(str(payload["note"]))
    return Rendered(text)


@renderer("decision_answer")
async def decision_answer(db: Database, to: Recipient, payload: dict[str, Any]
                          ) -> Rendered | None:
    found = await dq.for_notice(db, int(payload["response_id"]))
    if found is None:
        return None
    q, r, b = found
    return Rendered("💬 " + _("The Union staff answered your question about “{title}”:").format(
        title=html.escape(b.title)) + "\n\n<i>" + html.escape(r.text or "") + "</i>\n\n"
        + html.escape(q.answer or ""))


@renderer("decision_follow_up")
async def follow_up(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await dq.follow_up_notice(db, int(payload["follow_up_id"]))
    if found is None:
        return None
    f, b = found
    return Rendered("📣 " + _("Answers to your questions about “{title}”:").format(
        title=html.escape(b.title)) + "\n\n" + html.escape(f.text))


@renderer("decision_assigned")
async def assigned(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    rid = int(payload["response_id"])
    found = await dq.for_notice(db, rid)
    if found is None or found[0].answered_at is not None:
        return None
    return Rendered("🙋 " + _("A colleague assigned you a question about “{title}”.").format(
        title=html.escape(found[2].title)),
        markup([[button(_("Open"), Qi(action="open", item_id=rid))]]))


@renderer("effect_request")
async def effect_request(db: Database, to: Recipient, payload: dict[str, Any]
                         ) -> Rendered | None:
    bid = int(payload["broadcast_id"])
    b = await cached(db, bid)
    if b is None:
        return None
    return Rendered("📜 " + _("How does the law “{title}” work out in your community? Please "
                             "report: what changed, the problem, figures, a document.").format(
        title=html.escape(b.title)), effect_button(bid))


@renderer("liaison_clarification")
async def clarification(db: Database, to: Recipient, payload: dict[str, Any]
                        ) -> Rendered | None:
    row = await liaisons.reply_for_notice(db, int(payload["reply_id"]))
    if row is None:
        return None
    what = f"P-{row.issue_id}" if row.issue_id else f"X-{row.dossier_id}"
    assert row.id is not None
    return Rendered("❔ " + _("A state-body liaison asks for clarification on {what}:").format(
        what=what) + "\n\n" + html.escape(row.text), clarification_keyboard(row.id))


@renderer("liaison_answer")
async def liaison_answer(db: Database, to: Recipient, payload: dict[str, Any]
                         ) -> Rendered | None:
    row = await liaisons.reply_for_notice(db, int(payload["reply_id"]))
    if row is None:
        return None
    what = f"P-{row.issue_id}" if row.issue_id else f"X-{row.dossier_id}"
    return Rendered("💬 " + _("The Union answered your question on {what}:").format(
        what=what) + "\n\n" + html.escape(row.text))


@renderer("annual_consultation")
async def consultation(db: Database, to: Recipient, payload: dict[str, Any]
                       ) -> Rendered | None:
    rid = int(payload["report_id"])
    return Rendered("📘 " + _("The draft of the Union's annual report is open for your "
                             "comments."),
                    markup([[button(_("Comment"), Ar(action="comment", report_id=rid))]]))


@renderer("liaison_response")
async def liaison_response(db: Database, to: Recipient, payload: dict[str, Any]
                           ) -> Rendered | None:
    found = await liaisons.response_for_notice(db, int(payload["reply_id"]), to.language)
    if found is None or found.reply.id is None:
        return None
    return Rendered(response_notice(found), response_notice_keyboard(found.reply.id))


@renderer("liaison_corrected")
async def liaison_corrected(db: Database, to: Recipient, payload: dict[str, Any]
                            ) -> Rendered | None:
    found = await liaisons.response_for_notice(db, int(payload["reply_id"]), to.language)
    return Rendered(corrected_notice(found)) if found is not None else None
