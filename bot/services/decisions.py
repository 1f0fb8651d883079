"""The archive of decisions: every broadcast a member received stays findable by them
(`/decisions` and `/search`), in their language, with its documents; staff see all.

A receipt (`DecisionReceipt`) is written for every recipient in the transaction that fans a
broadcast out (`record`), so the archive does not depend on outbox rows, which are pruned. A
cancelled broadcast keeps the receipts of those it had already reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import policy, search
from bot.services.errors import NotFound
from storage.db import Database
from storage.enums import OutboxStatus
from storage.models import Broadcast, DecisionReceipt, Outbox
from storage.types import utcnow


async def record(session: AsyncSession, broadcast_id: int, member_ids: list[int]) -> None:
    """Inside the fan-out's transaction: who received it, and its text into the index."""
    rows = [{"member_id": m, "broadcast_id": broadcast_id} for m in sorted(set(member_ids))]
    for start in range(0, len(rows), 1000):
        await session.exec(insert(DecisionReceipt).values(rows[start:start + 1000]))
    await search.reindex_decision(session, broadcast_id)


async def forget_cancelled(session: AsyncSession, broadcast_id: int) -> None:
    """Inside the cancel's transaction: those it will now never reach have no receipt."""
    never = select(Outbox.member_id).where(Outbox.broadcast_id == broadcast_id,
                                           Outbox.status == OutboxStatus.CANCELLED,
                                           Outbox.last_error == "cancelled")
    await session.exec(delete(DecisionReceipt).where(
        col(DecisionReceipt.broadcast_id) == broadcast_id,
        col(DecisionReceipt.member_id).in_(never)))


@dataclass(frozen=True)
class DecisionLine:
    id: int
    kind: str
    title: str
    when: datetime | None


# A broadcast's title in a reader's language: the broadcasts' own order (`title` is Russian).
FALLBACK = {"ky": ("ky", "ru", "en"), "ru": ("ru", "ky", "en"), "en": ("en", "ru", "ky")}


def title_for(b: Broadcast, language: str) -> str:
    titles = {"ru": b.title, "ky": b.title_ky, "en": b.title_en}
    return next((t for lang in FALLBACK.get(language, FALLBACK["ru"])
                 if (t := titles[lang])), b.title)


def _sent() -> list[Any]:
    return [col(Broadcast.status).in_(search.SENT_STATUSES),
            col(Broadcast.started_at) <= utcnow()]


async def archive(db: Database, actor_id: int, page: int = 0, per_page: int = 8,
                  language: str = "ru") -> tuple[list[DecisionLine], int, int]:
    """The decisions this member received (staff: all), newest first, titled in `language`
    (falling back as a broadcast does): (lines, total, page)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        if not actor.active:
            return [], 0, 0
        query = select(Broadcast).where(*_sent())
        if not actor.is_staff:
            query = query.join(DecisionReceipt, col(DecisionReceipt.broadcast_id) == Broadcast.id
                               ).where(DecisionReceipt.member_id == actor_id)
        total = int((await s.exec(select(func.count()).select_from(query.subquery()))).one())
        page = max(0, min(page, max(0, (total - 1) // per_page)))
        rows = (await s.exec(query.order_by(col(Broadcast.started_at).desc(),
                                            col(Broadcast.id).desc())
                             .offset(page * per_page).limit(per_page))).all()
    return ([DecisionLine(b.id or 0, b.kind, title_for(b, language), b.started_at)
             for b in rows], total, page)


async def decision(db: Database, actor_id: int, broadcast_id: int) -> Broadcast:
    """One decision, for a member who received it or staff (a forged id is refused)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        found = await s.get(Broadcast, broadcast_id)
        received = await s.get(DecisionReceipt, (actor_id, broadcast_id)) is not None
        if found is None or found.status not in search.SENT_STATUSES:
            raise NotFound(what="broadcast")
        await policy.ensure(db, actor, policy.can_view_decision(actor, received),
                            policy.Action.VIEW_DECISION, broadcast_id)
        return found


async def is_staff(db: Database, actor_id: int) -> bool:
    async with db.read() as s:
        return (await policy.load_actor(s, actor_id)).is_staff
