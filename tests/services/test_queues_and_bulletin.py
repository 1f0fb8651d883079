"""The morning summary of waiting work for moderators, and the monthly bulletin for staff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.delivery.digest_notices import group_names
from bot.i18n import in_locale
from bot.services import bulletin, queues
from bot.services.errors import PermissionDenied
from bot.views.digests import BULLETIN_MAX, bulletin_text, digest_text
from storage.db import Database
from storage.enums import BroadcastKind, BroadcastStatus
from storage.models import Broadcast, Outbox
from tests import digest_helpers as q
from tests import factories as f

TZ = ZoneInfo("Asia/Bishkek")
WAITING = timedelta(hours=24)


def bishkek(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


async def summaries(db: Database) -> list[Outbox]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox).where(
            Outbox.kind == queues.OUTBOX_KIND))).all())


async def test_a_budget_moderator_hears_each_morning_of_the_questions_waiting_too_long(
    db: Database,
) -> None:
    moderator = await f.member(db, "Гүлнара Сыдыкова", language="ky")
    asker = await f.member(db, "Асель Маматова", language="ru")
    await q.moderate(db, moderator.id, "budget")
    old = await q.ask(db, asker.id, "budget", "Бюджеттик мөөнөттөр", bishkek(24, 7))
    await q.ask(db, asker.id, "budget", "Жаңы эле берилген суроо", bishkek(25, 7))  # too fresh
    done = await q.ask(db, asker.id, "budget", "Жооп берилген", bishkek(24, 6))
    await q.answer(db, done, moderator.id, bishkek(24, 12))
    await q.ask(db, asker.id, "land", "Башка топтогу суроо", bishkek(24, 6))  # not theirs

    sent = await queues.send_queue_summaries(db, bishkek(25, 8), TZ, 8, WAITING)
    assert sent == 1
    again = await queues.send_queue_summaries(db, bishkek(25, 8, 30), TZ, 8, WAITING)
    assert again == 0  # one summary per morning, however many runs
    [row] = await summaries(db)
    assert row.member_id == moderator.id
    with in_locale("ky"):
        text = digest_text(row.payload, "ky", await group_names(db))
    assert f"Q-{old}" in text and "Бюджеттик мөөнөттөр" in text
    assert "Жаңы эле" not in text and "Жооп берилген" not in text and "Башка" not in text
    assert "24-ноябрь" in text  # asked on the 24th, a Kyrgyz date


async def test_nobody_hears_anything_on_a_morning_when_nothing_waits(db: Database) -> None:
    moderator = await f.member(db, "Гүлнара Сыдыкова", language="ky")
    await q.moderate(db, moderator.id, "budget")
    assert await queues.send_queue_summaries(db, bishkek(25, 8), TZ, 8, WAITING) == 0
    assert await summaries(db) == []


async def test_staff_compile_last_months_bulletin_and_send_it_to_everyone(db: Database) -> None:
    admin = await f.staff(db, language="ru")
    asker = await f.member(db, "Асель Маматова")
    expert = await f.member(db, "Эксперт ИПР")
    # Mid-month of last month, so the test never straddles a month's end in Bishkek.
    this_month = datetime.now(UTC).astimezone(TZ).date().replace(day=1)
    month = (this_month - timedelta(days=1)).replace(day=1)
    base = datetime(month.year, month.month, 15, 12, tzinfo=TZ)
    best = await q.ask(db, asker.id, "budget", "Как распределять трансферты?",
                       base - timedelta(hours=3))
    await q.answer(db, best, expert.id, base - timedelta(hours=2), useful=7)
    weak = await q.ask(db, asker.id, "land", "Аренда пастбищ", base - timedelta(hours=3))
    await q.answer(db, weak, expert.id, base - timedelta(hours=2), useful=1)
    async with db.transaction() as s:
        s.add(Broadcast(kind=BroadcastKind.LAW, title="Закон о бюджете", text_ky="Мыйзам",
                        text_ru="Закон", status=BroadcastStatus.SENDING, created_by_id=admin,
                        started_at=base - timedelta(hours=1)))

    data = await bulletin.compile_bulletin(db, admin, month, TZ)
    parts = dict(data.parts)
    assert [i.ref for i in parts["best_answers"]] == [f"Q-{best}", f"Q-{weak}"]
    assert [i.text for i in parts["month_broadcasts"]] == ["Закон о бюджете"]
    groups = await group_names(db)
    payload = [(code, [i.as_json() for i in items]) for code, items in data.parts]
    with in_locale("ru"):
        ru = bulletin_text(payload, month, "ru", groups)
    with in_locale("ky"):
        ky = bulletin_text(payload, month, "ky", groups)
    assert "Бюллетень Союза МСУ" in ru and "7 голосов" in ru and "Закон о бюджете" in ru
    assert "ЖӨБ союзунун бюллетени" in ky and len(ky) <= BULLETIN_MAX

    with pytest.raises(PermissionDenied):
        await bulletin.compile_bulletin(db, asker.id, month, TZ)
    with pytest.raises(PermissionDenied):
        await bulletin.send_bulletin(db, asker.id, month, ky, ru, None)
    sent = await bulletin.send_bulletin(db, admin, month, ky, ru + "\n\nПравка редактора.", None)
    assert sent.status == BroadcastStatus.SENDING and sent.recipients >= 3
    async with db.read() as s:
        b = await s.get(Broadcast, sent.broadcast_id)
    assert b is not None and b.kind == BroadcastKind.NEWS and "Правка редактора." in b.text_ru
    assert b.title == f"Birge · {month:%m.%Y}"


def test_a_month_runs_from_its_first_day_to_the_next_months_in_bishkek() -> None:
    p = bulletin.month_period(date(2026, 12, 15), TZ)
    assert p.start == datetime(2026, 12, 1, tzinfo=TZ) and p.end == datetime(2027, 1, 1, tzinfo=TZ)
