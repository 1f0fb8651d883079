"""How a broadcast looks to a member: the same text for delivery, the composer's preview and the
shareable copy, so the preview is exactly what members get."""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_when
from bot.services import broadcasts
from bot.views.buttons import button, markup
from bot.views.callbacks import Bc
from storage.enums import BroadcastKind
from storage.models import Broadcast
from storage.types import utcnow


def kind_label(kind: BroadcastKind | str) -> str:
    labels = {
        BroadcastKind.LAW: "📜 " + _("Law adopted"),
        BroadcastKind.DRAFT_LAW: "📝 " + _("Draft law for discussion"),
        BroadcastKind.GOVERNMENT: "🏛 " + _("Cabinet of Ministers decision"),
        BroadcastKind.NEWS: "📰 " + _("Union news"),
        BroadcastKind.EVENT: "📅 " + _("Event"),
        BroadcastKind.URGENT: "🚨 " + _("Urgent"),
    }
    return labels.get(BroadcastKind(kind), str(kind))


def broadcast_text(b: Broadcast, language: str, *, copy: bool = False) -> str:
    parts = [f"<b>{kind_label(b.kind)}</b>",
             f"<b>{html.escape(broadcasts.title_for(b, language))}</b>", "",
             html.escape(broadcasts.text_for(b, language))]
    if b.source_url:
        parts += ["", _("Source: {url}").format(url=html.escape(b.source_url))]
    if b.comments_until and not copy:
        parts += ["", _("Comments are open until {when}.").format(
            when=format_when(b.comments_until, language))]
    if copy:
        parts += ["", "— " + _("Sent by the Union of LSGs through Birge")]
    return "\n".join(parts)


def member_buttons(b: Broadcast) -> InlineKeyboardMarkup:
    assert b.id is not None
    rows = [[button("✅ " + _("Acknowledged"), Bc(action="ack", broadcast_id=b.id)),
             button("❓ " + _("Ask about this"), Bc(action="ask", broadcast_id=b.id))],
            [button("📄 " + _("Copy for the kenesh"), Bc(action="copy", broadcast_id=b.id))]]
    if b.kind == BroadcastKind.DRAFT_LAW and b.comments_until and b.comments_until > utcnow():
        rows.append([button("💬 " + _("Comment on the draft"),
                            Bc(action="comment", broadcast_id=b.id))])
    return markup(rows)
