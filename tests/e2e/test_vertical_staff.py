"""The vertical loop's staff screens through the real bot: the sign-off reminder goes once to the
leaders who have not answered, across restarts; staff choose who signs a position off and until
when; staff link a member to the state body they answer for; staff correct a liaison's response
and the member who raised the issue hears of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from bot.menu import commands_for
from bot.services import (
    broadcasts,
    liaisons,
    members,
    national_issues,
    positions,
    reference,
    roles,
    settings,
)
from bot.services.broadcasts import Audience, Draft
from bot.views.liaison import Li, Ll, Lr
from bot.views.positions import Lo, Lp
from storage.enums import BroadcastKind, Position, Role
from storage.models import LawPosition
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


async def _leader(people: PersonFactory, birge: Running, name: str, district: str,
                  community: str = "heads", lang: str = "ru") -> tuple[object, int]:
    person, member_id = await member(people, birge, name, lang, district)
    await roles.grant_role(birge.db, None, member_id, Role.DISTRICT_LEADER,
                           community_id=await f.community_id(birge.db, community),
                           district_id=await f.district_id(birge.db, district))
    await settings.update_settings(birge.db, member_id, settings.Change(frequency="off"))
    return person, member_id


async def _position(birge: Running, staff_id: int) -> int:
    db = birge.db
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.DRAFT_LAW, title="Проект закона о МСУ", text_ky="Долбоор.",
        text_ru="Проект закона.", comments_until=datetime.now(UTC) + timedelta(days=5),
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    p = await positions.draft_position(db, staff_id, sent.broadcast_id,
                                       "Комитет Жогорку Кенеша по МСУ",
                                       "Союз долбоорду колдойт.", "Союз поддерживает проект.")
    assert p.id is not None
    return p.id


async def _all_sent(birge: Running, *member_ids: int) -> None:
    async def recorded() -> bool:
        return all(r.status not in ("pending", "sending") for r in await outbox_rows(birge.db)
                   if r.member_id in member_ids)

    await wait_for(recorded, timeout=10)


async def test_the_signoff_reminder_reaches_only_those_who_have_not_answered_once_across_restarts(
    birge: Running, people: PersonFactory
) -> None:
    await birge.stop()
    with time_machine.travel(bishkek(0, 10), tick=True) as clock:
        await birge.start()
        db = birge.db
        staff_id = await f.staff(db, None, "Сотрудник Союза", language="ru")
        asel, asel_id = await _leader(people, birge, "Асель Лидер", "leylek")
        bakyt, bakyt_id = await _leader(people, birge, "Бакыт Лидер", "talas", "finance")
        pid = await _position(birge, staff_id)
        asked = await positions.open_signoff(db, staff_id, pid, bishkek(3, 18))
        assert asked == 2
        await said(asel, t("ru", "The Union asks you, as a district leader"))
        await said(bakyt, t("ru", "The Union asks you, as a district leader"))
        await positions.sign_off(db, asel_id, pid, "agree")
        await _all_sent(birge, asel_id, bakyt_id)
        assert birge.app is not None
        # Two days before the deadline: too early for the reminder.
        assert await birge.app.scheduler.run_job("positions.reminders") is True
        await silent(bakyt)
        await birge.stop()
        clock.move_to(bishkek(2, 20))  # 22 hours before; Birge was down at the time
        await birge.start()
        reminder = await said(bakyt, t("ru", "Reminder: the sign-off closes soon."), timeout=10)
        assert "Союз поддерживает проект." in str(reminder)
        assert birge.app is not None
        assert await birge.app.scheduler.run_job("positions.reminders") is True
        await _all_sent(birge, asel_id, bakyt_id)
        await birge.restart()
        assert await birge.app.scheduler.run_job("positions.reminders") is True
        await asyncio.sleep(1.0)
        await silent(bakyt)
        await silent(asel)
        reminders = [r.member_id for r in await outbox_rows(db) if r.kind == "position_reminder"]
        assert reminders == [bakyt_id]
        async with db.read() as s:
            row = (await s.exec(select(LawPosition).where(LawPosition.id == pid))).one()
            assert row.reminded_at is not None


async def test_staff_choose_the_communities_and_a_typed_deadline_and_see_how_many_are_asked(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    asel, _asel = await _leader(people, birge, "Асель Лидер", "leylek", "heads")
    bakyt, bakyt_id = await _leader(people, birge, "Бакыт Лидер", "talas", "finance")
    third = await f.leader(db, "Нурбек Лидер", "kara-buura", "finance")
    finance = await f.community_id(db, "finance")
    pid = await _position(birge, staff_id)
    await boss.send("/help")
    await said(boss, t("ru", "What you can do in Birge:"))
    await boss.press_data(int((await boss.transcript())[-1]["message_id"]),
                          Lp(action="open", position_id=pid).pack())
    await said(boss, t("ru", "Who is asked to sign off L-{id}?", id=pid))
    await press(boss, Lo(action="com", position_id=pid, value=finance).pack())
    ticked = await said(boss, t("ru", "Who is asked to sign off L-{id}?", id=pid))
    assert any(label.startswith("☑️") for label, _data in buttons(ticked))
    await press(boss, Lo(action="next", position_id=pid).pack())
    await said(boss, t("ru", "Until when can the leaders answer?"))
    await press(boss, Lo(action="date", position_id=pid).pack())
    prompt = t("ru", "Send the deadline in Bishkek time as {example}", example="25.12.2026 18:00",
               days=90)
    await said(boss, prompt)
    await boss.send("31.02.2027")
    await said(boss, t("ru", "There is no such date."))
    await boss.send("завтра " * 2000)
    await said(boss, prompt)
    far = (datetime.now(TZ) + timedelta(days=200)).strftime("%d.%m.%Y")
    await boss.send(far)
    await said(boss, t("ru", "The deadline must be at least an hour and at most {days} days",
                       days=90))
    day = (datetime.now(TZ) + timedelta(days=10)).date()
    await boss.send(day.strftime("%d.%m.%Y"))
    confirm = await said(boss, t("ru", "Leaders to be asked: {count}", count=2))
    assert "Финанс" in text_of(confirm) or "финанс" in text_of(confirm)
    # A forged press for another position is refused; nothing opens.
    await boss.press_data(int(confirm["message_id"]),
                          Lo(action="go", position_id=pid + 1000).pack())
    assert t("ru", "This button is no longer active.") in str(await boss.answer())
    await press(boss, Lo(action="go", position_id=pid).pack())
    assert t("ru", "{count} district leaders are asked to sign off.", count=2) in str(
        await boss.answer())
    await said(boss, t("ru", "Sign-off until"))
    await said(bakyt, t("ru", "The Union asks you, as a district leader"))
    asked = [r.member_id for r in await outbox_rows(db) if r.kind == "position_signoff"]
    assert sorted(asked) == sorted([bakyt_id, third.id])
    texts = [text_of(m) for m in await asel.transcript()]
    assert not any(t("ru", "The Union asks you, as a district leader") in x for x in texts)
    async with db.read() as s:
        row = (await s.exec(select(LawPosition).where(LawPosition.id == pid))).one()
    assert row.status == "signoff" and row.community_ids == [finance]
    assert row.deadline is not None
    local = row.deadline.replace(tzinfo=UTC).astimezone(TZ) if row.deadline.tzinfo is None \
        else row.deadline.astimezone(TZ)
    assert (local.date(), local.hour, local.minute) == (day, 23, 59)


async def test_staff_link_a_member_to_a_state_body_from_a_paged_list_and_unlink_them(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    ermek, ermek_id = await member(people, birge, "Эрмек Жумабаев", "ru", "talas",
                                   position=Position.STATE_BODY, communities=())
    plain, _plain_id = await member(people, birge, "Нурлан Участник", "ru", "leylek")
    body = (await reference.state_bodies(db, "ru"))[8]  # on the second page

    await boss.send("/liaisons")
    listed = await said(boss, t("ru", "State-body liaisons and members who work in a state body"))
    assert "Эрмек Жумабаев · —" in str(buttons(listed))
    await press(boss, Ll(action="card", member_id=ermek_id).pack())
    await said(boss, t("ru", "Not linked to a state body."))
    await press(boss, Ll(action="bodies", member_id=ermek_id).pack())
    first = await said(boss, t("ru", "Which state body does {name} answer for?",
                               name="Эрмек Жумабаев"))
    assert body.name[:20] not in str(buttons(first))
    await press(boss, Ll(action="bodies", member_id=ermek_id, value=1).pack())
    second = await said(boss, t("ru", "Which state body does {name} answer for?",
                                name="Эрмек Жумабаев"))
    assert "2/2" in str(buttons(second))
    assert body.name[:20] in str(buttons(second))
    # A forged body id is refused and links nothing.
    await boss.press_data(int(second["message_id"]),
                          Ll(action="link", member_id=ermek_id, value=99_999).pack())
    assert t("ru", "Choose a state body from the list.") in str(await boss.answer())
    await press(boss, Ll(action="link", member_id=ermek_id, value=body.id).pack())
    await said(boss, t("ru", "Liaison of: {body}", body=body.name))
    await ermek.send("/liaison")
    await said(ermek, t("ru", "Nothing is addressed to {body} now.", body=body.name))
    # The command menus and /help name the new commands to those who may use them.
    await ermek.send("/help")
    await said(ermek, t("ru", "/liaison — the national issues and dossiers"))
    boss_menu = {c.command for c in commands_for(
        await members.by_telegram(db, boss.user_id), "ru")}
    ermek_menu = {c.command for c in commands_for(
        await members.by_telegram(db, ermek.user_id), "ru")}
    assert {"liaisons", "stats", "inbox", "report"} <= boss_menu
    assert "liaison" in ermek_menu and "liaisons" not in ermek_menu
    # A member who is not staff cannot link anyone, whatever the button says.
    await plain.send("/liaisons")
    await said(plain, t("ru", "You are not allowed to do that."))
    await plain.send("/help")
    await said(plain, t("ru", "What you can do in Birge:"))
    await plain.press_data(int((await plain.transcript())[-1]["message_id"]),
                           Ll(action="unlink", member_id=ermek_id).pack())
    assert t("ru", "You are not allowed to do that.") in str(await plain.answer())
    async with db.read() as s:
        assert await liaisons.body_of(s, ermek_id) == body.id

    await press(boss, Ll(action="unlink", member_id=ermek_id).pack())
    await said(boss, t("ru", "Not linked to a state body."))
    async with db.read() as s:
        assert await liaisons.body_of(s, ermek_id) is None
    await ermek.send("/liaison")
    await said(ermek, t("ru", "This is for the liaison of a state body"))


async def test_staff_correct_a_liaisons_response_and_the_member_who_raised_the_issue_hears(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    _liaison, liaison_id = await member(people, birge, "Эрмек Жумабаев", "ru", "talas",
                                        position=Position.STATE_BODY, communities=())
    author, author_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    minfin = await f.state_body_id(db, "minfin")
    await liaisons.assign_body(db, staff_id, liaison_id, minfin)
    issue = await f.national_issue(db, author_id, "Земельный налог")
    assert issue.id is not None
    await national_issues.forward(db, staff_id, issue.id, minfin)
    reply = await liaisons.respond(db, liaison_id, "issue", issue.id,
                                   "Минфин подготовит поправки до 1 марта.", "12-3/4567")
    assert reply.id is not None
    await said(author, "Минфин подготовит поправки до 1 марта.")
    card = await said(boss, t("ru", "{body} responded on {what}:", body="Министерство финансов",
                              what=f"P-{issue.id} · Земельный налог"))
    assert "12-3/4567" in text_of(card)
    fix = Lr(action="correct", reply_id=reply.id).pack()
    assert fix in [data for _label, data in buttons(card)]
    # A member who is not staff cannot correct it, whatever the button says.
    await author.press_data(int((await author.transcript())[-1]["message_id"]), fix)
    assert t("ru", "You are not allowed to do that.") in str(await author.answer())

    await boss.press(fix, card)
    await said(boss, t("ru", "Send the corrected text of the response",
                       limit=liaisons.TEXT_MAX))
    await boss.send("x" * 10_000)
    await said(boss, t("ru", "Please write 2 to {limit} characters.", limit=liaisons.TEXT_MAX))
    await boss.send("Минфин подготовит поправки до 1 апреля.")
    await said(boss, t("ru", "The response is corrected; everyone behind the issue is told."))
    told = await said(author, t("ru", "The Union staff corrected the response of {body} on",
                                body="Министерство финансов",
                                what=f"P-{issue.id} · Земельный налог"))
    assert "до 1 апреля" in text_of(told)
    found = await national_issues.card(db, staff_id, issue.id, "ru")
    assert found.issue.response_text == "Минфин подготовит поправки до 1 апреля."


async def test_staff_answer_a_liaisons_question_and_the_liaison_hears_it(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    liaison, liaison_id = await member(people, birge, "Эрмек Жумабаев", "ru", "talas",
                                       position=Position.STATE_BODY, communities=())
    _author, author_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    minfin = await f.state_body_id(db, "minfin")
    await liaisons.assign_body(db, staff_id, liaison_id, minfin)
    issue = await f.national_issue(db, author_id, "Земельный налог")
    assert issue.id is not None
    await national_issues.forward(db, staff_id, issue.id, minfin)

    await liaison.send("/liaison")
    listed = await said(liaison, t("ru", "Addressed to {body}:", body="Министерство финансов"))
    await liaison.press(Li(action="show", kind="issue", target_id=issue.id).pack(), listed)
    card = await said(liaison, f"P-{issue.id}")
    await liaison.press(Li(action="clarify", kind="issue", target_id=issue.id).pack(), card)
    await said(liaison, t("ru", "Send your question to the Union."))
    await liaison.send("Какие районы затронуты?")
    await said(liaison, t("ru", "Your question was sent to the Union staff."))
    asked = await said(boss, "Какие районы затронуты?")
    answer = next(data for _label, data in buttons(asked) if data.startswith("lr:answer:"))
    await boss.press(answer, asked)
    await said(boss, t("ru", "Send your answer to the liaison", limit=liaisons.TEXT_MAX))
    await boss.send("Таласская и Баткенская области, 14 районов.")
    await said(boss, t("ru", "Your answer was sent to the liaison."))
    heard = await said(liaison, t("ru", "The Union answered your question on {what}:",
                                  what=f"P-{issue.id}"))
    assert "14 районов" in text_of(heard)
    # A forged press by the liaison themselves is refused.
    await liaison.press_data(int(heard["message_id"]), answer)
    assert t("ru", "You are not allowed to do that.") in str(await liaison.answer())
