"""A named lease in the database: whoever holds it (until it expires) is the one that acts.

Used by the scheduler so that of several replicas on one database only one runs jobs, and each
scheduled run (a job's slot) runs once. Taking or renewing is one conditional write, so two
contenders cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import JobRun, SchedulerLease
from storage.types import utcnow


async def hold_lease(db: Database, name: str, holder: str, now: datetime,
                     ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder`; False when someone else holds it."""
    until = now + ttl
    async with db.transaction() as s:
        result = await s.exec(
            update(SchedulerLease)
            .where(col(SchedulerLease.name) == name)
            .where(or_(col(SchedulerLease.holder) == holder,
                       col(SchedulerLease.expires_at) < now))
            .values(holder=holder, expires_at=until)
        )
        if result.rowcount:
            return True
    try:
        async with db.transaction() as s:
            await s.exec(insert(SchedulerLease).values(name=name, holder=holder,
                                                       expires_at=until))
        return True
    except IntegrityError:
        return False


async def release_lease(db: Database, name: str, holder: str) -> None:
    async with db.transaction() as s:
        await s.exec(delete(SchedulerLease).where(
            col(SchedulerLease.name) == name, col(SchedulerLease.holder) == holder))


# --- the slots of scheduled jobs: each (job, scheduled time) runs once -----------------------

KEEP_RUNS = timedelta(days=7)


async def take_slot(db: Database, name: str, slot: datetime, holder: str) -> bool:
    """Record that `holder` runs job `name` for `slot`; False when the slot was taken before."""
    try:
        async with db.transaction() as s:
            await s.exec(insert(JobRun).values(name=name, slot=slot, holder=holder,
                                               started_at=utcnow()))
        return True
    except IntegrityError:
        return False


async def finish_slot(db: Database, name: str, slot: datetime) -> None:
    now = utcnow()
    async with db.transaction() as s:
        await s.exec(update(JobRun).where(col(JobRun.name) == name, col(JobRun.slot) == slot)
                     .values(finished_at=now))
        await s.exec(delete(JobRun).where(col(JobRun.started_at) < now - KEEP_RUNS))


async def unfinished_slots(db: Database, holder: str) -> list[tuple[str, datetime]]:
    """Slots taken by other processes and never finished (their process died mid-run)."""
    async with db.read() as s:
        rows = (await s.exec(select(JobRun.name, JobRun.slot).where(
            col(JobRun.finished_at).is_(None), col(JobRun.holder) != holder))).all()
    return [(str(r[0]), r[1]) for r in rows]


async def reclaim_slot(db: Database, name: str, slot: datetime, holder: str) -> bool:
    async with db.transaction() as s:
        result = await s.exec(update(JobRun).where(
            col(JobRun.name) == name, col(JobRun.slot) == slot,
            col(JobRun.finished_at).is_(None), col(JobRun.holder) != holder,
        ).values(holder=holder, started_at=utcnow()))
        return bool(result.rowcount)
