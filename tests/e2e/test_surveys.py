"""Surveys through the real bot: members answer in Kyrgyz and Russian, one question per message
with buttons, branching, typed numbers refused with what to send, a summary to confirm; one answer
per municipality; the reminder and closing on the scheduler across a restart; results, charts
and exports for staff."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select, update

from bot.sandbox.client import EmulatorError
from bot.services import surveys
from bot.services.broadcasts import Audience
from bot.views.survey_charts import chart_png
from bot.views.surveys import Sv, Svr
from storage.models import Outbox, SurveyPoll
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    nav,
    pick,
    press,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member
from tests.survey_helpers import answer_all, create

DATA = Path(__file__).resolve().parents[1] / "data"
BISHKEK = ZoneInfo("Asia/Bishkek")


def sv(action: str, survey_id: int, q: int = -1, v: int = -1) -> str:
    return Sv(action=action, survey_id=survey_id, q=q, v=v).pack()


def svr(action: str, survey_id: int) -> str:
    return Svr(action=action, survey_id=survey_id).pack()



def survey_sent(lang: str) -> tuple[str, str]:
    """What "Survey S-… is sent to … members." says around its number, in `lang`."""
    around = t(lang, "Survey S-{id} is sent to {count} members.", id="§", count=999)
    return "S-", around.split("§")[1].split("999")[0]

async def test_members_answer_in_kyrgyz_and_russian_with_a_branch_and_bad_input(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, _a = await member(people, birge, "Асель Маматова", "ru", "leylek", "katran")
    nurlan, _n = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek", "sumbula")
    sid = await create(db, staff_id, Audience(districts=[await f.district_id(db, "leylek")]))

    invite = await said(asel, "Потребности муниципалитетов", "Примите участие в опросе.")
    await said(nurlan, "Муниципалитеттердин муктаждыктары")
    # Asel (ru) answers "no", so she is asked how much is missing.
    await asel.press(sv("open", sid), invite)
    first = await said(asel, "Хватает ли бюджета?", "1/6")
    assert [label for label, _d in buttons(first)][:2] == ["Да", "Нет"]
    await asel.send("пять тысяч")  # text where a choice is expected
    await said(asel, t("ru", "Please answer with the buttons."))
    await asel.press(sv("pick", sid, 0, 1))
    await said(asel, "Сколько не хватает?", "2/7")
    await asel.send("5 000 сом")
    await said(asel, t("ru", "Please send digits only"))
    await asel.send("5,5")
    await said(asel, t("ru", "Please send digits only"))
    await asel.send("250000")
    scale = await said(asel, "Насколько Вы доверяете?", "3/7")
    assert [label for label, _d in buttons(scale)][:10] == [str(i) for i in range(1, 11)]
    await asel.press(sv("pick", sid, 2, 7))
    await said(asel, "Какие проблемы?")
    await asel.press(sv("tog", sid, 3, 0))
    await said(asel, "Вода", "Какие проблемы?")
    await asel.press(sv("tog", sid, 3, 1))
    await said(asel, "Вода; Дороги")
    await asel.press(sv("tog", sid, 3, 2))  # a third one: at most two
    assert t("ru", "At most {limit} answers.", limit=2) in str(await asel.answer())
    await asel.press(sv("done", sid, 3))
    await said(asel, "Расставьте по важности")
    await asel.press(sv("rank", sid, 4, 1))
    await said(asel, "1. Дороги")
    await asel.press(sv("rank", sid, 4, 1))  # the same option again
    assert t("ru", "That option is already in your order.") in str(await asel.answer())
    await asel.press(sv("undo", sid, 4))
    await said(asel, t("ru", "Tap the options in order of importance"))
    for n, option in enumerate((0, 2, 1), 1):
        await asel.press(sv("rank", sid, 4, option))
        await said(asel, f"{n}. ", "Расставьте по важности")
    await asel.press(sv("done", sid, 4))
    await said(asel, "С какого времени?", "6/7")
    await asel.press(sv("skip", sid, 5))
    await said(asel, "Ваш комментарий")
    await asel.send("x" * 10_000)
    await said(asel, t("ru", "Please write 1 to {limit} characters.", limit=1000))
    await asel.send("Нужна вода.")
    summary = await said(asel, t("ru", "Please check your answers and confirm."))
    assert "250 000 сом" in text_of(summary) and "1. Вода; 2. Мусор; 3. Дороги" in text_of(
        summary)
    await asel.press(sv("send", sid))
    await said(asel, t("ru", "Your answers are saved."))

    # Nurlan (ky) answers "yes": the amount is never asked.
    await nurlan.press(sv("open", sid))
    await said(nurlan, "Бюджет жетиштүүбү?", "1/6")
    await nurlan.press(sv("pick", sid, 0, 0))
    await said(nurlan, "Ишеним канчалык?", "2/6")
    await nurlan.press(sv("pick", sid, 2, 3))
    await said(nurlan, "Кайсы көйгөйлөр?")
    await nurlan.press(sv("tog", sid, 3, 2))
    await said(nurlan, "Таштанды", "Кайсы көйгөйлөр?")
    await nurlan.press(sv("done", sid, 3))
    await said(nurlan, "Артыкчылык")
    for n, option in enumerate((2, 0, 1), 1):
        await nurlan.press(sv("rank", sid, 4, option))
        await said(nurlan, f"{n}. ", "Артыкчылык")
    await nurlan.press(sv("done", sid, 4))
    await said(nurlan, "Качантан бери?")
    await nurlan.send("31.02.2026")
    await said(nurlan, t("ky", "Please send a date, for example 25.11.2026."))
    await nurlan.send("01.03.2026")
    await said(nurlan, "Пикириңиз")
    await nurlan.press(sv("skip", sid, 6))
    await said(nurlan, t("ky", "Please check your answers and confirm."), "01.03.2026")
    await nurlan.press(sv("send", sid))
    await said(nurlan, t("ky", "Your answers are saved."))

    found = await surveys.results(db, staff_id, sid)
    assert (found.invited, found.responded) == (2, 2)
    # Staff see the results, charts and exports.
    await boss.send("/surveys")
    menu = await said(boss, t("ru", "No open surveys for you now."))
    assert any(d == svr("mine", 0) for _l, d in buttons(menu))
    await boss.press(svr("mine", 0))
    await said(boss, t("ru", "Your surveys:"))
    await boss.press(svr("card", sid))
    await said(boss, t("ru", "Responses: {responded} of {invited} ({rate}%)", responded=2,
                       invited=2, rate=100))
    await boss.press(svr("charts", sid))

    async def photos() -> int:
        return sum(1 for m in await boss.transcript() if m.get("photo"))

    for _ in range(60):
        if await photos() >= 5:
            break
        await asyncio.sleep(0.2)
    assert await photos() == 5  # single, number, scale, multiple, ranking (not date, text)
    await boss.press(svr("xlsx", sid))
    doc = None
    for _ in range(60):
        doc = next((m for m in await boss.transcript() if m.get("document")), None)
        if doc:
            break
        await asyncio.sleep(0.2)
    assert doc is not None
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(await boss.client.file(doc["document"]["file_id"])))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and "Хватает ли бюджета?" in rows[0]
    assert {r[1] for r in rows[1:]} == {"Асель Маматова", "Нурлан Абдылдаев"}
    assert book.worksheets[1].title == t("ru", "Summary")


async def test_a_quick_poll_is_a_native_poll_answered_through_poll_answer_and_stopped(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, _a = await member(people, birge, "Асель Маматова", "ru", "leylek")
    nurlan, _n = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek")
    question = {"name": "day", "type": "single", "label": {"ky": "Жыйын качан?",
                                                           "ru": "Когда собрание?"},
                "choices": [{"name": "mon", "label": {"ky": "Дүйшөмбү", "ru": "Понедельник"}},
                            {"name": "fri", "label": {"ky": "Жума", "ru": "Пятница"}}]}
    sid = await create(db, staff_id, Audience(districts=[await f.district_id(db, "leylek")]),
                       kind="poll", questions=[question], intro={},
                       deadline=utcnow() + timedelta(days=1))

    async def poll_of(person: object) -> dict[str, object] | None:
        for m in await person.transcript():  # type: ignore[attr-defined]
            if m.get("poll"):
                return m  # type: ignore[no-any-return]
        return None

    async def both_got_it() -> bool:
        return await poll_of(asel) is not None and await poll_of(nurlan) is not None

    await wait_for(both_got_it)
    ru_poll = await poll_of(asel)
    ky_poll = await poll_of(nurlan)
    assert ru_poll is not None and ky_poll is not None
    assert "Когда собрание?" in ru_poll["poll"]["question"]  # type: ignore[index]
    assert ky_poll["poll"]["options"][0]["text"] == "Дүйшөмбү"  # type: ignore[index]
    assert ky_poll["poll"]["is_anonymous"] is False  # type: ignore[index]
    async def posted() -> bool:  # the outbox has recorded both polls it sent
        async with db.read() as s:
            return len((await s.exec(select(SurveyPoll))).all()) == 2

    await wait_for(posted)

    def counts(expected: dict[str, int]) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await surveys.results(db, staff_id, sid)).questions[0].counts == expected
        return check

    await asel.vote([1])
    await nurlan.vote([0])
    await wait_for(counts({"mon": 1, "fri": 1}))
    await nurlan.vote([1])  # changed their mind: one vote, the last one
    await wait_for(counts({"mon": 0, "fri": 2}))
    # The deadline passes (the scheduler's job, run as it would run after it): the polls stop.
    await birge.restart()
    db = birge.db
    assert await birge.app.scheduler.run_job("surveys.deadlines",  # type: ignore[union-attr]
                                             now=utcnow() + timedelta(days=2))

    async def stopped() -> bool:
        found = await poll_of(asel)
        return bool(found and found["poll"]["is_closed"])  # type: ignore[index]

    await wait_for(stopped)
    with pytest.raises(EmulatorError):
        await asel.vote([0])
    found = await surveys.results(db, staff_id, sid)
    assert found.responded == 2
    png = chart_png(found.questions[0], "ru")
    assert png is not None and png.startswith(b"\x89PNG")


async def test_a_district_leader_builds_a_survey_in_the_bot_one_answer_per_municipality(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    lead = await people("Leader", "ru")
    leader = await f.leader(db, "Бакыт Осмонов", "leylek", "heads", telegram_id=lead.user_id,
                            language="ru")
    asel, _a = await member(people, birge, "Асель Маматова", "ru", "leylek", "katran")
    nurlan, _n = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek", "katran")
    bakyt, _b = await member(people, birge, "Бакыт Талас", "ru", "talas")

    await lead.send("/surveys")
    await said(lead, t("ru", "No open surveys for you now."))
    await lead.press(svr("new", 0))
    await said(lead, t("ru", "Send the title: the first line"))
    await lead.send("Суу түтүгү\nВодопровод")
    await said(lead, t("ru", "Send the introduction"))
    await press(lead, nav("skip"))
    await said(lead, t("ru", "Question {number}: what kind?", number=1))
    await lead.press(pick("sq", "single"))
    await said(lead, t("ru", "Send the question"))
    await lead.send("Суу барбы?")  # one line only: Russian missing
    await said(lead, t("ru", "Please send the question in Kyrgyz"))
    await lead.send("Суу барбы?\nЕсть ли вода?")
    await said(lead, t("ru", "Send the options"))
    await lead.send("Ооба / Да\nЖок / Нет")
    await said(lead, t("ru", "Must it be answered?"))
    await lead.press(pick("sr", "1"))
    await said(lead, t("ru", "Questions so far:"))
    await lead.press(pick("sn", "add"))
    await said(lead, t("ru", "Question {number}: what kind?", number=2))
    await lead.press(pick("sq", "number"))
    await lead.send("Канча күн жок?\nСколько дней нет воды?")
    await said(lead, t("ru", "Send the unit and the range"))
    await lead.send("күн 0 365")
    await said(lead, t("ru", "Must it be answered?"))
    await lead.press(pick("sr", "1"))
    await said(lead, t("ru", "Show this question always"))
    await lead.press(pick("sc", "q1.o2"))  # only if "no water"
    await said(lead, t("ru", "Questions so far:"))
    await lead.press(pick("sn", "done"))
    await said(lead, t("ru", "How do members answer?"))
    await lead.press(pick("so", "municipality"))
    await said(lead, t("ru", "Until when can members answer?"))
    await lead.send("01.01.2020")
    await said(lead, t("ru", "Please send a future date, for example 25.12.2026."))
    await lead.send((utcnow() + timedelta(days=10)).strftime("%d.%m.%Y"))
    preview = await said(lead, "Есть ли вода?", t("ru", "Above is the preview in {language}"))
    assert t("ru", "Recipients: {count}.", count=3) in text_of(preview)  # Leylek only
    assert "⤷ Есть ли вода? = Нет" in text_of(preview)
    await lead.press(pick("sp", "ky"))
    await said(lead, "Суу барбы?", "Ооба")
    await lead.press(pick("sp", "send"))
    done = await said(lead, *survey_sent("ru"))
    sid = int(text_of(done).split("S-")[1].split()[0])

    invite = await said(asel, "Водопровод", t("ru", "One answer per municipality"))
    await said(nurlan, "Суу түтүгү")
    await silent(bakyt)
    await asel.press(sv("open", sid), invite)
    await said(asel, "Есть ли вода?")
    await asel.press(sv("pick", sid, 0, 1))
    await said(asel, "Сколько дней нет воды?", "2/2")
    await asel.send("400")
    await said(asel, t("ru", "The number must be from {low} to {high}.", low=0, high=365))
    await asel.send("12")
    await said(asel, "12 күн")
    await asel.press(sv("send", sid))
    await said(asel, t("ru", "Your answers are saved."))
    # Nurlan works in the same municipality: Asel's answer is theirs, by name.
    await nurlan.press(sv("open", sid))
    taken = await said(nurlan, "Асель Маматова")
    # An answer button forged onto that message is refused: nothing is written.
    await nurlan.press_data(taken["message_id"], sv("pick", sid, 0, 0))
    assert t("ky", "Your municipality has already answered this survey.") in str(
        await nurlan.answer())
    found = await surveys.results(db, leader.id, sid)
    assert (found.invited, found.responded) == (2, 1)  # Katran, and the leader himself
    # A member of another district forges the survey's button: refused, nothing written.
    approval = (await bakyt.transcript())[-1]
    await bakyt.press_data(approval["message_id"], sv("open", sid))
    assert t("ru", "You are not allowed to do that.") in str(await bakyt.answer())
    assert (await surveys.results(db, leader.id, sid)).responded == 1


async def test_an_xlsform_is_imported_and_a_broken_one_is_refused_with_its_row(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    boss = await people("Staff", "ky")
    await f.staff(db, boss.user_id, "Кызматкер", language="ky")
    _asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    await boss.send("/surveys")
    await said(boss, t("ky", "No open surveys for you now."))
    await boss.press(svr("import", 0))
    await said(boss, t("ky", "Send the XLSForm file").split("<")[0])
    await boss.upload("document", (DATA / "bad_duplicate.xlsx").read_bytes(),
                      filename="bad.xlsx")
    refused = await said(boss, t("ky", "The form was not imported."))
    assert t("ky", "Row {row}: {reason}", row=4, reason="") in text_of(refused)
    assert "has_plan" in text_of(refused)
    await boss.upload("document", (DATA / "bad_no_label.xlsx").read_bytes(),
                      filename="bad.xlsx")
    await said(boss, t("ky", "The form was not imported."), "label::Русский")
    await boss.upload("document", (DATA / "bad_relevant.xlsx").read_bytes(),
                      filename="bad.xlsx")
    await said(boss, t("ky", "The form was not imported."), "budget")
    await boss.upload("document", (DATA / "bad_type.xlsx").read_bytes(), filename="bad.xlsx")
    await said(boss, t("ky", "The form was not imported."), "geopoint")
    await boss.upload("sticker")
    await said(boss, t("ky", "Please send the files as documents, or press Done."))
    await boss.upload("document", (DATA / "needs_survey.xlsx").read_bytes(),
                      filename="needs.xlsx")
    await said(boss, t("ky", "Imported {count} questions.", count=8))
    await said(boss, t("ky", "Send the title: the first line"))
    await boss.send("Муктаждыктарды изилдөө\nИзучение потребностей")
    await said(boss, t("ky", "Send the introduction"))
    await boss.send("Сурамжылоого катышыңыз.\n\nПримите участие в опросе.")
    await said(boss, t("ky", "How do members answer?"))
    await boss.press(pick("so", "anonymous"))
    await said(boss, t("ky", "Who should receive it?"))
    await boss.press(pick("sa", "districts"))
    await said(boss, t("ky", "Districts of which region?"))
    leylek = await f.district_id(db, "leylek")
    await boss.press(pick("sdr", await f.region_of(db, leylek)))
    await said(boss, t("ky", "Tap to choose, then go back to the audience."))
    await boss.press(pick(f"st_dist_{await f.region_of(db, leylek)}", leylek))
    await said(boss, t("ky", "Tap to choose, then go back to the audience."))
    await boss.press(pick("sa", "menu"))
    await said(boss, t("ky", "Who should receive it?"))
    await boss.press(pick("sa", "done"))
    await boss.send((utcnow() + timedelta(days=10)).strftime("%d.%m.%Y"))
    await said(boss, "Жергиликтүү бийликке ишеним", t("ky", "Recipients: {count}.", count=1))
    await boss.press(pick("sp", "send"))
    sent = await said(boss, *survey_sent("ky"))
    sid = int(text_of(sent).split("S-")[1].split()[0])
    # Anonymous: with one answer in Leylek, the results show no figure for the district.
    await answer_all(db, asel_id, sid, {"has_plan": "no", "trust": 6, "problems": ["water"],
                                        "priority": ["water", "roads", "waste", "school"]})
    await boss.press(svr("card", sid))
    card = await said(boss, t("ky", "Responses: {responded} of {invited} ({rate}%)",
                              responded=1, invited=1, rate=100))
    assert "Лейлек району (Баткен облусу): <5/1" in text_of(card)


async def test_the_reminder_waits_for_quiet_hours_and_the_survey_closes_across_restarts(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, _a = await member(people, birge, "Асель Маматова", "ru", "leylek")
    nurlan, _n = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek")
    sid = await create(db, staff_id, Audience(districts=[await f.district_id(db, "leylek")]),
                       deadline=utcnow() + timedelta(days=2))
    invite = await said(asel, "Потребности муниципалитетов")
    await said(nurlan, "Муниципалитеттердин муктаждыктары")
    await asel.press(sv("open", sid), invite)
    await said(asel, "Хватает ли бюджета?")
    await asel.press(sv("pick", sid, 0, 0))
    await said(asel, "Насколько Вы доверяете?", "2/6")

    # Birge restarts inside quiet hours; the reminder falls due then and waits.
    hour = utcnow().astimezone(BISHKEK).hour
    await birge.restart_with(quiet_hours_start=hour, quiet_hours_end=(hour + 2) % 24)
    assert await birge.app.scheduler.run_job(  # type: ignore[union-attr]
        "surveys.deadlines", now=utcnow() + timedelta(days=1, hours=1))
    await silent(nurlan, timeout=1.5)
    # Asel continues where she was after the restart.
    await asel.press(sv("open", sid), invite)
    await said(asel, "Насколько Вы доверяете?", "2/6")
    # After quiet hours (another restart), the one reminder goes to both who have not sent.
    await birge.restart_with(quiet_hours_start=0, quiet_hours_end=0)
    async with birge.db.transaction() as s:  # the held row is due now (the window ended)
        await s.exec(update(Outbox).where(Outbox.kind == "survey_reminder")  # type: ignore[call-overload]
                     .values(not_before=None))
    await said(nurlan, t("ky", "A reminder: the survey waits for your answer."))
    await said(asel, t("ru", "A reminder: the survey waits for your answer."))
    assert await birge.app.scheduler.run_job(  # type: ignore[union-attr]
        "surveys.deadlines", now=utcnow() + timedelta(days=1, hours=2))
    await silent(nurlan)  # one reminder only

    # The deadline passes while Birge is down; the first run after the restart closes it.
    await birge.restart()
    assert await birge.app.scheduler.run_job(  # type: ignore[union-attr]
        "surveys.deadlines", now=utcnow() + timedelta(days=3))
    await said(boss, t("ru", "The survey S-{id} “{title}” is closed.", id=sid,
                       title="Потребности муниципалитетов"))
    await asel.press(sv("pick", sid, 2, 5))
    assert t("ru", "This survey is closed.") in str(await asel.answer())
