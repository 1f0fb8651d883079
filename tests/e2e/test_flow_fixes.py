"""Smaller things staff met in the flows (issue 13, item 10): the comment deadline of a draft law
is picked on a calendar; the progress report says in words how many acknowledged in each
district; every rating offers its stars in one style."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.flows.dates import BISHKEK, end_of_day
from bot.i18n import format_when, in_locale
from bot.services import broadcasts
from bot.services.broadcasts import Audience, Draft
from bot.views import events as event_views
from bot.views import legal as legal_views
from bot.views.callbacks import Bc
from storage.enums import BroadcastKind
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
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member


async def test_staff_pick_the_comment_deadline_of_a_draft_law_on_a_calendar(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await boss.send("/broadcast")
    await said(boss, t("ru", "New broadcast. What kind is it?"))
    await press(boss, pick("bk", "draft"))
    await said(boss, t("ru", "Send the title on two or three lines"))
    await boss.send("Мыйзам долбоору\nПроект закона о бюджете")
    for text in ("Долбоор талкууга коюлат.", "Проект выносится на обсуждение."):
        await said(boss, t("ru", "Send the text in {language}"))
        await boss.send(text)
    await said(boss, t("ru", "Send the text in {language}"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send documents to attach"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send the link to the source"))
    await press(boss, nav("skip"))
    calendar = await said(boss, t("ru", "Until when may members comment? Pick a day"))
    today = utcnow().astimezone(BISHKEK).date()
    offered = [data for _label, data in buttons(calendar)]
    assert pick("bld", f"{today.year}-{today.month}-{today.day}") in offered  # today, in Bishkek
    yesterday = today - timedelta(days=1)
    assert pick("bld", f"{yesterday.year}-{yesterday.month}-{yesterday.day}") not in offered

    for forged in ("2027-02-31", "2027-2", "9999-12-1", "²-1-1", "x"):
        await boss.press_data(int(calendar["message_id"]), pick("bld", forged))
        assert t("ru", "This button is no longer active.") in str(await boss.answer()), forged
    await boss.press_data(int(calendar["message_id"]), pick("blm", "9999-1"))
    assert t("ru", "This button is no longer active.") in str(await boss.answer())

    forward = next(data for label, data in buttons(calendar) if label == "▶")
    await boss.press_data(int(calendar["message_id"]), forward)  # the next month
    shown = await said(boss, t("ru", "Until when may members comment? Pick a day"))
    day = (today.replace(day=1) + timedelta(days=32)).replace(day=15)
    assert forward == pick("blm", f"{day.year}-{day.month}")
    assert any(label == "◀" for label, _data in buttons(shown))
    await boss.press_data(int(shown["message_id"]), pick("bld", f"{day.year}-{day.month}-15"))
    await said(boss, t("ru", "Who should receive it?"))
    await press(boss, pick("ba", "done"))
    with in_locale("ru"):
        until = format_when(end_of_day(day), "ru")
    await said(boss, t("ru", "Comments are open until {when}.", when=until))


async def test_the_progress_report_says_in_words_who_acknowledged(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    nurlan, nurlan_id = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.NEWS, title="Новость Союза", title_ky="Союздун жаңылыгы",
        text_ky="Жаңылык.", text_ru="Новость.", audience=Audience(members=[asel_id, nurlan_id])))
    got = await said(asel, "Новость.")
    await said(nurlan, "Жаңылык.")
    await asel.press(Bc(action="ack", broadcast_id=sent.broadcast_id).pack(), got)

    async def delivered() -> bool:
        r = await broadcasts.report(db, staff_id, sent.broadcast_id)
        return r.finished and r.acknowledged == 1
    await wait_for(delivered)
    await boss.send("/broadcasts")
    await said(boss, t("ru", "Recent broadcasts:"))
    await boss.press(Bc(action="report", broadcast_id=sent.broadcast_id).pack())
    report = text_of(await said(boss, t("ru", "Sent {sent} of {total}", sent=2, total=2)))
    assert t("ru", "{place}: sent {sent} of {total}, acknowledged: {acknowledged}",
             place="Лейлекский район (Баткенская область)", sent=2, total=2,
             acknowledged=1) in report
    assert "✓" not in report and not re.search(r"\d+/\d+", report)


def test_every_rating_offers_its_stars_in_one_style() -> None:
    rows = [event_views.rating_row(7), legal_views.rating_row(7)]
    for row in rows:
        assert [b.text for b in row] == [f"{n}⭐" for n in range(1, 6)]
