"""Handler errors found by trying Birge as staff and moderators: each now gets an answer that
fits, never "an error on our side" and never an ERROR in the log."""

from __future__ import annotations

import logging

import pytest

from bot.services import members
from bot.views.callbacks import Menu
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, nav, pick, press, said, t


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_staff_with_no_region_who_becomes_head_of_aiyl_okmotu_is_asked_the_place(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture
) -> None:
    db = birge.db
    person = await people("Aida", "ru")
    staff_id = await f.staff(db, person.user_id, "Аида Токтогулова", language="ru")
    await person.send("/profile")
    await said(person, "Аида Токтогулова")
    await press(person, Menu(item="edit_position").pack())
    await said(person, t("ru", "What is your position?"))
    await press(person, pick("position", "head_ao"))
    await said(person, t("ru", "Choose your region."))
    leylek = await f.district_id(db, "leylek")
    await press(person, pick("region", await f.region_of(db, leylek)))
    await said(person, t("ru", "Choose your district."))
    await press(person, pick("district", leylek))
    await said(person, t("ru", "Choose your municipality."))
    await press(person, pick("municipality", await f.municipality_id(db, "katran")))
    await said(person, "Аида Токтогулова", "Катран")
    found = await members.by_id(db, staff_id)
    assert found is not None
    assert (found.position.value, found.district_id) == ("head_ao", leylek)
    assert not errors(caplog)


async def test_an_audience_button_for_a_dimension_that_does_not_exist_is_stale(
    birge: Running, people: PersonFactory, caplog: pytest.LogCaptureFixture
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    await boss.send("/broadcast")
    await said(boss, t("ru", "New broadcast. What kind is it?"))
    await press(boss, pick("bk", "law"))
    await said(boss, t("ru", "Send the title on two or three lines"))
    await boss.send("Жергиликтүү өз алдынча башкаруу жөнүндө мыйзам\n"
                    "Закон о местном самоуправлении")
    for text in ("Жогорку Кеңеш мыйзамды кабыл алды.", "Жогорку Кенеш принял закон."):
        await said(boss, t("ru", "Send the text in {language}"))
        await boss.send(text)
    await said(boss, t("ru", "Send the text in {language}"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send documents to attach"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send the link to the source"))
    await boss.send("https://cbd.minjust.gov.kg/act/view/ru-ru/112")
    shown = await said(boss, t("ru", "Who should receive it?"))
    for forged in ("bt_zz", "bt_", "bt"):
        await boss.press_data(int(shown["message_id"]), pick(forged, 1))
        assert t("ru", "This button is no longer active.") in str(await boss.answer())
    assert not errors(caplog)
