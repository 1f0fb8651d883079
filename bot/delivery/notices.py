"""Renderers for member notices: a newcomer to approve, the verdict to the newcomer, and the
verdict on every other decider's copy of a notice with decision buttons (`settled`)."""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import members
from bot.views.buttons import button, markup
from bot.views.callbacks import Decide, Menu
from bot.views.labels import position_label
from storage.db import Database
from storage.enums import MemberStatus
from storage.models import Outbox


@renderer("applicant_pending")
async def applicant_pending(
    db: Database, to: Recipient, payload: dict[str, Any]
) -> Rendered | None:
    card = await members.applicant_summary(db, int(payload["applicant_id"]), to.language)
    if card is None or card.member.status != MemberStatus.PENDING:
        return None
    m = card.member
    place = ", ".join(p for p in (card.municipality, card.district, card.region) if p) or "—"
    text = "\n".join([
        "🆕 " + _("A newcomer asks to join Birge:"),
        "<b>" + html.escape(m.full_name) + "</b>"
        + (f" (@{html.escape(m.username)})" if m.username else ""),
        _("Position: {value}").format(value=position_label(m.position)),
        _("Place: {value}").format(value=html.escape(place)),
        _("Communities: {value}").format(value=", ".join(card.communities) or "—"),
    ])
    kb = markup([[button("✅ " + _("Approve"), Decide(action="approve", member_id=m.id)),
                  button("❌ " + _("Reject"), Decide(action="reject", member_id=m.id))]])
    return Rendered(text, kb)


@renderer("member_approved")
async def member_approved(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered:
    return Rendered(
        "🎉 " + _("Your application has been approved. Welcome to Birge!") + "\n"
        + _("Send /help to see what you can do."),
        markup([[button(_("Menu"), Menu(item="home"))]]),
    )


@renderer("member_rejected")
async def member_rejected(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered:
    return Rendered(_("Your application was not approved. If you think this is a mistake, "
                      "contact your district leader or the Union of LSGs, or send /start to "
                      "apply again."))


def settled_text(verdict: str, name: str, by: str) -> str | None:
    """What a decision notice becomes once someone decided (`notify.settle`)."""
    texts = {
        "member_approved": "✅ " + _("{name}: approved by {by}."),
        "member_rejected": "❌ " + _("{name}: rejected by {by}."),
        "broadcast_approved": "✅ " + _("Broadcast “{name}”: approved by {by}."),
        "broadcast_rejected": "❌ " + _("Broadcast “{name}”: rejected by {by}."),
        "case_taken": "🙋 " + _("{name}: taken by {by}."),
    }
    text = texts.get(verdict)
    return text.format(name=html.escape(name), by=html.escape(by)) if text else None


@renderer("settled")
async def settled(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    text = settled_text(str(payload.get("verdict")), str(payload.get("name", "")),
                        str(payload.get("by", "")))
    async with db.read() as s:
        source = await s.get(Outbox, int(payload.get("source_id") or 0))
    if text is None or source is None or source.telegram_message_id is None:
        return None  # the copy was never sent: nothing to edit
    return Rendered(text, None, edit=source.telegram_message_id)
