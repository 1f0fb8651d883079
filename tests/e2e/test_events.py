"""Events through the real bot with a controlled clock: Union staff create a webinar step by step
and invite the Talas district; members register until it is full and the waiting list moves up by
itself; the calendar file parses back; the reminders the day and the hour before arrive once each
across restarts (the hour-before one through quiet hours); a change of time brings a new calendar
file; after the event the organiser marks attendance, shares materials, reads the ratings and
opens the XLSX. Forged and late buttons get a short answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from icalendar import Calendar
from sqlmodel import select

from bot.sandbox.client import EmulatorClient, Person
from bot.services import events
from bot.services.broadcasts import Audience
from bot.services.events import EventDraft
from bot.views.callbacks import Pick
from bot.views.events import Ev, EvL
from storage.enums import EventKind
from storage.models import Event
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    nav,
    press,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member

TZ = ZoneInfo("Asia/Bishkek")


def bishkek(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def ev(action: str, event_id: int, value: int = 0) -> str:
    return Ev(action=action, event_id=event_id, value=value).pack()


def pick(step: str, value: object) -> str:
    return Pick(step=step, value=str(value)).pack()


async def calendar_files(tg: EmulatorClient, person: Person, count: int = 1) -> list[Calendar]:
    """The .ics documents the bot sent this person, parsed by the icalendar library."""
    found: list[Calendar] = []

    async def arrived() -> bool:
        found.clear()
        for message in await person.transcript():
            document = message.get("document") or {}
            if str(document.get("file_name", "")).endswith(".ics"):
                found.append(Calendar.from_ical(await tg.file(document["file_id"])))
        return len(found) >= count

    await wait_for(arrived, timeout=8)
    return found


async def offered(person: Person, data: str, timeout: float = 6.0) -> None:
    """Wait until the bot shows this person a message with a button carrying `data`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for message in await person.replies(timeout=0.3):
            if data in [d for _, d in buttons(message)]:
                return
    raise AssertionError(f"no button {data!r} was offered")


async def tap(person: Person, data: str) -> None:
    """Press a button once the bot has shown it (a step that edits its message in place)."""
    if data not in [d for _, d in buttons(person.last_bot_message() or {})]:
        await offered(person, data)
    await press(person, data)


async def webinar(birge: Running, organiser: int, *, capacity: int = 2,
                  starts: datetime | None = None, districts: list[str] | None = None,
                  title: str = "Жергиликтүү бюджет") -> int:
    start = starts or datetime.now(UTC) + timedelta(days=3)
    audience = Audience(districts=[await f.district_id(birge.db, d) for d in districts or []])
    created = await events.create_event(birge.db, organiser, EventDraft(
        kind=EventKind.WEBINAR, title_ky=title, title_ru="Местный бюджет",
        description_ky="Бюджетти пландоо боюнча вебинар.",
        description_ru="Вебинар о планировании бюджета.", starts_at=start,
        ends_at=start + timedelta(hours=2), capacity=capacity,
        online_url="https://zoom.us/j/555", audience=audience))
    return created.event_id


