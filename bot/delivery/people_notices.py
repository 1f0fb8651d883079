"""Renderers for the directory's relayed messages and for new municipality names to decide."""

from __future__ import annotations

from typing import Any

from bot.delivery.attachments import attachments
from bot.delivery.render import Recipient, Rendered, renderer
from bot.services import people, places
from bot.views.people import proposed_keyboard, proposed_text, relayed_keyboard, relayed_text
from storage.db import Database


@renderer("direct_message")
async def direct_message(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    m = await people.relayed(db, int(payload["message_id"]), to.language)
    if m is None:
        return None
    return Rendered(relayed_text(m), relayed_keyboard(m),
                    attachments=attachments([m.attachment] if m.attachment else []))


@renderer("municipality_proposed")
async def municipality_proposed(db: Database, to: Recipient,
                                payload: dict[str, Any]) -> Rendered | None:
    found = await places.pending_one(db, to.member_id, int(payload["municipality_id"]),
                                     to.language)
    if found is None:
        return None
    return Rendered(proposed_text(found), proposed_keyboard(found))
