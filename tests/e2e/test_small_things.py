"""Smaller things a member or staff met (issue 13, item 10)."""

from __future__ import annotations

from bot.services import broadcasts
from bot.services.broadcasts import Audience, Draft
from bot.views.callbacks import Lq, Pick
from storage.enums import BroadcastKind
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, buttons, nav, press, said, t, wait_for
from tests.e2e.journeys import member


async def test_a_finished_broadcast_is_listed_as_finished_not_sending(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.NEWS, title="Новость Союза", title_ky="Союздун жаңылыгы",
        text_ky="Жаңылык.", text_ru="Новость.", audience=Audience(members=[asel_id])))
    await said(asel, "Новость.")

    async def delivered() -> bool:
        return (await broadcasts.report(db, staff_id, sent.broadcast_id)).finished
    await wait_for(delivered)
    await boss.send("/broadcasts")
    listed = await said(boss, t("ru", "Recent broadcasts:"))
    label = next(text for text, _ in buttons(listed) if f"B-{sent.broadcast_id}" in text)
    assert t("ru", "finished") in label and t("ru", "sending") not in label


async def test_a_day_that_does_not_exist_is_called_so(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/lawyer")
    await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await press(asel, Lq(view="ask").pack())
    await said(asel, t("ru", "What is your legal question about?"))
    await press(asel, Pick(step="lcat", value="budget").pack())
    await said(asel, t("ru", "Describe what happened"))
    await asel.send("Районная налоговая требует вернуть земельный налог за прошлый год.")
    await said(asel, t("ru", "Which act or decision is in question?"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Is there a deadline?"))
    await asel.send("31.02.2027")
    await said(asel, t("ru", "There is no such date."))
    await asel.send("01.01.2020")
    await said(asel, t("ru", "Please send a future date, for example 25.12.2026."))