async def test_staff_create_a_webinar_step_by_step_and_the_talas_district_is_invited(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(11, 30, 10), tick=True):
        await birge.start()
        boss = await people("Айгерим", "ru")
        staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
        chinara, chinara_id = await member(people, birge, "Чынара Асанова", "ky", "talas")
        asel, _asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")

        await chinara.send("/events")
        page = await said(chinara, t("ky", "Events: webinars"))
        assert EvL(view="new").pack() not in [data for _, data in buttons(page)]
        await boss.send("/events")
        await said(boss, t("ru", "Events: webinars"))
        await press(boss, EvL(view="new").pack())
        await said(boss, t("ru", "New event. What kind is it?"))
        await press(boss, pick("ek", "webinar"))
        await said(boss, t("ru", "Send the event's title in {language}"))
        await boss.upload("sticker", b"sticker")
        await said(boss, t("ru", "Please send text, not a file"))
        await boss.send("/whatever")  # a command is never content
        await said(boss, t("ru", "Birge has no such command."),
                   t("ru", "You are in the middle of: {flow}.", flow=t("ru", "the event you")))
        await said(boss, t("ru", "Send the event's title in {language}"))
        await boss.send("Я" * 10_000)
        await said(boss, t("ru", "The title must be 3 to {limit} characters.", limit=200))
        await boss.send("Жергиликтүү бюджет: ачык угуулар")
        await said(boss, t("ru", "Send the event's title in {language}"), "Русский")
        await boss.send("Местный бюджет: публичные слушания")
        await said(boss, t("ru", "Send the event's title in {language}"), "English")
        await press(boss, nav("skip"))
        await said(boss, t("ru", "Send the event's description in {language}"))
        await boss.send("Бюджеттик угууларды кантип өткөрүү керек.")
        await boss.send("Как проводить бюджетные слушания.")
        await said(boss, t("ru", "Send the event's description in {language}"), "English")
        await press(boss, nav("skip"))
        await said(boss, t("ru", "Which day does it start?"))
        await press(boss, pick("edm", "2026-12"))  # the next month
        await offered(boss, pick("edd", "2026-12-3"))
        await press(boss, pick("edd", "2026-12-3"))
        await said(boss, t("ru", "At what time does it start?"))
        await boss.send("25:99")
        await said(boss, t("ru", "Please send the time as 10:30."))
        await press(boss, pick("et", "1000"))
        await said(boss, t("ru", "When does it end?"))
        await boss.send("09:00")  # before the start
        await said(boss, t("ru", "The end must be after the start."))
        await press(boss, pick("el", "120"))
        await said(boss, t("ru", "Where? Send the address, or the online link"))
        await boss.send("https://zoom")
        await said(boss, t("ru", "That is not a link."))
        await boss.send("https://zoom.us/j/777")
        await said(boss, t("ru", "How many participants at most?"))
        for bad in ("0", "100000", "много"):
            await boss.send(bad)
            await said(boss, t("ru", "Please send a number from 1 to {limit}.", limit=10_000))
        await boss.send("30")
        await said(boss, t("ru", "At most how many from one district?"))
        await press(boss, nav("skip"))
        await said(boss, t("ru", "Until when is registration open?"))
        await press(boss, pick("eu", "1"))
        await said(boss, t("ru", "Whom do you invite? Now"))
        talas = await f.district_id(birge.db, "talas")
        region = await f.region_of(birge.db, talas)
        for step, value in (("ea", "districts"), ("edr", region), (f"et_dist_{region}", talas),
                            ("ea", "menu"), ("ea", "done")):
            await tap(boss, pick(step, value))
        preview = await said(boss, t("ru", "Create the event and invite {count} members?",
                                     count=1))
        assert "Местный бюджет: публичные слушания" in text_of(preview)
        async with birge.db.read() as s:
            assert (await s.exec(select(Event))).all() == []  # nothing before the confirmation
        await press(boss, pick("ec", "1"))
        await said(boss, t("ru", "The event {code} is published; {count} invitations are on "
                                 "their way.", code="E-1", count=1))
        invite = await said(chinara, t("ky", "You are invited:"), "Жергиликтүү бюджет: ачык")
        assert "zoom.us" not in text_of(invite)  # the link is for the registered
        assert ev("reg", 1) in [data for _, data in buttons(invite)]
        await silent(asel)
        async with birge.db.read() as s:
            row = (await s.exec(select(Event))).one()
        assert row.created_by_id == staff
        assert row.starts_at == bishkek(12, 3, 10) and row.ends_at == bishkek(12, 3, 12)
        assert row.registration_until == row.starts_at and row.capacity == 30

        # Asel (Leylek) is outside the audience: a forged Register is refused.
        await asel.send("/events")
        page = await said(asel, t("ru", "Events: webinars"))
        await asel.press_data(int(page["message_id"]), ev("reg", row.id or 0))
        assert t("ru", "You are not allowed to do that.") in str(await asel.answer())
        await chinara.press(ev("reg", row.id or 0))
        card = await said(chinara, "zoom.us/j/777")  # registered: the link is shown
        assert t("ky", "Your answer: {status}", status=t("ky", "registered")) in text_of(card)
        [cal] = await calendar_files(tg, chinara)
        entry = cal.walk("VEVENT")[0]
        assert str(entry["SUMMARY"]) == "Жергиликтүү бюджет: ачык угуулар"
        assert entry.decoded("DTSTART") == bishkek(12, 3, 10)
        await chinara.press_data(int(card["message_id"]), ev("reg", row.id or 0))
        assert t("ky", "You are already registered for this event.") in str(
            await chinara.answer())
        del chinara_id
