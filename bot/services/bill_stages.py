"""A draft law's way through the parliament: registered, first/second/third reading, adopted,
signed or rejected. Everyone who commented on it hears when it moves (one notice each)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.services import audit, notify, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import BroadcastKind, ResponseKind
from storage.models import BillStage, Broadcast, BroadcastResponse

STAGES = ("registered", "reading_1", "reading_2", "reading_3", "adopted", "signed", "rejected")
FINAL = ("signed", "rejected")
NOTE_MAX = 500
OUTBOX_KIND = "bill_stage"


async def current(db: Database, broadcast_id: int) -> BillStage | None:
    async with db.read() as s:
        return (await s.exec(select(BillStage).where(BillStage.broadcast_id == broadcast_id)
                             .order_by(col(BillStage.id).desc()).limit(1))).first()


async def history(db: Database, broadcast_id: int) -> list[BillStage]:
    async with db.read() as s:
        return list((await s.exec(select(BillStage).where(
            BillStage.broadcast_id == broadcast_id).order_by(col(BillStage.id)))).all())


async def move(db: Database, actor_id: int, broadcast_id: int, stage: str,
               note: str | None = None) -> int:
    """Record the bill's new stage; returns how many commenters are told."""
    if stage not in STAGES:
        raise InvalidInput("bill_stage")
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_MAX:
        raise InvalidInput("reply_length", limit=NOTE_MAX)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_position(actor),
                            policy.Action.MANAGE_POSITION, broadcast_id)
        broadcast = await s.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound(what="broadcast")
        if broadcast.kind != BroadcastKind.DRAFT_LAW:
            raise InvalidState("not_a_draft")
        last = (await s.exec(select(BillStage).where(BillStage.broadcast_id == broadcast_id)
                             .order_by(col(BillStage.id).desc()).limit(1))).first()
        if last is not None and (last.stage == stage or last.stage in FINAL):
            raise InvalidState("bill_stage_same")
        s.add(BillStage(broadcast_id=broadcast_id, stage=stage, note=text, by_id=actor_id))
        commenters = (await s.exec(select(BroadcastResponse.member_id).distinct().where(
            BroadcastResponse.broadcast_id == broadcast_id,
            BroadcastResponse.kind == ResponseKind.COMMENT))).all()
        told = await notify.enqueue_many(s, sorted(commenters), OUTBOX_KIND,
                                         broadcast_id=broadcast_id, stage=stage, note=text)
        audit.record(s, actor_id, "bill_stage", "broadcast", broadcast_id,
                     payload={"stage": stage, "told": told})
        return told
