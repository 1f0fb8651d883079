"""Surveys through the real bot: members answer in Kyrgyz and Russian, one question per message
with buttons, branching, typed numbers refused with what to send, a summary to confirm; one answer
per municipality; the reminder and closing on the scheduler across a restart; results, charts
and exports for staff."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest

from bot.sandbox.client import EmulatorError
from bot.services import surveys
from bot.services.broadcasts import Audience
from bot.views.survey_charts import chart_png
from bot.views.surveys import Sv, Svr
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, buttons, said, t, text_of, wait_for
from tests.e2e.journeys import member
from tests.survey_helpers import create


def sv(action: str, survey_id: int, q: int = -1, v: int = -1) -> str:
    return Sv(action=action, survey_id=survey_id, q=q, v=v).pack()


def svr(action: str, survey_id: int) -> str:
    return Svr(action=action, survey_id=survey_id).pack()


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
    await asel.vote([1])
    await nurlan.vote([0])
    await nurlan.vote([1])  # changed their mind: one vote, the last one

    async def counted() -> bool:
        r = await surveys.results(db, staff_id, sid)
        return r.responded == 2 and r.questions[0].counts == {"mon": 0, "fri": 2}

    await wait_for(counted)
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
