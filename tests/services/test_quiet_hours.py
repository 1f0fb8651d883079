"""Quiet hours and muted kinds, as the outbox worker applies them, and the /settings service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot.delivery.worker import OutboxWorker
from bot.services import broadcasts, notify, settings
from bot.services.broadcasts import Audience, Draft
from bot.services.errors import InvalidInput, PermissionDenied
from bot.services.settings import Change, QuietHours
from storage.db import Database
from storage.enums import BroadcastKind, DigestFrequency, NoticeCategory
from storage.models import Outbox
from tests import factories as f

TZ = ZoneInfo("Asia/Bishkek")
QUIET = QuietHours(21, 8, TZ)


def bishkek(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


@pytest.fixture
async def worker(db: Database) -> AsyncIterator[OutboxWorker]:
    found = OutboxWorker(db, None, None, quiet=QUIET)  # type: ignore[arg-type]
    yield found
    found._unsubscribe()


async def rows(db: Database, member_id: int) -> list[Outbox]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox).where(Outbox.member_id == member_id)
                                  .order_by(Outbox.id))).all())


async def send(db: Database, admin: int, member_id: int, kind: BroadcastKind) -> int:
    values: dict[str, Any] = {"kind": kind, "title": f"{kind} for Leylek", "text_ky": "Текст",
                              "text_ru": "Текст", "audience": Audience(members=[member_id])}
    return (await broadcasts.submit_broadcast(db, admin, Draft(**values))).broadcast_id


def test_the_window_runs_from_21_to_8_in_bishkek() -> None:
    assert QUIET.until(bishkek(23, 20, 59)) is None
    assert QUIET.until(bishkek(23, 21)) == bishkek(24, 8)
    assert QUIET.until(bishkek(24, 3)) == bishkek(24, 8)
    assert QUIET.until(bishkek(24, 8)) is None
    assert QuietHours(13, 15, TZ).until(bishkek(24, 14)) == bishkek(24, 15)
    assert QuietHours(0, 0, TZ).until(bishkek(24, 3)) is None


async def test_a_law_at_22_waits_until_8_and_an_urgent_broadcast_does_not(
    db: Database, worker: OutboxWorker
) -> None:
    with time_machine.travel(bishkek(23, 22), tick=False):
        admin = await f.staff(db)
        asel = await f.member(db, "Асель Маматова")
        await worker.recover()
        law = await send(db, admin, asel.id, BroadcastKind.LAW)
        urgent = await send(db, admin, asel.id, BroadcastKind.URGENT)
        async with db.transaction() as s:  # a notice of someone else's doing, non-urgent
            notify.enqueue(s, asel.id, "broadcast_question", response_id=1)
        claimed, _ = await worker._claim()
        claimed += (await worker._claim())[0]
    got = {c.payload.get("broadcast_id") for c in claimed
           if c.member_id == asel.id and c.kind == "broadcast"}
    assert got == {urgent}
    assert "member_approved" in {c.kind for c in claimed}  # the answer to their application
    waiting = [r for r in await rows(db, asel.id) if r.status == "pending"]
    assert {r.payload.get("broadcast_id") for r in waiting} == {law, None}
    assert all(r.not_before == bishkek(24, 8) for r in waiting)
    with time_machine.travel(bishkek(24, 8).replace(second=1), tick=False):
        later, _ = await worker._claim()
    assert {c.payload.get("broadcast_id") for c in later if c.member_id == asel.id} == {law, None}


async def test_a_member_without_quiet_hours_gets_the_law_at_night(
    db: Database, worker: OutboxWorker
) -> None:
    with time_machine.travel(bishkek(23, 23), tick=False):
        admin = await f.staff(db)
        owl = await f.member(db, "Night Owl", language="en")
        await settings.update_settings(db, owl.id, Change(quiet_hours=False))
        law = await send(db, admin, owl.id, BroadcastKind.LAW)
        claimed = []
        for _ in range(3):
            claimed += (await worker._claim())[0]
    assert law in {c.payload.get("broadcast_id") for c in claimed if c.member_id == owl.id}


async def test_a_member_who_muted_broadcasts_still_gets_the_urgent_one(
    db: Database, worker: OutboxWorker
) -> None:
    with time_machine.travel(bishkek(23, 12), tick=False):
        admin = await f.staff(db)
        asel = await f.member(db, "Асель Маматова")
        await settings.update_settings(db, asel.id, Change(category="broadcasts", wanted=False))
        law = await send(db, admin, asel.id, BroadcastKind.LAW)
        urgent = await send(db, admin, asel.id, BroadcastKind.URGENT)
        claimed = []
        for _ in range(3):
            claimed += (await worker._claim())[0]
    assert {c.payload.get("broadcast_id") for c in claimed
            if c.member_id == asel.id and c.kind == "broadcast"} == {urgent}
    [muted] = [r for r in await rows(db, asel.id) if r.broadcast_id == law]
    assert muted.status == "cancelled" and muted.last_error == "muted"


async def test_a_notice_tagged_with_a_category_the_member_switched_off_is_not_sent(
    db: Database, worker: OutboxWorker
) -> None:
    with time_machine.travel(bishkek(23, 12), tick=False):
        asel = await f.member(db, "Асель Маматова")
        await settings.update_settings(db, asel.id,
                                       Change(category=NoticeCategory.QUESTIONS, wanted=False))
        async with db.transaction() as s:
            notify.enqueue(s, asel.id, "question_new", category=NoticeCategory.QUESTIONS,
                           question_id=1)
            notify.enqueue(s, asel.id, "answer_new", category=NoticeCategory.ANSWERS,
                           question_id=1)
        claimed = []
        for _ in range(3):
            claimed += (await worker._claim())[0]
    assert [c.kind for c in claimed if c.member_id == asel.id and c.kind != "member_approved"] \
        == ["answer_new"]


async def test_settings_change_one_thing_at_a_time_and_refuse_what_no_button_offers(
    db: Database,
) -> None:
    asel = await f.member(db, "Асель Маматова")
    assert await settings.get_settings(db, asel.id) == settings.Prefs()
    p = await settings.update_settings(db, asel.id, Change(frequency="daily"))
    p = await settings.update_settings(db, asel.id, Change(hour=18))
    assert (p.frequency, p.hour, p.weekday) == (DigestFrequency.DAILY, 18, 0)
    p = await settings.update_settings(db, asel.id, Change(category="legal", wanted=False))
    assert p.muted == {NoticeCategory.LEGAL} and not p.wants("legal")
    for bad in (Change(frequency="hourly"), Change(hour=24), Change(weekday=7),
                Change(category="gossip", wanted=False), Change(category="legal")):
        with pytest.raises(InvalidInput):
            await settings.update_settings(db, asel.id, bad)
    newcomer = await f.applicant(db, "Бакыт Осмонов")
    with pytest.raises(PermissionDenied):
        await settings.update_settings(db, newcomer.id, Change(hour=10))
