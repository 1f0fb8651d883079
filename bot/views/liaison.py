"""What a state-body liaison sees: the issues and dossiers addressed to their body."""

from __future__ import annotations

import html
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.services import liaisons
from bot.views.buttons import Row, button, markup, page_rows, short
from bot.views.callbacks import Actions, ButtonId
from storage.models import Dossier, NationalIssue

LiaisonAction = Annotated[str, Actions("show", "respond", "clarify")]
LiaisonKind = Annotated[str, Actions(*liaisons.KINDS)]


class Li(CallbackData, prefix="li"):
    """A liaison opens, answers or asks about an issue or dossier addressed to their body."""

    action: LiaisonAction
    kind: LiaisonKind
    target_id: ButtonId


def list_keyboard(found: liaisons.Addressed) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    for issue in found.issues:
        assert issue.id is not None
        rows.append([button(short(f"P-{issue.id} · {issue.title}", 60),
                            Li(action="show", kind="issue", target_id=issue.id))])
    for dossier in found.dossiers:
        assert dossier.id is not None
        rows.append([button(f"X-{dossier.id} · {dossier.reference_number or ''}".strip(" ·"),
                            Li(action="show", kind="dossier", target_id=dossier.id))])
    return markup(rows)


def card(found: NationalIssue | Dossier) -> str:
    if isinstance(found, NationalIssue):
        lines = [f"<b>P-{found.id}</b> {html.escape(found.title)}", "",
                 html.escape(found.problem[:1500]), "",
                 _("Proposed solution: {text}").format(text=html.escape(found.solution[:1000]))]
        answer = found.response_text
    else:
        lines = [f"<b>X-{found.id}</b>"]
        if found.reference_number:
            lines.append(f"№ {html.escape(found.reference_number)}")
        answer = found.response_text
    if answer:
        lines += ["", _("Response: {text}").format(text=html.escape(answer[:1000]))]
    return "\n".join(lines)


def card_keyboard(kind: str, target_id: int, answered: bool) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    if not answered:
        rows.append([button("✍️ " + _("Record the response"),
                            Li(action="respond", kind=kind, target_id=target_id))])
    rows.append([button("❔ " + _("Ask the Union"),
                        Li(action="clarify", kind=kind, target_id=target_id))])
    return markup(rows)


RosterAction = Annotated[str, Actions("list", "card", "bodies", "link", "unlink")]


class Ll(CallbackData, prefix="ll"):
    """Staff on /liaisons: the list (`value` = page), a member's card, the state bodies to pick
    from (`value` = page), link to a body (`value` = its id), unlink."""

    action: RosterAction
    member_id: ButtonId = 0
    value: ButtonId = 0


def roster_text(found: list[liaisons.Liaison]) -> str:
    if not found:
        return _("No liaisons yet. A member who works in a state body appears here once "
                 "approved.")
    return _("State-body liaisons and members who work in a state body: {count}. Open one "
             "to link them to the body they answer for.").format(count=len(found))


def roster_keyboard(found: list[liaisons.Liaison], page: int) -> InlineKeyboardMarkup:
    rows = page_rows([button(short(f"{r.name} · {r.body or '—'}", 60),
                             Ll(action="card", member_id=r.member_id)) for r in found],
                     page, lambda n: Ll(action="list", value=n))
    return markup(rows)


def liaison_text(row: liaisons.Liaison) -> str:
    lines = [f"<b>{html.escape(row.name)}</b>"]
    if row.body:
        lines.append(_("Liaison of: {body}").format(body=html.escape(row.body)))
    else:
        lines.append(_("Not linked to a state body."))
    return "\n".join(lines)


def liaison_keyboard(row: liaisons.Liaison) -> InlineKeyboardMarkup:
    rows: list[Row] = [[button("🏛 " + (_("Change the body") if row.body_id else
                                        _("Link to a body")),
                               Ll(action="bodies", member_id=row.member_id))]]
    if row.body_id:
        rows.append([button("✂️ " + _("Unlink"), Ll(action="unlink", member_id=row.member_id))])
    rows.append([button("⬅️ " + _("All liaisons"), Ll(action="list"))])
    return markup(rows)


def bodies_text(row: liaisons.Liaison) -> str:
    return _("Which state body does {name} answer for?").format(name=html.escape(row.name))


def bodies_keyboard(member_id: int, bodies: list[tuple[int, str]],
                    page: int) -> InlineKeyboardMarkup:
    rows = page_rows([button(short(name, 60), Ll(action="link", member_id=member_id,
                                                  value=body_id)) for body_id, name in bodies],
                     page, lambda n: Ll(action="bodies", member_id=member_id, value=n))
    rows.append([button("⬅️ " + _("Back"), Ll(action="card", member_id=member_id))])
    return markup(rows)


FixAction = Annotated[str, Actions("correct", "answer")]


class Lr(CallbackData, prefix="lr"):
    """Staff correct a liaison's recorded response, or answer a liaison's question."""

    action: FixAction
    reply_id: ButtonId


def response_notice(n: liaisons.ResponseNotice) -> str:
    """To staff: a liaison recorded their body's response."""
    lines = ["🏛 " + _("{body} responded on {what}:").format(body=html.escape(n.body),
                                                          what=html.escape(n.label)),
             "", html.escape(n.reply.text[:3000])]
    if n.reply.reference_number:
        lines.append("№ " + html.escape(n.reply.reference_number))
    return "\n".join(lines)


def response_notice_keyboard(reply_id: int) -> InlineKeyboardMarkup:
    return markup([[button("✏️ " + _("Correct"), Lr(action="correct", reply_id=reply_id))]])


def corrected_notice(n: liaisons.ResponseNotice) -> str:
    """To everyone behind the issue: the Union staff corrected the body's response."""
    return "\n".join([
        "✏️ " + _("The Union staff corrected the response of {body} on {what}:").format(
            body=html.escape(n.body), what=html.escape(n.label)),
        "", html.escape(n.reply.text[:3000])])


def clarification_keyboard(reply_id: int) -> InlineKeyboardMarkup:
    return markup([[button("💬 " + _("Answer"), Lr(action="answer", reply_id=reply_id))]])
