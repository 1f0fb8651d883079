"""Nothing grows without bound: what a year leaves behind is deleted once it is old enough.

- outbox rows that are finished (sent, failed, unreachable, cancelled) and older than
  `PRUNE_OUTBOX_DAYS`; a broadcast's rows are first added up by status, region and district into
  `broadcast_outcome`, which its report reads with the rows that remain, so the report keeps its
  figures;
- conversation states of finished conversations (no state) untouched for `PRUNE_CONVERSATION_DAYS`;
- audit rows older than `PRUNE_AUDIT_DAYS`;
- logged updates (storage/inbox.py) received more than `PRUNE_UPDATE_DAYS` ago.

Each batch (`PRUNE_BATCH_SIZE` rows) is one short transaction, so members' replies never wait
long behind the job. Running it again deletes nothing more: it is idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import col, select

from storage import inbox
from storage.db import Database
from storage.enums import OutboxStatus
from storage.models import AuditLog, BroadcastOutcome, FsmRecord, Member, Outbox

FINISHED = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNREACHABLE,
            OutboxStatus.CANCELLED)
FINISHED_VALUES = frozenset(x.value for x in FINISHED)


@dataclass
class Pruned:
    outbox: int = 0
    conversations: int = 0
    audit: int = 0
    updates: int = 0


async def _outbox_batch(db: Database, cutoff: datetime, batch: int,
                        after: int) -> tuple[int, int]:
    """Prune the next batch of rows after id `after`: how many, and the last id (0: none)."""
    async with db.transaction() as s:
        rows = (await s.exec(
            select(col(Outbox.id), col(Outbox.broadcast_id), col(Outbox.status),  # type: ignore[call-overload]
                   col(Member.region_id), col(Member.district_id))
            .join(Member, col(Member.id) == Outbox.member_id, isouter=True)
            .where(col(Outbox.created_at) < cutoff, col(Outbox.id) > after)
            .order_by(col(Outbox.id)).limit(batch))).all()
        if not rows:
            return 0, 0
        # Filtered here, not in SQL: the query then walks the primary key from `after` instead
        # of reading every finished row through the status index and sorting them.
        seen = rows[-1][0]
        rows = [r for r in rows if r[2] in FINISHED_VALUES]
        outcomes: dict[tuple[int, int | None, int | None, str], int] = defaultdict(int)
        for _id, broadcast_id, status, region_id, district_id in rows:
            if broadcast_id is not None:
                outcomes[(broadcast_id, region_id, district_id, status)] += 1
        for (broadcast_id, region_id, district_id, status), n in outcomes.items():
            done = await s.exec(
                update(BroadcastOutcome)
                .where(col(BroadcastOutcome.broadcast_id) == broadcast_id,
                       col(BroadcastOutcome.region_id).is_not_distinct_from(region_id),
                       col(BroadcastOutcome.district_id).is_not_distinct_from(district_id),
                       col(BroadcastOutcome.status) == status)
                .values(count=BroadcastOutcome.count + n))
            if not done.rowcount:
                s.add(BroadcastOutcome(broadcast_id=broadcast_id, region_id=region_id,
                                       district_id=district_id, status=status, count=n))
        ids = [r[0] for r in rows]
        if ids:
            await s.exec(delete(Outbox).where(col(Outbox.id).in_(ids)))
        return len(ids), seen


async def _conversation_batch(db: Database, cutoff: datetime, batch: int) -> int:
    async with db.transaction() as s:
        keys = list((await s.exec(
            select(FsmRecord.key).where(col(FsmRecord.state).is_(None),
                                        col(FsmRecord.updated_at) < cutoff)
            .limit(batch))).all())
        if keys:
            await s.exec(delete(FsmRecord).where(
                col(FsmRecord.key).in_(keys)))
        return len(keys)


async def _audit_batch(db: Database, cutoff: datetime, batch: int) -> int:
    async with db.transaction() as s:
        ids = list((await s.exec(
            select(AuditLog.id).where(col(AuditLog.created_at) < cutoff)
            .order_by(col(AuditLog.id)).limit(batch))).all())
        if ids:
            await s.exec(delete(AuditLog).where(
                col(AuditLog.id).in_(ids)))
        return len(ids)


async def prune(db: Database, now: datetime, *, outbox_days: int, conversation_days: int,
                audit_days: int, update_days: int = 2, batch: int = 5000) -> Pruned:
    """Delete what is older than its age, batch by batch; the counts of what went."""
    done = Pruned()
    last = 0
    # Keyset: each batch starts after the previous one's last id, so the rows that stay are
    # not read again batch after batch.
    while True:
        n, last = await _outbox_batch(db, now - timedelta(days=outbox_days), batch, last)
        if not last:
            break
        done.outbox += n
    while n := await _conversation_batch(db, now - timedelta(days=conversation_days), batch):
        done.conversations += n
    while n := await _audit_batch(db, now - timedelta(days=audit_days), batch):
        done.audit += n
    while n := await inbox.prune_batch(db, now - timedelta(days=update_days), batch):
        done.updates += n
    return done


async def outcome_total(db: Database, broadcast_id: int) -> int:
    """How many of a broadcast's rows were pruned (tests, the benchmark)."""
    async with db.read() as s:
        return int((await s.exec(select(func.coalesce(func.sum(BroadcastOutcome.count), 0))
                                 .where(BroadcastOutcome.broadcast_id == broadcast_id))).one())
