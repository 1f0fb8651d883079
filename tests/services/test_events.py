"""Events at the service level: who may create what, the checks on what an organiser typed,
seats and the waiting list, the reminders' markers, calendar files, attendance, materials,
ratings, the report and the exports."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlmodel import select

from bot.services import event_calendar, event_results, events, roles
from bot.services.broadcasts import Audience
from bot.services.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from bot.services.event_results import Material
from bot.services.events import Change, EventDraft
from storage.db import Database
from storage.enums import EventKind, EventStatus, Role
from storage.models import Event, EventRegistration, Outbox
from storage.types import utcnow
from tests import factories as f


def draft(**kw: object) -> EventDraft:
    start = utcnow() + timedelta(days=3)
    values: dict[str, object] = {
        "kind": EventKind.WEBINAR, "title_ky": "Жергиликтүү бюджет", "title_ru": "Местный бюджет",
        "description_ky": "Бюджетти пландоо боюнча вебинар.",
        "description_ru": "Вебинар о планировании бюджета.",
        "starts_at": start, "ends_at": start + timedelta(hours=2), "capacity": 2,
        "online_url": "https://zoom.us/j/123456", "audience": Audience(),
    }
    values.update(kw)
    return EventDraft(**values)  # type: ignore[arg-type]


async def outbox(db: Database, kind: str) -> list[int]:
    async with db.read() as s:
        rows = (await s.exec(select(Outbox.member_id).where(Outbox.kind == kind)
                             .order_by(Outbox.id))).all()
    return [r for r in rows if r is not None]


async def event_row(db: Database, event_id: int) -> Event:
    async with db.read() as s:
        found = await s.get(Event, event_id)
        assert found is not None
        return found


async def statuses(db: Database, event_id: int) -> dict[int, str]:
    async with db.read() as s:
        rows = (await s.exec(select(EventRegistration).where(
            EventRegistration.event_id == event_id))).all()
    return {r.member_id: r.status for r in rows}


@pytest.fixture
async def people(db: Database) -> dict[str, int]:
    staff = await f.staff(db, name="Айгерим Касымова")
    a = await f.member(db, "Асель Маматова", district="leylek")
    b = await f.member(db, "Бакыт Осмонов", district="leylek")
    c = await f.member(db, "Чолпон Асанова", district="talas")
    d = await f.member(db, "Дамир Токтосунов", district="talas")
    leader = await f.leader(db, "Нурлан Абдылдаев", "talas", "heads")
    partner = await f.member(db, "Partner NGO", district="chuy")
    await roles.grant_role(db, None, partner.id, Role.PARTNER)
    return {"staff": staff, "a": a.id, "b": b.id, "c": c.id, "d": d.id, "leader": leader.id,
            "partner": partner.id}


async def test_staff_publish_and_everyone_in_the_audience_is_invited_once(
        db: Database, people: dict[str, int]) -> None:
    talas = await f.district_id(db, "talas")
    created = await events.create_event(db, people["staff"],
                                        draft(audience=Audience(districts=[talas])))
    assert created.status == EventStatus.PUBLISHED
    invited = await outbox(db, "event_invite")
    assert set(invited) == {people["c"], people["d"], people["leader"]}
    assert set((await statuses(db, created.event_id)).values()) == {"invited"}


async def test_a_leader_invites_only_their_district_and_a_partner_waits_for_staff(
        db: Database, people: dict[str, int]) -> None:
    talas = await f.district_id(db, "talas")
    leylek = await f.district_id(db, "leylek")
    with pytest.raises(InvalidInput):
        await events.create_event(db, people["leader"], draft(audience=Audience(
            districts=[leylek])))
    with pytest.raises(InvalidInput):
        await events.create_event(db, people["leader"], draft())  # everyone
    ok = await events.create_event(db, people["leader"], draft(audience=Audience(
        districts=[talas])))
    assert ok.status == EventStatus.PUBLISHED
    with pytest.raises(PermissionDenied):
        await events.create_event(db, people["a"], draft())
    waiting = await events.create_event(db, people["partner"], draft())
    assert waiting.status == EventStatus.AWAITING_APPROVAL and waiting.invited == 0
    approvers = await outbox(db, "event_for_approval")  # every staff member
    assert people["staff"] in approvers and people["partner"] not in approvers
    with pytest.raises(PermissionDenied):
        await events.approve_event(db, people["partner"], waiting.event_id)
    approved = await events.approve_event(db, people["staff"], waiting.event_id)
    assert approved.status == EventStatus.PUBLISHED and approved.invited > 0
    assert await outbox(db, "event_decided") == [people["partner"]]


@pytest.mark.parametrize(("change", "code"), [
    ({"ends_at": utcnow() + timedelta(days=2)}, "event_end_before_start"),
    ({"starts_at": utcnow() - timedelta(hours=1)}, "event_start_past"),
    ({"capacity": 0}, "event_capacity"),
    ({"capacity": 100_000}, "event_capacity"),
    ({"online_url": "zoom meeting"}, "event_url"),
    ({"online_url": None}, "event_place"),
    ({"kind": EventKind.EXCHANGE, "address": "Талас, айыл өкмөтү"}, "event_host"),
])
async def test_bad_input_is_refused_and_nothing_is_written(
        db: Database, people: dict[str, int], change: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await events.create_event(db, people["staff"], draft(**change))
    assert refused.value.code == code
    async with db.read() as s:
        assert (await s.exec(select(Event))).all() == []


async def test_seats_the_waiting_list_and_moving_up(db: Database, people: dict[str, int]) -> None:
    created = await events.create_event(db, people["staff"], draft(capacity=2))
    eid = created.event_id
    assert (await events.respond(db, people["a"], eid, "registered")).status == "registered"
    with pytest.raises(InvalidState) as twice:
        await events.respond(db, people["a"], eid, "registered")
    assert twice.value.code == "event_already_registered"
    await events.respond(db, people["b"], eid, "registered")
    third = await events.respond(db, people["c"], eid, "registered")
    fourth = await events.respond(db, people["d"], eid, "registered")
    assert (third.status, third.waiting_place) == ("waitlisted", 1)
    assert (fourth.status, fourth.waiting_place) == ("waitlisted", 2)
    assert (await event_row(db, eid)).registered == 2
    await events.cancel_registration(db, people["a"], eid)
    got = await statuses(db, eid)
    assert got[people["c"]] == "registered" and got[people["d"]] == "waitlisted"
    assert await outbox(db, "event_promoted") == [people["c"]]
    await events.respond(db, people["b"], eid, "declined")  # leaving a seat moves the line too
    assert (await statuses(db, eid))[people["d"]] == "registered"
    assert (await event_row(db, eid)).registered == 2


async def test_per_district_cap_deadline_audience_and_forged_ids(
        db: Database, people: dict[str, int]) -> None:
    talas = await f.district_id(db, "talas")
    created = await events.create_event(db, people["staff"], draft(
        capacity=5, per_district=1, audience=Audience(districts=[talas])))
    eid = created.event_id
    assert (await events.respond(db, people["c"], eid, "registered")).status == "registered"
    assert (await events.respond(db, people["d"], eid, "registered")).status == "waitlisted"
    with pytest.raises(PermissionDenied):  # Leylek is not invited
        await events.respond(db, people["a"], eid, "registered")
    with pytest.raises(NotFound):
        await events.respond(db, people["a"], 2**63, "registered")
    async with db.transaction() as s:
        row = await s.get(Event, eid)
        assert row is not None
        row.registration_until = utcnow() - timedelta(minutes=1)
    with pytest.raises(InvalidState) as late:
        await events.respond(db, people["leader"], eid, "registered")
    assert late.value.code == "event_registration_closed"


async def test_reminders_go_once_and_follow_a_change_of_time(
        db: Database, people: dict[str, int]) -> None:
    created = await events.create_event(db, people["staff"], draft())
    eid = created.event_id
    await events.respond(db, people["a"], eid, "registered")
    start = (await event_row(db, eid)).starts_at
    assert await event_calendar.send_reminders(db, start - timedelta(hours=30)) == (0, 0)
    assert await event_calendar.send_reminders(db, start - timedelta(hours=23)) == (1, 0)
    assert await event_calendar.send_reminders(db, start - timedelta(hours=22)) == (0, 0)
    assert await event_calendar.send_reminders(db, start - timedelta(minutes=50)) == (0, 1)
    assert await event_calendar.send_reminders(db, start - timedelta(minutes=40)) == (0, 0)
    told = await events.change_event(db, people["staff"], eid, Change(
        starts_at=start + timedelta(days=1)))
    assert told == 1
    row = await event_row(db, eid)
    assert row.sequence == 1 and row.ends_at - row.starts_at == timedelta(hours=2)
    assert await event_calendar.send_reminders(db, row.starts_at - timedelta(hours=23)) == (1, 0)
    async with db.read() as s:
        urgent = (await s.exec(select(Outbox).where(Outbox.kind == "event_reminder"))).all()
    assert [r.payload.get("urgent", False) for r in urgent] == [False, True, False]


async def test_calendar_files_and_cancellation(db: Database, people: dict[str, int]) -> None:
    created = await events.create_event(db, people["staff"], draft())
    eid = created.event_id
    await events.respond(db, people["a"], eid, "registered")
    with pytest.raises(PermissionDenied):
        await event_calendar.calendar_file(db, people["b"], eid, "ru")  # not registered
    name, data = await event_calendar.calendar_file(db, people["a"], eid, "ky")
    cal = Calendar.from_ical(data)
    [entry] = cal.walk("VEVENT")
    assert name == f"event-{eid}.ics" and str(entry["SUMMARY"]) == "Жергиликтүү бюджет"
    assert "https://zoom.us/j/123456" in str(entry["DESCRIPTION"])
    assert await events.cancel_event(db, people["staff"], eid) == 1
    with pytest.raises(InvalidState) as refused:
        await event_calendar.calendar_file(db, people["a"], eid, "ky")
    assert refused.value.code == "event_cancelled"
    cancelled = Calendar.from_ical(event_calendar.ics(await event_row(db, eid), "ru"))
    assert str(cancelled["METHOD"]) == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


async def test_after_the_event_attendance_materials_ratings_and_the_exports(
        db: Database, people: dict[str, int]) -> None:
    created = await events.create_event(db, people["staff"], draft(capacity=3))
    eid = created.event_id
    for who in ("a", "c"):
        await events.respond(db, people[who], eid, "registered")
    with pytest.raises(InvalidState):
        await event_results.toggle_attendance(db, people["staff"], eid, people["a"])  # not started
    async with db.transaction() as s:
        row = await s.get(Event, eid)
        assert row is not None
        row.starts_at = utcnow() - timedelta(hours=2)
        row.ends_at = utcnow() - timedelta(hours=1)
    with pytest.raises(PermissionDenied):  # a member forging the organiser's button
        await event_results.toggle_attendance(db, people["a"], eid, people["a"])
    assert await event_results.toggle_attendance(db, people["staff"], eid, people["a"]) is True
    with pytest.raises(PermissionDenied):
        await event_results.rate_event(db, people["c"], eid, 5)  # did not attend
    with pytest.raises(InvalidState):
        await event_results.send_materials(db, people["staff"], eid)  # no files yet
    await event_results.add_material(db, people["staff"], eid, Material("file-1", "slides.pdf"))
    assert await event_results.send_materials(db, people["staff"], eid) == 1
    assert await outbox(db, "event_materials") == [people["a"]]
    await event_results.rate_event(db, people["a"], eid, 4)
    with pytest.raises(InvalidState):
        await event_results.rate_event(db, people["a"], eid, 5)
    await event_results.comment_rating(db, people["a"], eid, "Пайдалуу болду")
    found = await event_results.report(db, people["staff"], eid, "ru")
    assert (found.totals.registered, found.totals.attended, found.totals.mean) == (2, 1, 4.0)
    assert set(found.by_place) == {("Баткенская область", "Лейлекский район"),
                                   ("Таласская область", "Таласский район")}
    xlsx = await event_results.export_xlsx(db, people["staff"], eid, "ru")
    book = load_workbook(io.BytesIO(xlsx))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("name", "username", "position")
    assert {r[0]: (r[7], r[8]) for r in rows[1:]} == {
        "Асель Маматова": ("yes", 4), "Чолпон Асанова": ("no", None)}
    text = (await event_results.export_csv(db, people["staff"], eid)).decode("utf-8-sig")
    assert "Асель Маматова" in text and "Пайдалуу болду" in text
    with pytest.raises(PermissionDenied):
        await event_results.export_xlsx(db, people["a"], eid)


async def test_the_digest_lists_this_weeks_events_and_materials_posted(
        db: Database, people: dict[str, int]) -> None:
    from bot.services import digests

    week_ago = utcnow() - timedelta(days=7)
    created = await events.create_event(db, people["staff"], draft())
    later = await events.create_event(db, people["staff"], draft(
        starts_at=utcnow() + timedelta(days=12), ends_at=utcnow() + timedelta(days=12, hours=1)))
    await events.respond(db, people["b"], created.event_id, "declined")
    digest = await digests.build_digest(db, people["a"], week_ago)
    assert digest is not None
    found = dict(digest.sections)
    assert found["events_week"].count == 1  # the one in 12 days is not this week
    assert found["events_week"].items[0].ref == f"E-{created.event_id}"
    declined = await digests.build_digest(db, people["b"], week_ago)
    assert declined is not None and dict(declined.sections)["events_week"].count == 0
    await events.respond(db, people["a"], created.event_id, "registered")
    async with db.transaction() as s:
        row = await s.get(Event, created.event_id)
        assert row is not None
        row.starts_at = utcnow() - timedelta(hours=3)
        row.ends_at = utcnow() - timedelta(hours=1)
    await event_results.toggle_attendance(db, people["staff"], created.event_id, people["a"])
    await event_results.add_material(db, people["staff"], created.event_id,
                                     Material("file-1", "slides.pdf"))
    await event_results.send_materials(db, people["staff"], created.event_id)
    digest = await digests.build_digest(db, people["a"], week_ago)
    assert digest is not None
    assert [i.ref for i in dict(digest.sections)["event_materials"].items] == [
        f"E-{created.event_id}"]
    del later


async def test_a_member_who_joins_after_the_invitations_sees_the_events_meant_for_them(
        db: Database, people: dict[str, int]) -> None:
    talas = await f.district_id(db, "talas")
    leylek = await f.district_id(db, "leylek")
    later = await events.create_event(db, people["staff"], draft(
        audience=Audience(districts=[talas]), starts_at=utcnow() + timedelta(days=9),
        ends_at=utcnow() + timedelta(days=9, hours=2)))
    sooner = await events.create_event(db, people["staff"], draft(
        audience=Audience(districts=[talas, leylek])))
    elsewhere = await events.create_event(db, people["staff"], draft(
        audience=Audience(districts=[leylek])))
    assert {later.status, sooner.status, elsewhere.status} == {EventStatus.PUBLISHED}
    newcomer = await f.member(db, "Жаңы Келген", district="talas")
    upcoming = (await events.lists(db, newcomer.id)).upcoming
    assert [(e.id, status) for e, status in upcoming] == [
        (sooner.event_id, "invited"), (later.event_id, "invited")]
    assert (await events.lists(db, people["c"])).upcoming[0][0].id == sooner.event_id
