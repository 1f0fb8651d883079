"""Events at the service level, the parts added second: per-district limits that differ by
district (typed by the organiser, applied to seats and the waiting list), the organiser's live
list (edits queued through the outbox, coalesced), library items shared as materials, and
event invitations a member can switch off while reminders still come."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.services import event_districts, event_live, event_results, events, library, settings
from bot.services.broadcasts import Audience
from bot.services.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.library import ItemDraft
from storage.db import Database
from storage.models import EventMaterial, EventRegistration, Outbox
from storage.types import utcnow
from tests import factories as f
from tests.services.test_events import draft


async def statuses(db: Database, event_id: int) -> dict[int, str]:
    async with db.read() as s:
        rows = (await s.exec(select(EventRegistration).where(
            EventRegistration.event_id == event_id))).all()
    return {r.member_id: r.status for r in rows}


async def outbox(db: Database, kind: str) -> list[Outbox]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox).where(Outbox.kind == kind)
                                  .order_by(Outbox.id))).all())


async def test_an_organiser_types_limits_that_differ_by_district(db: Database) -> None:
    talas = await f.district_id(db, "talas")
    leylek = await f.district_id(db, "leylek")
    assert await event_districts.read_limits(db, "3", 10) == (3, {})
    assert await event_districts.read_limits(
        db, "2\nТалас: 5\nЛейлекский район — 1", 10) == (2, {talas: 5, leylek: 1})
    assert await event_districts.read_limits(db, "Talas District 4; leylek 3", 10) == (
        None, {talas: 4, leylek: 3})
    for typed, code in (("Атлантида: 5", "event_district_name"), ("Талас: 50", "event_capacity"),
                        ("Талас: 0", "event_capacity"), ("Талас", "event_district_line"),
                        ("\n".join(["Талас: 1"] * 70), "event_district_limits")):
        with pytest.raises(InvalidInput) as refused:
            await event_districts.read_limits(db, typed, 10)
        assert refused.value.code == code, typed
    assert await event_districts.named_limits(db, {str(talas): 5}, "ru") == [("Таласский район", 5)]


async def test_each_district_has_its_own_limit_and_its_own_waiting_list(db: Database) -> None:
    staff = await f.staff(db, name="Айгерим Касымова")
    talas, leylek = await f.district_id(db, "talas"), await f.district_id(db, "leylek")
    t1, t2, t3 = [(await f.member(db, n, district="talas")).id
                  for n in ("Чолпон Асанова", "Дамир Токтосунов", "Нурлан Абдылдаев")]
    l1, l2 = [(await f.member(db, n, district="leylek")).id
              for n in ("Асель Маматова", "Бакыт Осмонов")]
    with pytest.raises(InvalidInput):  # a limit above the capacity
        await events.create_event(db, staff, draft(capacity=10, per_district=1,
                                                   district_limits={talas: 11}))
    with pytest.raises(InvalidInput):  # a district that does not exist
        await events.create_event(db, staff, draft(capacity=10, district_limits={10**6: 2}))
    eid = (await events.create_event(db, staff, draft(
        capacity=10, per_district=1, district_limits={talas: 2},
        audience=Audience(districts=[talas, leylek])))).event_id
    for m in (t1, t2, t3, l1, l2):
        await events.respond(db, m, eid, "registered")
    got = await statuses(db, eid)
    assert [got[m] for m in (t1, t2, t3)] == ["registered", "registered", "waitlisted"]
    assert [got[m] for m in (l1, l2)] == ["registered", "waitlisted"]
    # Leylek's seat frees: Leylek's line moves up, not Talas's (who waited longer).
    await events.cancel_registration(db, l1, eid)
    got = await statuses(db, eid)
    assert got[l2] == "registered" and got[t3] == "waitlisted"
    await events.respond(db, t1, eid, "declined")
    assert (await statuses(db, eid))[t3] == "registered"
    assert [r.member_id for r in await outbox(db, "event_promoted")] == [l2, t3]


async def test_the_open_list_is_edited_at_most_once_every_few_seconds(db: Database) -> None:
    staff = await f.staff(db, name="Айгерим Касымова")
    people = [(await f.member(db, f"Участник Номер{chr(0x410 + i)}", district="talas")).id
              for i in range(12)]
    eid = (await events.create_event(db, staff, draft(capacity=5))).event_id
    with pytest.raises(PermissionDenied):  # only an organiser's list is watched
        await event_live.watch(db, people[0], eid, 77)
    with pytest.raises(PermissionDenied):
        await event_live.watch(db, staff, 2**63, 77)
    await events.respond(db, people[0], eid, "registered")
    assert await outbox(db, "event_list_live") == []  # nobody has the list open
    await event_live.watch(db, staff, eid, 77)
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for m in people[1:]:  # a burst: 11 answers, the last ones to the waiting list
            await events.respond(db, m, eid, "registered")
        edits = await outbox(db, "event_list_live")
        assert [(e.member_id, e.payload["message_id"]) for e in edits] == [(staff, 77)] * 2
        assert edits[0].not_before is None
        assert edits[1].not_before == start + event_live.EDIT_EVERY
    with time_machine.travel(start + timedelta(seconds=7), tick=False):
        await events.cancel_registration(db, people[1], eid)  # after the window: one more
        await events.cancel_registration(db, people[2], eid)
    edits = await outbox(db, "event_list_live")
    assert len(edits) == 3 and edits[2].not_before == start + 2 * event_live.EDIT_EVERY
    await event_live.unwatch(db, staff, 77)  # back to the card: no more edits
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        await events.cancel_registration(db, people[3], eid)
    assert len(await outbox(db, "event_list_live")) == 3


async def test_an_organiser_shares_a_library_item_as_a_material(db: Database) -> None:
    staff = await f.staff(db, name="Айгерим Касымова")
    asel = await f.member(db, "Асель Маматова", district="leylek")
    budget = await f.group_id(db, "budget")
    act = await library.submit(db, staff, ItemDraft(
        kind="legal_act", group_id=budget, number="45-р", adopted_on=date(2024, 3, 12),
        texts={"ru": {"title": "О местном бюджете", "issuer": "Жогорку Кенеш"}}),
        date(2026, 11, 30))
    proposed = await library.submit(db, asel.id, ItemDraft(
        kind="practice", group_id=budget, texts={"ru": {
            "title": "Открытые слушания по бюджету", "problem": "Жители не знали бюджет.",
            "actions": "Провели слушания.", "results": "Сбор налогов вырос."}}),
        date(2026, 11, 30))
    heads_only = await library.submit(db, staff, ItemDraft(  # a practice community's own group
        kind="legal_act", group_id=await f.group_id(db, "community-heads"), number="46-р",
        adopted_on=date(2024, 3, 12),
        texts={"ru": {"title": "О местном бюджете глав", "issuer": "Жогорку Кенеш"}}),
        date(2026, 11, 30))
    eid = (await events.create_event(db, staff, draft(capacity=5))).event_id
    found = await event_results.find_library_items(db, staff, eid, "местном бюджете", "ru")
    assert [(p.item_id, p.title) for p in found] == [(act.item_id, "О местном бюджете")]
    assert [p.item_id for p in await event_results.find_library_items(
        db, staff, eid, f"LIB-{act.item_id}", "ru")] == [act.item_id]
    assert await event_results.find_library_items(
        db, staff, eid, str(proposed.item_id), "ru") == []  # not published yet
    with pytest.raises(PermissionDenied):
        await event_results.find_library_items(db, asel.id, eid, "бюджет", "ru")
    with pytest.raises(PermissionDenied):  # only the organiser adds materials
        await event_results.add_library_item(db, asel.id, eid, act.item_id, "ru")
    with pytest.raises(InvalidInput):
        await event_results.add_library_item(db, staff, eid, proposed.item_id, "ru")
    with pytest.raises(InvalidInput):  # not every attendee could open it
        await event_results.add_library_item(db, staff, eid, heads_only.item_id, "ru")
    assert await event_results.find_library_items(
        db, staff, eid, f"LIB-{heads_only.item_id}", "ru") == []
    with pytest.raises(NotFound):
        await event_results.add_library_item(db, staff, eid, 2**40, "ru")
    assert await event_results.add_library_item(db, staff, eid, act.item_id, "ru") == 1
    assert await event_results.add_library_item(db, staff, eid, act.item_id, "ru") == 1
    async with db.read() as s:
        [row] = (await s.exec(select(EventMaterial))).all()
    assert (row.library_item_id, row.name, row.file_id) == (act.item_id, "О местном бюджете", "")
    assert event_results.files_of([row]) == [] and event_results.library_items_of([row]) == [row]


async def test_event_invitations_can_be_switched_off_in_settings(db: Database) -> None:
    from bot.services import notify

    asel = await f.member(db, "Асель Маматова", district="leylek")
    await settings.update_settings(db, asel.id, settings.Change(category="events", wanted=False))
    prefs = await settings.get_settings(db, asel.id)
    assert not prefs.wants(notify.category_of("event_invite", {}) or "")
    assert prefs.wants(notify.category_of("event_reminder", {}) or "")
    assert prefs.wants(notify.category_of("event_changed", {}) or "")


async def test_the_sandbox_demo_shares_the_hosts_library_practice_at_the_exchange_visit(
        db: Database) -> None:
    from bot.sandbox import demo
    from storage.models import Event

    made = await demo.populate(db)
    async with db.read() as s:
        visit = (await s.exec(select(Event).where(Event.kind == "exchange"))).one()
        rows = (await s.exec(select(EventMaterial).where(
            EventMaterial.event_id == visit.id))).all()
    talas = await f.district_id(db, "talas")
    assert visit.district_limits == {str(talas): 5} and visit.per_district == 3
    assert [m.library_item_id for m in event_results.library_items_of(list(rows))] == [
        library.parse_label(made.notes["library_tariff"])]
    assert len(event_results.files_of(list(rows))) == 1
