"""A named lease in the database: whoever holds it (until it expires) is the one that acts.

Used by the scheduler so that two processes started by mistake on one database do not both run
jobs. Taking or renewing is one conditional write, so two contenders cannot both succeed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.db import Database
from storage.models import SchedulerLease


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
