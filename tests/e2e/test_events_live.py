"""Events through the real bot, the parts added second: the organiser's open participant list
updates itself as members register and cancel (one edit for a burst, not one per answer);
attendees get a library item the organiser shared, with a button to its card; a member who
switched off event invitations in /settings gets none, yet the reminder of an event they
registered for still comes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.sandbox.client import EmulatorClient
from bot.services import event_results, events, library, settings
from bot.services.events import BISHKEK
from bot.services.library import ItemDraft
from bot.views.callbacks import Pref
from bot.views.events import EvL
from bot.views.library import Lib
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    outbox_rows,
    press,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member
from tests.e2e.test_events import ev, tap, webinar


async def test_the_organisers_open_list_updates_itself_as_members_register_and_cancel(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    boss = await people("Айгерим", "ru")
    staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
    asel, _ = await member(people, birge, "Асель Маматова", "ru", "talas")
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ky", "talas")
    others = [(await f.member(birge.db, name, district="talas")).id
              for name in ("Дамир Токтосунов", "Нурлан Абдылдаев", "Чолпон Асанова",
                           "Эркин Сыдыков", "Гульнара Орозова")]
    eid = await webinar(birge, staff, capacity=3, districts=["talas"])
    await said(asel, t("ru", "You are invited:"))
    await said(bakyt, t("ky", "You are invited:"))
    await boss.send("/events")
    await said(boss, t("ru", "Events: webinars"))
    await tap(boss, EvL(view="organised").pack())
    await tap(boss, ev("open", eid))
    await tap(boss, ev("list", eid))
    listing = await said(boss, t("ru", "Registered: {count} of {capacity}", count=0, capacity=3))
    list_id = int(listing["message_id"])

    async def list_edits() -> int:
        return sum(1 for c in await tg.calls("editMessageText")
                   if str(c["params"].get("message_id")) == str(list_id)
                   and str(c["params"].get("chat_id")) == str(boss.user_id))

    edits_before = await list_edits()

    await asel.press(ev("reg", eid))  # the organiser does not tap Refresh
    live = await said(boss, "Асель Маматова", t("ru", "Registered: {count} of {capacity}",
                                                count=1, capacity=3))
    assert int(live["message_id"]) == list_id
    # A burst of answers: the list catches up with all of them in at most two edits.
    await asyncio.gather(*(events.respond(birge.db, m, eid, "registered") for m in others))

    async def caught_up() -> bool:
        message = next(m for m in await boss.transcript() if m["message_id"] == list_id)
        return t("ru", "Waiting list: {count}", count=3) in text_of(message)

    await wait_for(caught_up, timeout=15)
    # Asel's edit, then one at once and one a few seconds later for the burst of five.
    assert 2 <= await list_edits() - edits_before <= 3
    await bakyt.press(ev("reg", eid))
    assert t("ky", "The event is full").split(":")[0] in str(await bakyt.answer())
    await asel.press(ev("cancel", eid))
    await said(boss, t("ru", "Waiting list: {count}", count=3), "Бакыт Осмонов")

    # Back to the event's card: that message is a card again and stays one.
    await press(boss, ev("open", eid))
    card = await said(boss, "Вебинар о планировании бюджета.")
    assert int(card["message_id"]) == list_id
    await events.cancel_registration(birge.db, others[0], eid)
    await asyncio.sleep(1.5)
    message = next(m for m in await boss.transcript() if m["message_id"] == list_id)
    assert t("ru", "Registered: {count} of {capacity}", count=3,
             capacity=3) not in text_of(message)
    assert ev("list", eid) in [d for _, d in buttons(message)]


async def test_attendees_get_a_library_item_with_a_button_to_its_card(
    birge: Running, people: PersonFactory
) -> None:
    boss = await people("Айгерим", "ru")
    staff = await f.staff(birge.db, boss.user_id, "Айгерим Касымова", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "talas")
    budget = await f.group_id(birge.db, "budget")
    item = await library.submit(birge.db, staff, ItemDraft(
        kind="legal_act", group_id=budget, number="45-р", adopted_on=date(2024, 3, 12),
        texts={"ru": {"title": "О местном бюджете", "issuer": "Жогорку Кенеш"}}),
        date(2026, 11, 30))
    eid = await webinar(birge, staff, capacity=5, districts=["talas"],
                        starts=datetime.now(UTC) + timedelta(minutes=20))
    await said(asel, t("ru", "You are invited:"))
    await asel.press(ev("reg", eid))
    await said(asel, "zoom.us/j/555")
    async with birge.db.transaction() as s:  # the webinar has started
        from storage.models import Event

        row = await s.get(Event, eid)
        assert row is not None
        row.starts_at = datetime.now(UTC) - timedelta(minutes=5)
    await event_results.toggle_attendance(birge.db, staff, eid, asel_id)

    await boss.send("/events")
    await said(boss, t("ru", "Events: webinars"))
    await tap(boss, EvL(view="organised").pack())
    await tap(boss, ev("open", eid))
    await tap(boss, ev("mat", eid))
    await said(boss, t("ru", "To share a library item").split("(")[0])
    await boss.send("кодекс о водах Атлантиды")
    await said(boss, t("ru", "No published library item matches.").split("(")[0])
    await boss.send("местном бюджете")
    found = await said(boss, t("ru", "Which library item do you share with the attendees?"))
    assert ev("lib", eid, item.item_id) in [d for _, d in buttons(found)]
    await asel.press_data(int((asel.last_bot_message() or {})["message_id"]),
                          ev("lib", eid, item.item_id))  # a member forging it is refused
    assert t("ru", "You are not allowed to do that.") in str(await asel.answer())
    await press(boss, ev("lib", eid, item.item_id))
    assert t("ru", "Added to the materials ({count} in all).", count=1) in str(
        await boss.answer())
    await tap(boss, ev("open", eid))
    await tap(boss, ev("send", eid))
    thanks = await said(asel, t("ru", "Thank you for taking part in {title}.",
                                title="").split(":")[0], "О местном бюджете")
    assert Lib(action="open", item_id=item.item_id).pack() in [d for _, d in buttons(thanks)]
    await press(asel, Lib(action="open", item_id=item.item_id).pack())
    await said(asel, "О местном бюджете", "45-р")
    await asel.press_data(int(thanks["message_id"]), ev("open", eid))
    card = await said(asel, t("ru", "Materials:"))
    assert f"LIB-{item.item_id}" in text_of(card)
    assert ev("files", eid) not in [d for _, d in buttons(card)]  # no files, only the item


async def test_a_member_who_switched_off_event_invitations_still_gets_reminders(
    birge: Running, people: PersonFactory
) -> None:
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "talas")
    await settings.update_settings(birge.db, asel_id, settings.Change(frequency="off"))
    await asel.send("/settings")
    page = await said(asel, "⚙️")
    assert ("✅ " + t("ru", "Event invitations"), Pref(action="kind", value="events=0").pack()
            ) in buttons(page)
    await press(asel, Pref(action="kind", value="events=0").pack())
    page = await said(asel, "⚙️")
    assert ("▫️ " + t("ru", "Event invitations"), Pref(action="kind", value="events=1").pack()
            ) in buttons(page)
    staff = await f.staff(birge.db, name="Айгерим Касымова")
    starts = datetime.now(UTC) + timedelta(hours=3)
    eid = await webinar(birge, staff, capacity=5, districts=["talas"], starts=starts)

    async def settled() -> bool:
        return [(r.status, r.last_error) for r in await outbox_rows(birge.db)
                if r.kind == "event_invite"] == [("cancelled", "muted")]

    await wait_for(settled, timeout=10)
    await silent(asel)
    # She still finds it under /events and registers; the reminder comes.
    await asel.send("/events")
    await said(asel, t("ru", "Events: webinars"))
    await tap(asel, EvL(view="upcoming").pack())
    await tap(asel, ev("open", eid))
    await tap(asel, ev("reg", eid))
    await said(asel, "zoom.us/j/555")
    assert birge.app is not None
    assert await birge.app.scheduler.run_job("events.reminders") is True
    # Three hours ahead is today or, late in the evening in Bishkek, tomorrow.
    today = starts.astimezone(BISHKEK).date() == datetime.now(BISHKEK).date()
    await said(asel, t("ru", "Today: {title}" if today else "Tomorrow: {title}",
                       title="").strip())
