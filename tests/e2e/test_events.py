"""Events through the real bot with a controlled clock: Union staff create a webinar step by step
and invite the Talas district; members register until it is full and the waiting list moves up by
itself; the calendar file parses back; the reminders the day and the hour before arrive once each
across restarts (the hour-before one through quiet hours); a change of time brings a new calendar
file; after the event the organiser marks attendance, shares materials, reads the ratings and
opens the XLSX. Forged and late buttons get a short answer."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from icalendar import Calendar
from openpyxl import load_workbook
from sqlmodel import select

from bot.sandbox.client import EmulatorClient, Person
from bot.services import events, settings
from bot.services.broadcasts import Audience
from bot.services.events import EventDraft
from bot.views.callbacks import Pick
from bot.views.events import Ev, EvL
from storage.enums import EventKind
from storage.models import Event, EventRegistration
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    carries,
    nav,
    outbox_rows,
    press,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member

TZ = ZoneInfo("Asia/Bishkek")


# The tests travel to a Monday after the real today (as tests/e2e/test_digests.py does): Birge's
# jobs, first registered at the real time, must fall due before the travelled clock, and a fixed
# date broke once the wall clock passed it.
_today = datetime.now(TZ).date()
MONDAY = _today + timedelta(days=14 - _today.weekday())


def bishkek(day: int, hour: int, minute: int = 0) -> datetime:
    """A day after `MONDAY` (0 is that Monday) at this Bishkek time, as aware UTC."""
    moment = datetime.combine(MONDAY + timedelta(days=day), datetime.min.time(), tzinfo=TZ)
    return moment.replace(hour=hour, minute=minute).astimezone(UTC)


def typed(day: int, hour: int, minute: int = 0) -> str:
    """That moment as a member types it ("04.12.2026 15:00")."""
    return bishkek(day, hour, minute).astimezone(TZ).strftime("%d.%m.%Y %H:%M")


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
            if any(carries(d, data) for _, d in buttons(message)):
                return
    raise AssertionError(f"no button {data!r} was offered")


async def tap(person: Person, data: str) -> None:
    """Press a button once the bot has shown it (a step that edits its message in place)."""
    shown = [d for message in await person.transcript() for _, d in buttons(message)]
    # A notice may have come after the screen: look further up too.
    if not any(carries(d, data) for d in shown):
        await offered(person, data)
    await press(person, data)


async def calendar_day(person: Person, prefix: str, day: int) -> None:
    """Pick a day after `MONDAY` on a flow's calendar (its buttons `<prefix>m` for a month,
    `<prefix>d` for a day), which opens at MONDAY's month: turned to the next one first when
    the day falls in it."""
    when = MONDAY + timedelta(days=day)
    wanted = pick(prefix + "d", f"{when.year}-{when.month}-{when.day}")
    if (when.year, when.month) != (MONDAY.year, MONDAY.month):
        await tap(person, pick(prefix + "m", f"{when.year}-{when.month}"))
    await tap(person, wanted)


async def all_sent(birge: Running, member_id: int) -> None:
    """Every message to this member is recorded as sent (so a restart repeats none)."""

    async def recorded() -> bool:
        return all(r.status not in ("pending", "sending") for r in await outbox_rows(birge.db)
                   if r.member_id == member_id)

    await wait_for(recorded, timeout=10)


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
    with time_machine.travel(bishkek(0, 10), tick=True):
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
        await calendar_day(boss, "ed", 3)
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
        await boss.send("10\nАтлантида: 5")
        await said(boss, t("ru", "No district is called", name="Атлантида"))
        await boss.send("10\nТалас: 40")  # more than the 30 seats
        await said(boss, t("ru", "Please send a number from 1 to {limit}.", limit=30))
        await boss.send("10\nТаласский район: 5")  # 10 from a district, 5 from Talas
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
        assert t("ru", "Own limits: {list}", list="Таласский район — 5") in text_of(preview)
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
        assert row.starts_at == bishkek(3, 10) and row.ends_at == bishkek(3, 12)
        assert row.registration_until == row.starts_at and row.capacity == 30
        assert (row.per_district, row.district_limits) == (10, {str(talas): 5})

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
        assert entry.decoded("DTSTART") == bishkek(3, 10)
        await chinara.press_data(int(card["message_id"]), ev("reg", row.id or 0))
        assert t("ky", "You are already registered for this event.") in str(
            await chinara.answer())
        del chinara_id


async def test_registration_to_capacity_and_the_waiting_list_moves_up_by_itself(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    boss = await people("Айгерим", "ru")
    staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
    asel, _ = await member(people, birge, "Асель Маматова", "ru", "talas")
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ky", "talas")
    chinara, _ = await member(people, birge, "Чынара Асанова", "ru", "talas")
    eid = await webinar(birge, staff, capacity=2, districts=["talas"])
    for person, lang in ((asel, "ru"), (bakyt, "ky"), (chinara, "ru")):
        await said(person, t(lang, "You are invited:"))
    await asel.press(ev("reg", eid))
    await said(asel, "zoom.us/j/555")
    await bakyt.press(ev("reg", eid))
    await said(bakyt, "zoom.us/j/555")
    await chinara.press(ev("reg", eid))
    assert t("ru", "The event is full: you are number {place} on the waiting list.",
             place=1).split(".")[0] in str(await chinara.answer())
    card = await said(chinara, t("ru", "Your answer: {status}", status=t("ru",
                                                                           "on the waiting list")))
    assert "zoom.us" not in text_of(card)  # the waiting list does not see the link

    # The organiser sees the list as it is now.
    await boss.send("/events")
    await said(boss, t("ru", "Events: webinars"))
    await tap(boss, EvL(view="organised").pack())
    await tap(boss, ev("open", eid))
    await tap(boss, ev("list", eid))
    listing = await said(boss, t("ru", "Registered: {count} of {capacity}", count=2, capacity=2))
    assert t("ru", "Waiting list: {count}", count=1) in text_of(listing)
    assert "Чынара Асанова" in text_of(listing)

    await asel.press(ev("cancel", eid))
    assert t("ru", "Your registration is cancelled.") in str(await asel.answer())
    moved = await said(chinara, t("ru", "A seat became free and you are now registered for "
                                        "{title}.", title="<b>Местный бюджет</b>")
                       .replace("<b>", "").replace("</b>", ""))
    assert "zoom.us/j/555" in text_of(moved)
    await calendar_files(tg, chinara)  # with the calendar file
    # The organiser's open list has caught up by itself (no Refresh pressed).
    await said(boss, t("ru", "Registered: {count} of {capacity}", count=2, capacity=2),
               t("ru", "Waiting list: {count}", count=0))
    await asel.press(ev("reg", eid))  # back again: the event is full now
    assert t("ru", "The event is full").split(":")[0] in str(await asel.answer())


async def test_reminders_the_day_and_the_hour_before_arrive_once_across_restarts(
    birge: Running, people: PersonFactory
) -> None:
    await birge.stop()
    start = bishkek(2, 8, 30)  # the hour-before reminder falls in quiet hours (21-8)
    with time_machine.travel(bishkek(0, 12), tick=True) as clock:
        await birge.start(quiet_hours_start=21, quiet_hours_end=8)
        nurlan, nurlan_id = await member(people, birge, "Нурлан Абдылдаев", "ky", "talas")
        await settings.update_settings(birge.db, nurlan_id, settings.Change(frequency="off"))
        staff = await f.staff(birge.db, name="Айгерим Касымова")
        eid = await webinar(birge, staff, starts=start, districts=["talas"])
        await said(nurlan, t("ky", "You are invited:"))
        await nurlan.press(ev("reg", eid))
        await said(nurlan, "zoom.us/j/555")
        await all_sent(birge, nurlan_id)
        await birge.stop()
        clock.move_to(bishkek(1, 8, 40))  # the day before; Birge was down at the time
        await birge.start(quiet_hours_start=21, quiet_hours_end=8)
        day = await said(nurlan, t("ky", "Tomorrow: {title}", title="").strip(), timeout=10)
        assert "zoom.us/j/555" in text_of(day)  # the link, at that moment
        assert birge.app is not None
        assert await birge.app.scheduler.run_job("events.reminders") is True
        await all_sent(birge, nurlan_id)  # (a message on the wire at a stop may go twice)
        await birge.restart()
        await asyncio.sleep(1.0)
        await silent(nurlan)
        await all_sent(birge, nurlan_id)
        await birge.stop()
        clock.move_to(bishkek(2, 7, 35))  # within the hour, inside quiet hours
        await birge.start(quiet_hours_start=21, quiet_hours_end=8)
        hour = await said(nurlan, t("ky", "In an hour: {title}", title="").strip(), timeout=10)
        assert "zoom.us/j/555" in text_of(hour)
        assert await birge.app.scheduler.run_job("events.reminders") is True
        await asyncio.sleep(1.0)
        await silent(nurlan)
        reminders = [r for r in await outbox_rows(birge.db) if r.kind == "event_reminder"]
        assert [(r.member_id, r.payload["when"]) for r in reminders] == [
            (nurlan_id, "day"), (nurlan_id, "hour")]


async def test_a_time_change_reaches_the_registered_with_a_new_calendar_file(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(0, 10), tick=True):
        await birge.start()
        boss = await people("Айгерим", "ru")
        staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
        asel, _ = await member(people, birge, "Асель Маматова", "ru", "talas")
        eid = await webinar(birge, staff, starts=bishkek(3, 10), districts=["talas"])
        await said(asel, t("ru", "You are invited:"))
        await asel.press(ev("reg", eid))
        [first] = await calendar_files(tg, asel)
        assert first.walk("VEVENT")[0].decoded("DTSTART") == bishkek(3, 10)

        await boss.send("/events")
        await said(boss, t("ru", "Events: webinars"))
        await tap(boss, EvL(view="organised").pack())
        await tap(boss, ev("open", eid))
        await tap(boss, ev("chtime", eid))
        await said(boss, t("ru", "Which day does it start?"))
        await boss.send(typed(4, 15))
        await said(boss, t("ru", "Save the change?"))
        await tap(boss, pick("ex", "1"))
        await said(boss, t("ru", "Saved. {count} registered members get the new calendar file.",
                           count=1))
        await said(asel, t("ru", "The event {title} has changed.", title="").split(":")[0])
        files = await calendar_files(tg, asel, count=2)
        entry = files[-1].walk("VEVENT")[0]
        assert entry.decoded("DTSTART") == bishkek(4, 15)
        assert entry.decoded("DTEND") == bishkek(4, 17)
        assert int(entry["SEQUENCE"]) == 1
        assert str(entry["UID"]) == str(first.walk("VEVENT")[0]["UID"])

        # Cancelled: everyone registered hears it, and no calendar file can be asked for.
        await press(boss, ev("open", eid))
        await tap(boss, ev("cxl", eid))
        await tap(boss, ev("cxlok", eid))
        await said(boss, t("ru", "The event is cancelled; {count} members are told.", count=1))
        await said(asel, t("ru", "The calendar file below removes it from your calendar."))
        cancelled = await calendar_files(tg, asel, count=3)
        assert str(cancelled[-1]["METHOD"]) == "CANCEL"
        card = await asel.send("/events")
        del card
        await said(asel, t("ru", "Events: webinars"))
        await asel.press_data(int((asel.last_bot_message() or {})["message_id"]),
                              ev("ics", eid))
        assert t("ru", "This event is cancelled.") in str(await asel.answer())


async def test_after_the_event_attendance_materials_ratings_and_the_xlsx(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(0, 10), tick=True) as clock:
        await birge.start()
        boss = await people("Айгерим", "ru")
        staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
        asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "talas")
        bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ky", "leylek")
        eid = await webinar(birge, staff, capacity=5, starts=bishkek(1, 10),
                            districts=["talas", "leylek"])
        for person, lang in ((asel, "ru"), (bakyt, "ky")):
            await said(person, t(lang, "You are invited:"))
            await person.press(ev("reg", eid))
            await said(person, "zoom.us/j/555")
        await boss.send("/events")
        await said(boss, t("ru", "Events: webinars"))
        await tap(boss, EvL(view="organised").pack())
        await tap(boss, ev("open", eid))
        await tap(boss, ev("list", eid))
        before = await said(boss, t("ru", "Registered: {count} of {capacity}", count=2,
                                    capacity=5))
        assert ev("att", eid, asel_id) not in [d for _, d in buttons(before)]  # not yet
        clock.move_to(bishkek(1, 12, 30))  # the webinar is over

        await boss.send("/events")
        await said(boss, t("ru", "Events: webinars"))
        await tap(boss, EvL(view="organised").pack())
        await tap(boss, ev("open", eid))
        await tap(boss, ev("list", eid))
        await tap(boss, ev("att", eid, asel_id))
        marked = await said(boss, "☑️")
        assert "☑️ Асель Маматова" in str(buttons(marked))
        # A member forging the organiser's attendance button is refused.
        await bakyt.press_data(int((bakyt.last_bot_message() or {})["message_id"]),
                               ev("att", eid, bakyt_id))
        assert t("ky", "You are not allowed to do that.") in str(await bakyt.answer())

        await press(boss, ev("open", eid))
        await tap(boss, ev("mat", eid))
        await said(boss, t("ru", "Send the materials as documents"))
        await boss.upload("document", b"%PDF-1.4 slides", filename="slaidy.pdf",
                          mime_type="application/pdf")
        await said(boss, t("ru", "Added: {name} ({count} in all).", name="slaidy.pdf", count=1)
                   .split("(")[0])
        await tap(boss, ev("open", eid))
        await tap(boss, ev("send", eid))
        assert t("ru", "The materials are on their way to {count} attendees.", count=1) in str(
            await boss.answer())
        thanks = await said(asel, t("ru", "Thank you for taking part in {title}.",
                                    title="").split(":")[0], "slaidy.pdf")
        assert ev("rate", eid, 5) in [d for _, d in buttons(thanks)]

        async def got_slides() -> bool:
            return any((m.get("document") or {}).get("file_name") == "slaidy.pdf"
                       for m in await asel.transcript())

        await wait_for(got_slides)
        # Bakyt, marked absent, gets no materials and no rating (checked below).
        await asel.press(ev("rate", eid, 5))
        await said(asel, t("ru", "Would you add a comment"))
        await asel.upload("sticker", b"sticker")
        await said(asel, t("ru", "Please send text, not a file"))
        await asel.send("Очень полезно, нужен второй вебинар о бюджете.")
        await said(asel, t("ru", "Thank you! The organisers will see your comment."))

        await press(boss, ev("report", eid))
        report = await said(boss, t("ru", "Rating: {mean} ({count} ratings)", mean="5.0",
                                    count=1))
        assert "Таласская область · Таласский район" in text_of(report)
        await press(boss, ev("list", eid))
        await tap(boss, ev("xlsx", eid))

        async def workbook() -> bytes | None:
            for message in await boss.transcript():
                document = message.get("document") or {}
                if str(document.get("file_name", "")).endswith("-participants.xlsx"):
                    return await tg.file(document["file_id"])
            return None

        async def arrived() -> bool:
            return await workbook() is not None

        await wait_for(arrived)
        data = await workbook()
        assert data is not None
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        rows = {r[0]: r for r in sheet.iter_rows(values_only=True)}
        assert rows["Асель Маматова"][7:10] == ("yes", 5,
                                               "Очень полезно, нужен второй вебинар о бюджете.")
        assert rows["Бакыт Осмонов"][6:8] == ("registered", "no")
        async with birge.db.read() as s:
            marked_rows = (await s.exec(select(EventRegistration).where(
                EventRegistration.attended))).all()
        assert [r.member_id for r in marked_rows] == [asel_id]
        assert [r.kind for r in await outbox_rows(birge.db)
                if r.member_id == bakyt_id and r.kind == "event_materials"] == []


async def test_late_forged_and_odd_input_gets_a_short_answer_and_writes_nothing(
    birge: Running, people: PersonFactory
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(0, 10), tick=True) as clock:
        await birge.start()
        boss = await people("Айгерим", "ru")
        staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
        asel, _ = await member(people, birge, "Асель Маматова", "ru", "talas")
        start = bishkek(5, 10)
        eid = await webinar(birge, staff, starts=start, districts=["talas"])
        async with birge.db.transaction() as s:  # registration closes on 2 December
            row = await s.get(Event, eid)
            assert row is not None
            row.registration_until = bishkek(2, 23, 59)
        invite = await said(asel, t("ru", "You are invited:"))
        clock.move_to(bishkek(3, 9))
        await asel.press_data(int(invite["message_id"]), ev("reg", eid))
        assert t("ru", "Registration for this event is closed.") in str(await asel.answer())
        for forged in (ev("open", 99_999_999_999_999_999_999), ev("att", eid, 2**70),
                       ev("xlsx", eid), "ev:open:nope"):
            await asel.press_data(int(invite["message_id"]), forged)
            answer = str(await asel.answer())
            assert t("ru", "You are not allowed to do that.") in answer \
                or t("ru", "This button is no longer active.") in answer, (forged, answer)
        async with birge.db.read() as s:
            assert (await s.exec(select(EventRegistration).where(
                EventRegistration.member_id != 0,
                EventRegistration.status != "invited"))).all() == []

        await boss.send("/events")
        await said(boss, t("ru", "Events: webinars"))
        await tap(boss, EvL(view="new").pack())
        await tap(boss, pick("ek", "training"))
        for step in ("Тренинг", "Тренинг", None, "Сүрөттөмө", "Описание", None):
            if step is None:  # English is optional: skipped once its step is shown
                await said(boss, "English")
                await tap(boss, nav("skip"))
            else:
                await boss.send(step)
        await said(boss, t("ru", "Which day does it start?"))
        await boss.send("01.01.2020 10:00")
        await said(boss, t("ru", "The start must be in the future."))
        await boss.send("завтра")
        await said(boss, t("ru", "Please send a date and time"))
        await boss.upload("sticker", b"sticker")
        await said(boss, t("ru", "Please send text, not a file"))
        await press(boss, nav("cancel"))
        await said(boss, t("ru", "Cancelled. Nothing was saved."))
        async with birge.db.read() as s:
            assert len((await s.exec(select(Event))).all()) == 1


async def test_a_partners_exchange_visit_waits_for_staff_and_then_invites(
    birge: Running, people: PersonFactory
) -> None:
    from bot.services import roles
    from storage.enums import Role

    await birge.stop()
    with time_machine.travel(bishkek(0, 10), tick=True):
        await birge.start()
        boss = await people("Айгерим", "ru")
        await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
        ngo, ngo_id = await member(people, birge, "Partner NGO", "en", "chuy")
        await roles.grant_role(birge.db, None, ngo_id, Role.PARTNER)
        head, _ = await member(people, birge, "Улан Токтосунов", "ky", "talas")

        await ngo.send("/events")
        await said(ngo, t("en", "Events: webinars"))
        await tap(ngo, EvL(view="new").pack())
        await tap(ngo, pick("ek", "exchange"))
        await said(ngo, t("en", "Send the event's title in {language}"))
        for text in ("Жайыт башкаруу: тажрыйба алмашуу", "Управление пастбищами: обмен опытом"):
            await ngo.send(text)
        await said(ngo, t("en", "Send the event's title in {language}"), "English")
        await tap(ngo, nav("skip"))
        for text in ("Өмүралиевге сапар.", "Визит в Омуралиев."):
            await ngo.send(text)
        await said(ngo, t("en", "Send the event's description in {language}"), "English")
        await tap(ngo, nav("skip"))
        await said(ngo, t("en", "Which day does it start?"))
        await ngo.send(typed(10, 9))
        await said(ngo, t("en", "When does it end?"))
        await ngo.send("18:00")
        await said(ngo, t("en", "Where? Send the address"))
        await ngo.send("Талас району, Өмүралиев айыл өкмөтү")
        await said(ngo, t("en", "Which municipality hosts the exchange visit?"))
        talas = await f.district_id(birge.db, "talas")
        await tap(ngo, pick("ehr", await f.region_of(birge.db, talas)))
        await tap(ngo, pick("ehd", talas))
        await tap(ngo, pick("ehm", await f.municipality_id(birge.db, "omuraliev")))
        await said(ngo, t("en", "How many participants at most?"))
        await ngo.send("12")
        await said(ngo, t("en", "At most how many from one district?"))
        await ngo.send("3")
        await said(ngo, t("en", "Until when is registration open?"))
        await calendar_day(ngo, "eg", 5)
        await said(ngo, t("en", "Whom do you invite? Now"))
        await tap(ngo, pick("ea", "done"))
        preview = await said(ngo, t("en", "Create the event and invite"))
        assert t("en", "Host municipality: {name}", name="Omuraliev aiyl aimak") in text_of(
            preview)
        await tap(ngo, pick("ec", "1"))
        await said(ngo, t("en", "The event {code} waits for approval by the Union staff"))
        await silent(head)  # nothing goes out before a staff member approves

        notice = await said(boss, t("ru", "A partner's event waits for your approval:"),
                            "Управление пастбищами")
        approve = next(d for _, d in buttons(notice) if d.startswith("ev:approve:"))
        await press(boss, approve)
        await said(boss, t("ru", "Approved; {count} invitations are on their way.").split(";")[0])
        invite = await said(head, t("ky", "You are invited:"), "Жайыт башкаруу")
        assert "Өмүралиев" in text_of(invite)
        await said(ngo, t("en", "The Union staff approved your event {title}").split("{")[0])
        async with birge.db.read() as s:
            row = (await s.exec(select(Event))).one()
        assert (row.kind, row.per_district, row.capacity) == ("exchange", 3, 12)
        assert row.registration_until == bishkek(5, 23, 59)
