"""Renderers for the digest and the morning queues summary (their data comes from the services)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import cache, digests, queues
from bot.views.buttons import button, markup
from bot.views.callbacks import Pref
from bot.views.digests import digest_text
from storage.db import Database
from storage.models import TopicGroup

# The group names a digest shows, read once for thousands of digests.
_groups: cache.ReadCache[dict[int, TopicGroup]] = cache.ReadCache(300.0, "topic_group")


async def group_names(db: Database) -> dict[int, TopicGroup]:
    found = _groups.get("all")
    if not cache.missing(found):
        return found  # type: ignore[return-value]
    async with db.read() as s:
        rows = (await s.exec(select(TopicGroup))).all()
    return _groups.put("all", {g.id: g for g in rows if g.id is not None})


@renderer(digests.OUTBOX_KIND)
async def digest(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered:
    text = digest_text(payload, to.language, await group_names(db))
    last = int(payload.get("part") or 1) == int(payload.get("parts") or 1)
    kb = markup([[button("⚙️ " + _("Settings"), Pref(action="open"))]]) if last else None
    return Rendered(text, kb)


@renderer(queues.OUTBOX_KIND)
async def queues_summary(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered:
    return Rendered(digest_text(payload, to.language, await group_names(db)))
