"""A moderator's quick poll in the group's forum thread: members vote in the thread, the poll is
closed and the thread sees its results and chart. Staff send a survey's results back: the members
chosen get the text, then the charts and the summary table in their language, and the files open."""

from __future__ import annotations

import io
import struct
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot.sandbox.client import EmulatorClient, EmulatorError
from bot.services import groups, surveys
from bot.services.broadcasts import Audience
from bot.views.surveys import Svr
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    pick,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member
from tests.survey_helpers import answer_all, create

FORUM = -1001234
JSON = dict[str, object]


def svr(action: str, survey_id: int, v: int = -1) -> str:
    return Svr(action=action, survey_id=survey_id, v=v).pack()


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height a PNG file says it has (its IHDR chunk)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def photo_id(message: JSON) -> str:
    sizes = message["photo"]
    assert isinstance(sizes, list) and sizes
    return str(sizes[-1]["file_id"])


def cells(book: object) -> list[object]:
    return [c for sheet in book.worksheets  # type: ignore[attr-defined]
            for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


async def test_a_moderator_posts_a_quick_poll_in_the_forum_thread_and_the_thread_sees_the_result(
        birge: Running, people: PersonFactory, tg: EmulatorClient) -> None:
    mod, mod_id = await member(people, birge, "Гүлнара Токтосунова", "ky", "talas")
    asel, _a = await member(people, birge, "Асель Маматова", "ru", "leylek")
    bakyt, _b = await member(people, birge, "Бакыт Осмонов", "ru", "talas")
    guest = await people("Guest", "ru")  # in the forum, not a member of Birge
    await tg.add_chat(FORUM, "ЖӨБ форуму", is_forum=True,
                      members=[mod.user_id, asel.user_id, bakyt.user_id, guest.user_id])
    await birge.restart_with(forum_chat_id=FORUM)
    db = birge.db
    budget = await f.group_id(db, "budget")
    await groups.appoint_moderator(db, await f.staff(db), budget, mod_id)
    topic = await groups.forum_topic(db, budget)
    assert topic is not None
    thread = topic[0]

    # The moderator builds the poll in the bot and posts it in the group's thread.
    await mod.send("/surveys")
    menu = await said(mod, t("ky", "No open surveys for you now."))
    assert svr("poll", 0) in [d for _l, d in buttons(menu)]
    await mod.press(svr("poll", 0))
    target = await said(mod, t("ky", "Who is it for?"))
    assert pick("sg", f"f{budget}") in [d for _l, d in buttons(target)]
    await mod.press(pick("sg", f"f{budget}"))
    await said(mod, t("ky", "Send the title: the first line"))
    await mod.send("Бюджеттик жыйын\nБюджетное собрание")
    await said(mod, t("ky", "Send the question"))
    await mod.send("Жыйын качан?\nКогда собрание?")
    await said(mod, t("ky", "Question {number}: what kind?", number=1))
    await mod.press(pick("sq", "single"))
    await said(mod, t("ky", "Send the options"))
    await mod.send("Дүйшөмбү / Понедельник\nЖума / Пятница")
    await said(mod, t("ky", "Until when can members answer?"))
    await mod.send((utcnow() + timedelta(days=3)).strftime("%d.%m.%Y"))
    await said(mod, t("ky", "Above is the preview in {language}").split("{")[0])
    await mod.press(pick("sp", "send"))
    done = await said(mod, t("ky", "Poll S-{id} is posted in the group's forum thread.")
                      .split("S-")[0])
    sid = int(text_of(done).split("S-")[1].split()[0])

    # The thread gets a native, non-anonymous poll, worded in Kyrgyz and Russian.
    async def the_poll() -> JSON | None:
        return next((m for m in await tg.transcript(FORUM, thread) if m.get("poll")), None)

    async def posted() -> bool:
        return await the_poll() is not None

    await wait_for(posted)
    poll = await the_poll()
    assert poll is not None
    native = poll["poll"]
    assert isinstance(native, dict)
    assert "Жыйын качан? / Когда собрание?" == native["question"]
    assert [o["text"] for o in native["options"]] == ["Дүйшөмбү / Понедельник",
                                                      "Жума / Пятница"]
    assert native["is_anonymous"] is False and native["is_closed"] is False

    # Members vote in the thread; a guest's vote is not Birge's to count.
    in_forum = [p.in_chat(FORUM, thread) for p in (asel, bakyt, mod, guest)]
    await in_forum[0].vote([1])
    await in_forum[1].vote([0])
    await in_forum[2].vote([1])
    await in_forum[3].vote([0])

    async def counted() -> bool:
        found = await surveys.results(db, mod_id, sid)
        return found.questions[0].counts == {"o1": 1, "o2": 2}

    await wait_for(counted)
    await in_forum[1].vote([])  # Bakyt takes his vote back, then votes again
    await in_forum[1].vote([1])

    async def changed() -> bool:
        found = await surveys.results(db, mod_id, sid)
        return found.questions[0].counts == {"o1": 0, "o2": 3}

    await wait_for(changed)

    # The moderator closes it from the results card: the poll stops, the thread gets the result.
    await mod.press(svr("card", sid))
    card = await said(mod, "S-", "Бюджеттик жыйын")
    # Nobody is invited to a thread's poll: the card counts votes, not "3 of 0".
    assert t("ky", "Voted: {count}", count=3) in text_of(card) and "/0" not in text_of(card)
    assert "Лейлек району (Баткен облусу): 1\n" in text_of(card)
    await mod.press(svr("close", sid))
    assert t("ky", "The survey is closed.") in str(await mod.answer())

    async def result_posted() -> bool:
        messages = await tg.transcript(FORUM, thread)
        return any(m.get("photo") for m in messages) and bool(
            (await the_poll() or {}).get("poll", {}).get("is_closed"))  # type: ignore[union-attr]

    await wait_for(result_posted)
    messages = await tg.transcript(FORUM, thread)
    figures = next(m for m in messages if t("ru", "Poll S-{id} is closed: the results", id=sid)
                   in text_of(m))
    text = text_of(figures)
    assert t("ky", "Poll S-{id} is closed: the results", id=sid) in text  # both languages
    assert "Пятница: 3 (100%)" in text and "Понедельник: 0 (0%)" in text
    assert "Жума: 3 (100%)" in text and t("ru", "Voted: {count}", count=3) in text
    chart = await tg.file(photo_id(next(m for m in messages if m.get("photo"))))
    assert png_size(chart) == (700, 420) and len(chart) > 5_000
    with pytest.raises(EmulatorError):  # the poll is closed: no more votes
        await in_forum[0].vote([0])
    assert (await surveys.results(db, mod_id, sid)).questions[0].counts == {"o1": 0, "o2": 3}


async def test_staff_send_the_results_and_respondents_get_the_charts_and_the_table(
        birge: Running, people: PersonFactory) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek", "katran")
    nurlan, nurlan_id = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek",
                                     "sumbula")
    bakyt, bakyt_id = await member(people, birge, "Бакыт Осмонов", "ru", "leylek")
    stranger, _s = await member(people, birge, "Бектур Сыдыков", "ru", "talas")
    sid = await create(db, staff_id, Audience(districts=[await f.district_id(db, "leylek")]))
    await said(asel, "Потребности муниципалитетов")
    await said(nurlan, "Муниципалитеттердин муктаждыктары")
    await said(bakyt, "Потребности муниципалитетов")
    await answer_all(db, asel_id, sid, {"budget": "no", "gap": 250_000, "trust": 7,
                                        "problems": ["water", "roads"],
                                        "priority": ["water", "waste", "roads"],
                                        "comment": "Нужна вода."})
    await answer_all(db, nurlan_id, sid, {"budget": "yes", "trust": 4, "problems": ["waste"],
                                          "priority": ["waste", "water", "roads"]})

    # A member who manages nothing forges the button: refused, nothing is asked.
    last = (await stranger.transcript())[-1]
    await stranger.press_data(last["message_id"], svr("publish", sid, 0))
    assert t("ru", "You are not allowed to do that.") in str(await stranger.answer())

    await boss.send("/surveys")
    await said(boss, t("ru", "No open surveys for you now."))
    await boss.press(svr("mine", 0))
    await said(boss, t("ru", "Your surveys:"))
    await boss.press(svr("card", sid))
    await said(boss, t("ru", "Responses: {responded} of {invited} ({rate}%)", responded=2,
                       invited=3, rate=67))
    await boss.press(svr("publish", sid))
    choose = await said(boss, t("ru", "Who should receive the results?"))
    assert [d for _l, d in buttons(choose)][:2] == [svr("publish", sid, 0),
                                                    svr("publish", sid, 1)]
    await boss.send("Всем!")  # typing instead of choosing
    await said(boss, t("ru", "Please use the buttons."))
    await boss.upload("sticker")
    await said(boss, t("ru", "Please use the buttons."))
    await boss.press(svr("publish", sid, 0))  # the respondents
    await said(boss, t("ru", "Write what the survey found"))
    await boss.send("Только один абзац.")
    await said(boss, t("ru", "Please send a paragraph in Kyrgyz and one in Russian"))
    await boss.send("ж" * 10_000 + "\n\nДлинно.")
    await said(boss, t("ru", "The Kyrgyz and Russian texts are required"))
    await boss.upload("sticker")
    await said(boss, t("ru", "Please send a paragraph in Kyrgyz and one in Russian"))
    await boss.send("Суу түтүгү оңдолот.\n\nВодопровод отремонтируют весной.")
    sent = await said(boss, t("ru", "The results go to {count} members as broadcast B-{id}.")
                      .split("{")[0])
    assert "(2)" in text_of(sent)

    # Each respondent gets the text, then the charts and the table in their language.
    async def files_of(person: object) -> tuple[list[JSON], list[JSON]]:
        messages = await person.transcript()  # type: ignore[attr-defined]
        return ([m for m in messages if m.get("photo")],
                [m for m in messages if m.get("document")])

    for person, lang in ((asel, "ru"), (nurlan, "ky")):
        title = "Потребности муниципалитетов" if lang == "ru" else \
            "Муниципалитеттердин муктаждыктары"
        await said(person, "Водопровод" if lang == "ru" else "Суу түтүгү")
        await said(person, t(lang, "The results of the survey S-{id}", id=sid, title=title))

        async def arrived(p: object = person) -> bool:
            photos, docs = await files_of(p)
            return len(photos) == 5 and len(docs) == 1

        await wait_for(arrived)
        photos, docs = await files_of(person)
        for message in photos:  # single, number, scale, multiple, ranking (not date, text)
            chart = await person.client.file(photo_id(message))  # type: ignore[attr-defined]
            assert png_size(chart) == (700, 420) and len(chart) > 5_000
        document = docs[0]["document"]
        assert isinstance(document, dict)
        assert str(document["file_name"]).endswith(".xlsx")
        data = await person.client.file(str(document["file_id"]))  # type: ignore[attr-defined]
        book = load_workbook(io.BytesIO(data))
        assert [s.title for s in book.worksheets] == [t(lang, "Summary")]
        found = cells(book)
        assert title in found and t(lang, "Responded") in found and 2 in found
        assert "Нет" in found if lang == "ru" else "Жок" in found
        # Figures only: nobody's name, nobody's own words.
        assert not {"Асель Маматова", "Нурлан Абдылдаев", "Нужна вода."} & set(map(str, found))
    await silent(bakyt, timeout=1.5)  # invited, did not answer: not among the respondents
    await silent(stranger)

    # Bakyt answers late; sent again to everyone invited, the figures are today's.
    await answer_all(db, bakyt_id, sid, {"budget": "yes", "trust": 9, "problems": ["roads"],
                                         "priority": ["roads", "water", "waste"]})
    await boss.press(svr("publish", sid, 1))
    await said(boss, t("ru", "Write what the survey found"))
    await boss.send("Дагы бир жолу.\n\nЕщё раз: спасибо всем.")
    again = await said(boss, t("ru", "The results go to {count} members as broadcast B-{id}.")
                       .split("{")[0])
    assert "(3)" in text_of(again)
    await said(bakyt, "Ещё раз: спасибо всем.")

    async def table_of_bakyt() -> bool:
        return len((await files_of(bakyt))[1]) == 1

    await wait_for(table_of_bakyt)
    document = (await files_of(bakyt))[1][0]["document"]
    assert isinstance(document, dict)
    book = load_workbook(io.BytesIO(await bakyt.client.file(str(document["file_id"]))))
    summary = list(book.worksheets[0].iter_rows(values_only=True))
    assert (t("ru", "Responded"), 3) in [row[:2] for row in summary]
