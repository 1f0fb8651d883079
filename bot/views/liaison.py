"""What a state-body liaison sees: the issues and dossiers addressed to their body."""

from __future__ import annotations

import html
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _
from bot.services import liaisons
from bot.views.buttons import Row, button, markup, short
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
