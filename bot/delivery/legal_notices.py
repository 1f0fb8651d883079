"""Renderers for the legal desk's notices, in the recipient's language: a new request for the
lawyers, the lawyer's question or answer (with its documents) for the requester, the requester's
reply, closing with a rating, reminders and escalation. The service that wrote the row chose the
recipient; a renderer only words it."""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.attachments import attachments
from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _, format_when
from bot.services import legal
from bot.views.buttons import Row, button, markup
from bot.views.callbacks import Lc
from bot.views.legal import category_label, open_button, rating_row
from storage.db import Database
from storage.enums import LegalStatus

KINDS = ("legal_new", "legal_taken", "legal_assigned", "legal_info", "legal_reply",
         "legal_answer", "legal_closed", "legal_reopened", "legal_reminder", "legal_escalated")


def _quote(text: str | None, limit: int = 3000) -> str:
    return "\n\n" + html.escape(text[:limit]) if text else ""


async def render_legal(db: Database, to: Recipient, kind: str,
                       payload: dict[str, Any]) -> Rendered | None:
    found = await legal.notice_data(db, int(payload["case_id"]), payload.get("event_id"))
    if found is None:
        return None
    case, event, docs, author = found
    cid = case.id or 0
    code = f"<b>{legal.case_code(cid)}</b>"
    who = html.escape(author)
    text = event.text if event is not None else None
    rows: list[Row] = [open_button(cid)]
    if kind == "legal_new":
        body = "⚖️ " + _("New legal request {code} ({category}) from {name}:").format(
            code=code, category=category_label(case.category), name=who) + _quote(case.summary)
        if case.assignee_id is None and case.status != LegalStatus.CLOSED:
            rows.insert(0, [button("🙋 " + _("Take the case"), Lc(action="take", case_id=cid))])
    elif kind == "legal_taken":
        body = "👩‍⚖️ " + _("Your request {code} is now handled by a lawyer of the Union.").format(
            code=code)
    elif kind == "legal_assigned":
        body = "👥 " + _("{name} assigned the case {code} to you.").format(name=who, code=code)
    elif kind == "legal_info":
        body = "❓ " + _("The lawyer asks for more information on your request {code}:").format(
            code=code) + _quote(text)
        rows.insert(0, [button("💬 " + _("Reply"), Lc(action="reply", case_id=cid))])
    elif kind == "legal_reply":
        body = "💬 " + _("{name} wrote on the case {code}:").format(name=who, code=code) \
            + _quote(text)
    elif kind == "legal_answer":
        body = "✉️ " + _("The lawyer answered your request {code}:").format(code=code) \
            + _quote(text)
        rows.insert(0, [button("💬 " + _("Write to the lawyer"),
                               Lc(action="reply", case_id=cid))])
    elif kind == "legal_closed":
        if case.status != LegalStatus.CLOSED:
            return None
        body = "✅ " + _("Your request {code} is closed. How helpful was the lawyers' help? You "
                        "can reopen it within {days} days.").format(code=code,
                                                                    days=legal.REOPEN_DAYS)
        rows = [rating_row(cid), [button("🔄 " + _("Reopen"), Lc(action="reopen", case_id=cid))],
                open_button(cid)]
    elif kind == "legal_reopened":
        body = "🔄 " + _("{name} reopened the case {code}.").format(name=who, code=code)
    elif kind in ("legal_reminder", "legal_escalated"):
        if case.first_response_at is not None or case.status == LegalStatus.CLOSED:
            return None
        line = _("The case {code}, opened {when}, still waits for a lawyer's first response.")
        body = ("⏰ " if kind == "legal_reminder" else "🚨 ") + line.format(
            code=code, when=format_when(case.created_at, to.language))
    else:
        return None
    # A new request's documents wait behind its Documents button: every lawyer gets the notice.
    files = () if kind == "legal_new" else attachments(docs)
    return Rendered(body[:4000], markup(rows), files)


def _register(kind: str) -> None:
    async def render(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
        return await render_legal(db, to, kind, payload)

    renderer(kind)(render)


for _kind in KINDS:
    _register(_kind)
