"""Renderers for broadcasts: the message itself, and the notices around it for staff."""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.attachments import attachments
from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import broadcasts, cache
from bot.views.broadcasts import broadcast_text, member_buttons
from bot.views.buttons import button, markup
from bot.views.callbacks import Bc
from bot.views.inbox import Qi
from storage.db import Database
from storage.enums import BroadcastStatus

# One rendering per broadcast and language, not one per recipient; forgotten when it changes.
_rendered: cache.ReadCache[Rendered | None] = cache.ReadCache(30.0, "broadcast")


@renderer(broadcasts.OUTBOX_KIND)
async def broadcast(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    key = (int(payload["broadcast_id"]), to.language)
    done = _rendered.get(key)
    if not cache.missing(done):
        return done  # type: ignore[return-value]
    found = await broadcasts.cached(db, key[0])
    if found is None or found.status == BroadcastStatus.CANCELLED:
        return _rendered.put(key, None)
    return _rendered.put(key, Rendered(broadcast_text(found, to.language),
                                       member_buttons(found),
                                       attachments(found.documents)))


@renderer("broadcast_for_approval")
async def for_approval(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await broadcasts.cached(db, int(payload["broadcast_id"]))
    if found is None or found.status != BroadcastStatus.AWAITING_APPROVAL:
        return None
    assert found.id is not None
    text = "🗳 " + _("A state-body liaison asks to send this broadcast:") + "\n\n" + \
        broadcast_text(found, to.language)
    return Rendered(text[:4000], markup([[
        button("✅ " + _("Approve"), Bc(action="approve", broadcast_id=found.id)),
        button("❌ " + _("Reject"), Bc(action="reject", broadcast_id=found.id))]]))


@renderer("broadcast_decided")
async def decided(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await broadcasts.cached(db, int(payload["broadcast_id"]))
    if found is None:
        return None
    title = html.escape(found.title)
    if payload.get("approved"):
        return Rendered(_("Your broadcast “{title}” was approved and is being sent.").format(
            title=title))
    return Rendered(_("Your broadcast “{title}” was not approved.").format(title=title))


@renderer("broadcast_question")
async def asked(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await broadcasts.question(db, int(payload["response_id"]))
    if found is None:
        return None
    response, member, b = found
    return Rendered("❓ " + _("{name} asks about “{title}”:").format(
        name=html.escape(member.full_name), title=html.escape(b.title))
        + "\n\n" + html.escape(response.text or ""),
        markup([[button("✍️ " + _("Reply"), Qi(action="reply", item_id=response.id or 0)),
                 button("📥 " + _("Inbox"), Qi(action="new"))]]))
