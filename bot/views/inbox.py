"""The staff inbox of members' questions about decisions (broadcasts)."""

from __future__ import annotations

import html
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_when
from bot.services import decision_questions as dq
from bot.views.buttons import Row, button, markup, short
from bot.views.callbacks import Actions, ButtonId, ButtonPage

InboxAction = Annotated[str, Actions(
    "new", "mine", "answered", "open", "take", "assign", "to", "reply", "followup")]


class Qi(CallbackData, prefix="qi"):
    """Staff on the questions inbox: a view, one question, take, assign, reply, follow-up.
    `item_id` is the question (its response id), or the broadcast for "followup"."""

    action: InboxAction
    item_id: ButtonId = 0
    to_id: ButtonId = 0
    page: ButtonPage = 0


def view_label(view: str) -> str:
    return {"new": _("New"), "mine": _("Mine"), "answered": _("Answered")}.get(view, view)


def inbox_keyboard(view: str, items: list[dq.InboxItem], page: int,
                   total: int) -> InlineKeyboardMarkup:
    rows: list[Row] = [[button(("• " if v == view else "") + view_label(v), Qi(action=v))
                        for v in dq.VIEWS]]
    for item in items:
        rows.append([button(short(f"B-{item.broadcast_id} · {item.member_name}: {item.text}",
                                  60), Qi(action="open", item_id=item.response_id))])
    nav: Row = []
    if page > 0:
        nav.append(button("⬅️", Qi(action=view, page=page - 1)))
    if (page + 1) * dq.PAGE < total:
        nav.append(button("➡️", Qi(action=view, page=page + 1)))
    rows.append(nav)
    return markup(rows)


def inbox_text(view: str, total: int) -> str:
    return _("Questions about decisions: {view} ({count})").format(
        view=view_label(view), count=total)


def item_text(item: dq.InboxItem, lang: str) -> str:
    lines = [_("{name} asks about “{title}”:").format(name=html.escape(item.member_name),
                                                     title=html.escape(item.broadcast_title)),
             "", html.escape(item.text), "", format_when(item.asked_at, lang)]
    if item.assigned_to:
        lines.append(_("Assigned to {name}").format(name=html.escape(item.assigned_to)))
    if item.answer:
        lines += ["", _("Answer: {text}").format(text=html.escape(item.answer))]
    return "\n".join(lines)


def item_keyboard(item: dq.InboxItem) -> InlineKeyboardMarkup:
    if item.answer:
        return markup([[button("⬅️ " + _("Inbox"), Qi(action="answered"))]])
    return markup([
        [button("✍️ " + _("Reply"), Qi(action="reply", item_id=item.response_id)),
         button("🙋 " + _("Take"), Qi(action="take", item_id=item.response_id))],
        [button("👥 " + _("Assign"), Qi(action="assign", item_id=item.response_id)),
         button("📣 " + _("Answer all recipients"),
                Qi(action="followup", item_id=item.broadcast_id))]])
