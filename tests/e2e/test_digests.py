"""Digests, quiet hours and the bulletin through the real bot, with a controlled clock: a digest
missed while Birge was down arrives once when it is back, two Birge processes send it once, a law
at 22:00 waits until 08:00 while an urgent broadcast does not, staff send the monthly bulletin."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.i18n import format_day
from bot.scheduler import Scheduler
from bot.services import broadcasts
from bot.services.broadcasts import Audience, Draft
from bot.views.callbacks import Bulletin
from storage.db import Database
from storage.enums import BroadcastKind, OutboxStatus
from storage.models import MemberSettings, Outbox
from tests import digest_helpers as q
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    _unread,
    outbox_rows,
    press,
    said,
    silent,
    t,
    wait_for,
)

TZ = ZoneInfo("Asia/Bishkek")


# The tests travel to a Monday after the real today: Birge's jobs, first registered at the real
# time, must fall due before the travelled clock (a fixed date broke once the wall clock passed it).
_today = datetime.now(TZ).date()
MONDAY = _today + timedelta(days=14 - _today.weekday())


def bishkek(day: int, hour: int, minute: int = 0) -> datetime:
    """A day around `MONDAY` (0 is that Monday, -1 the Sunday before, -7 the Monday before)
    at this Bishkek time, as aware UTC."""
    moment = datetime.combine(MONDAY + timedelta(days=day), datetime.min.time(), tzinfo=TZ)
    return moment.replace(hour=hour, minute=minute).astimezone(UTC)


async def digests_for(birge: Running, member_id: int) -> list[Outbox]:
    return [r for r in await outbox_rows(birge.db) if r.kind == "digest"
            and r.member_id == member_id]


async def got_last_mondays_digest(birge: Running, member_id: int) -> None:
    """The member had last Monday's digest (so only this Monday's is due). Birge may write the
    member's settings row itself at any moment after approving them (CI once saw it land between
    a look-up and an insert here), so this updates the row, or adds it and retries if it lost."""
    for _attempt in range(3):
        try:
            async with birge.db.transaction() as s:
                settings = await s.get(MemberSettings, member_id)
                if settings is None:
                    settings = MemberSettings(member_id=member_id)
                    s.add(settings)
                settings.last_digest_at = bishkek(-7, 9)
            return
        except IntegrityError:
            continue
    raise AssertionError("the member's settings could not be written")


async def test_a_digest_missed_while_birge_was_down_arrives_once_after_the_restart(
    birge: Running, people: PersonFactory
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(0, 8, 50), tick=True) as clock:
        await birge.start()
        nurlan = await people("Нурлан", "ky")
        m = await f.member(birge.db, "Нурлан Абдылдаев", telegram_id=nurlan.user_id,
                           language="ky")
        await said(nurlan, t("ky", "Your application has been approved."))
        await got_last_mondays_digest(birge, m.id)
        asker = await f.member(birge.db, "Асель Маматова")
        await q.follow(birge.db, m.id, "budget")
        await q.ask(birge.db, asker.id, "budget", "Бюджетти кантип бекитебиз?",
                    bishkek(-1, 10))
        await birge.stop()  # down from 08:50 to 11:20: the 09:00 digest was missed
        clock.move_to(bishkek(0, 11, 20))
        await birge.start()
        got = await said(nurlan, t("ky", "Your weekly digest"), "Бюджетти кантип бекитебиз?",
                         timeout=10)
        assert format_day(MONDAY, "ky", year=False) in str(got), got

        async def recorded() -> bool:  # (a message on the wire at a stop may go twice)
            return all(r.status == "sent" for r in await digests_for(birge, m.id))

        await wait_for(recorded)
        await birge.restart()
        await asyncio.sleep(1.0)
        await silent(nurlan)
        assert len(await digests_for(birge, m.id)) == 1


async def test_two_birge_processes_on_one_database_send_one_digest(
    birge: Running, people: PersonFactory
) -> None:
    kanat = await people("Kanat", "en")
    m = await f.member(birge.db, "Kanat Isaev", telegram_id=kanat.user_id, language="en")
    await said(kanat, t("en", "Your application has been approved."))
    asker = await f.member(birge.db, "Асель Маматова")
    await q.follow(birge.db, m.id, "services")
    now = datetime.now(UTC)
    await q.ask(birge.db, asker.id, "services", "Street lighting contracts?",
                now + timedelta(days=2))
    later = now + timedelta(days=8)  # a week on, whatever day the test runs
    second = Scheduler(Database(birge.settings.database_url), birge.settings)
    await second.start()
    try:
        assert birge.app is not None
        ran = await asyncio.gather(birge.app.scheduler.run_job("digests.send", later),
                                   second.run_job("digests.send", later))
        assert sorted(ran) == [False, True]
        await said(kanat, t("en", "Your weekly digest"), "Street lighting contracts?")
        await asyncio.sleep(0.5)
        await silent(kanat)
        assert len(await digests_for(birge, m.id)) == 1
    finally:
        await second.stop()
        await second.db.dispose()


async def test_a_law_at_22_waits_until_8_but_an_urgent_broadcast_goes_at_once(
    birge: Running, people: PersonFactory
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(0, 22), tick=True) as clock:
        await birge.start(quiet_hours_start=21, quiet_hours_end=8)
        asel = await people("Асель", "ru")
        m = await f.member(birge.db, "Асель Маматова", telegram_id=asel.user_id, language="ru")
        await said(asel, t("ru", "Your application has been approved."))  # their own request
        admin = await f.staff(birge.db)
        for kind, title in ((BroadcastKind.LAW, "Закон о пастбищах"),
                            (BroadcastKind.URGENT, "Штормовое предупреждение")):
            await broadcasts.submit_broadcast(birge.db, admin, Draft(
                kind=kind, title=title, text_ky="Текст", text_ru="Текст",
                audience=Audience(members=[m.id])))
        await said(asel, "Штормовое предупреждение")
        await asyncio.sleep(1.0)
        await silent(asel)

        async def held() -> bool:
            async with birge.db.read() as s:
                law = (await s.exec(select(Outbox).where(
                    Outbox.member_id == m.id, Outbox.kind == "broadcast",
                    Outbox.status == OutboxStatus.PENDING))).all()
            return len(law) == 1 and law[0].not_before == morning

        morning = bishkek(1, 8)
        await wait_for(held)
        clock.move_to(morning + timedelta(seconds=5))
        await said(asel, "Закон о пастбищах", timeout=8)


async def test_staff_edit_the_monthly_bulletin_and_members_receive_it(
    birge: Running, people: PersonFactory
) -> None:
    boss = await people("Staff", "ru")
    await f.staff(birge.db, boss.user_id, "Сотрудник Союза", language="ru")
    nurlan = await people("Нурлан", "ky")
    await f.member(birge.db, "Нурлан Абдылдаев", telegram_id=nurlan.user_id, language="ky")
    await said(nurlan, t("ky", "Your application has been approved."))

    await nurlan.send("/bulletin")
    await said(nurlan, t("ky", "You are not allowed to do that."))

    await boss.send("/bulletin")
    await said(boss, t("ru", "The bulletin draft"), "Бюллетень Союза МСУ")
    await press(boss, Bulletin(action="edit", value="ky").pack())
    await said(boss, t("ru", "Send the new text in {language}"), "Кыргызча")
    await boss.upload("sticker", b"data")
    await said(boss, t("ru", "Please send the text as a message."))
    await boss.send("Ноябрь айынын жыйынтыктары: 12 суроого жооп берилди.")
    draft = await said(boss, t("ru", "The bulletin draft"))
    await press(boss, Bulletin(action="send").pack())
    await said(boss, t("ru", "The bulletin is on its way to"))
    await said(nurlan, "Ноябрь айынын жыйынтыктары: 12 суроого жооп берилди.")
    await boss.press_data(draft["message_id"], Bulletin(action="send").pack())
    assert t("ru", "This button is no longer active.") in str(await boss.answer())


async def test_a_moderator_hears_in_the_morning_of_a_question_waiting_since_yesterday(
    birge: Running, people: PersonFactory
) -> None:
    gulnara = await people("Гүлнара", "ky")
    m = await f.member(birge.db, "Гүлнара Сыдыкова", telegram_id=gulnara.user_id,
                       language="ky")
    await said(gulnara, t("ky", "Your application has been approved."))
    asker = await f.member(birge.db, "Асель Маматова")
    await q.moderate(birge.db, m.id, "land")
    now = datetime.now(UTC)
    await q.ask(birge.db, asker.id, "land", "Жайыт ижарасынын келишими", now - timedelta(hours=30))
    await q.ask(birge.db, asker.id, "land", "Жаңы суроо", now - timedelta(hours=2))
    assert birge.app is not None
    assert await birge.app.scheduler.run_job("queues.morning", now) is True
    got = await said(gulnara, t("ky", "Waiting for you today"), "Жайыт ижарасынын келишими")
    assert "Жаңы суроо" not in str(got)

    async def delivered() -> bool:  # the instant notices of both questions are out too
        return all(row.status not in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                   for row in await outbox_rows(birge.db))

    await wait_for(delivered)
    await gulnara.replies(timeout=0.5)
    _unread(gulnara).clear()
    assert await birge.app.scheduler.run_job("queues.morning", now) is True
    await asyncio.sleep(0.8)
    await silent(gulnara)  # once a morning
