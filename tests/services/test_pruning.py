"""Nothing grows without bound: the daily pruning job deletes what is old enough, and a
broadcast's report reads the same before and after."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, func, select

from bot.config import Settings
from bot.jobs import pruning as pruning_job
from bot.jobs.registry import REGISTRY, JobContext
from bot.services import audit, broadcasts
from bot.services.broadcasts import Audience, Draft
from storage.db import Database
from storage.enums import BroadcastKind, OutboxStatus, Position
from storage.models import AuditLog, FsmRecord, Outbox
from storage.types import utcnow
from tests import factories as f


def _settings() -> Settings:
    return Settings(prune_outbox_days=90, prune_conversation_days=30, prune_audit_days=365,
                    prune_batch_size=100)


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.read() as s:
        return int((await s.exec(select(func.count()).select_from(model).where(
            *where))).one())  # type: ignore[arg-type]


async def _sent_broadcast(db: Database, staff: int, age: timedelta) -> int:
    """A broadcast to everyone, delivered (one failed, one unreachable), `age` ago."""
    sent = await broadcasts.submit_broadcast(db, staff, Draft(
        kind=BroadcastKind.LAW, title="О местном бюджете", text_ky="Мыйзам кабыл алынды.",
        text_ru="Принят закон.", audience=Audience()))
    then = utcnow() - age
    async with db.transaction() as s:
        ids = list((await s.exec(select(Outbox.id).where(
            Outbox.broadcast_id == sent.broadcast_id).order_by(col(Outbox.id)))).all())
        await s.exec(update(Outbox).where(col(Outbox.broadcast_id) == sent.broadcast_id)
                     .values(status=OutboxStatus.SENT, created_at=then, sent_at=then))
        await s.exec(update(Outbox).where(col(Outbox.id) == ids[0])
                     .values(status=OutboxStatus.FAILED))
        await s.exec(update(Outbox).where(col(Outbox.id) == ids[1])
                     .values(status=OutboxStatus.UNREACHABLE))
    return sent.broadcast_id


async def test_pruning_deletes_only_what_is_old_and_reports_keep_their_figures(
        db: Database) -> None:
    assert "pruning.daily" in REGISTRY
    staff = await f.staff(db)
    members = [
        (await f.member(db, "Асель Маматова", district="leylek", position=Position.FINANCE,
                        language="ru")).id,
        (await f.member(db, "Нурлан Абдылдаев", district="leylek", language="ky")).id,
        (await f.member(db, "Kanat Isaev", district="batken", language="en")).id,
        (await f.member(db, "Бакыт Осмонов", district="talas", language="ru")).id,
    ]
    old = await _sent_broadcast(db, staff, timedelta(days=200))
    new = await _sent_broadcast(db, staff, timedelta(days=10))
    assert await broadcasts.acknowledge(db, members[0], old)
    old_rows = await _count(db, Outbox, Outbox.broadcast_id == old)
    new_rows = await _count(db, Outbox, Outbox.broadcast_id == new)
    assert old_rows >= 5
    before = {b: await broadcasts.report(db, staff, b) for b in (old, new)}
    csv_before = await broadcasts.report_csv(db, staff, old)

    now = utcnow()
    async with db.transaction() as s:
        audit.record(s, staff, "test_old", "member", members[0])
        audit.record(s, staff, "test_new", "member", members[0])
        s.add(FsmRecord(key="old-finished", state=None, updated_at=now - timedelta(days=40)))
        s.add(FsmRecord(key="old-in-flow", state="Flow:step",
                        updated_at=now - timedelta(days=40)))
        s.add(FsmRecord(key="new-finished", state=None, updated_at=now - timedelta(days=1)))
    async with db.transaction() as s:
        await s.exec(update(AuditLog).where(col(AuditLog.action) == "test_old")
                     .values(created_at=now - timedelta(days=400)))
    audit_before = await _count(db, AuditLog)

    ctx = JobContext(db=db, settings=_settings(), now=now)
    await pruning_job.prune(ctx)

    assert await _count(db, Outbox, Outbox.broadcast_id == old) == 0
    assert await _count(db, Outbox, Outbox.broadcast_id == new) == new_rows
    assert await _count(db, AuditLog, AuditLog.action == "test_old") == 0
    assert await _count(db, AuditLog, AuditLog.action == "test_new") == 1
    assert await _count(db, AuditLog) == audit_before - 1
    async with db.read() as s:
        keys = set((await s.exec(select(FsmRecord.key))).all())
    assert {"old-in-flow", "new-finished"} <= keys and "old-finished" not in keys
    for b in (old, new):
        after = await broadcasts.report(db, staff, b)
        assert after.total == before[b].total
        assert after.by_status == before[b].by_status
        assert after.by_place == before[b].by_place
        assert after.acknowledged == before[b].acknowledged
    assert await broadcasts.report_csv(db, staff, old) == csv_before
    # A recipient may still acknowledge a broadcast whose rows are gone; others still may not.
    assert await broadcasts.acknowledge(db, members[1], old)
    assert not await broadcasts.acknowledge(db, members[0], old)

    # Idempotent: a second run deletes nothing and changes no figure.
    again = await broadcasts.report(db, staff, old)
    await pruning_job.prune(ctx)
    assert await broadcasts.report(db, staff, old) == again
    assert await _count(db, Outbox, Outbox.broadcast_id == new) == new_rows
    assert await _count(db, AuditLog, AuditLog.action == "test_new") == 1
