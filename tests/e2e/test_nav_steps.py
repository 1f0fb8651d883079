"""Back, Skip and Cancel act on the step they were shown for.

A member scrolls up (or comes back after a restart) and presses Back or Skip on a message of an
earlier step: nothing changes, Birge says the button is no longer active and shows the step she
is on. Cancel on an older message of the same flow still cancels it; a Cancel left on another
flow's message never cancels the one going on now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.flows import steps
from bot.handlers import routers
from bot.sandbox.client import Person
from bot.views.callbacks import Gr, Lq, Menu, Nav
from storage.db import Database
from storage.enums import Position
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import JSON, PersonFactory, Running, nav, pick, press, said, t
from tests.e2e.journeys import member

NO_LONGER_ACTIVE = "This button is no longer active."


def in_a_month() -> str:
    """A deadline a month from the real today, as a member types it."""
    return (utcnow() + timedelta(days=30)).strftime("%d.%m.%Y")


async def press_on(person: Person, message: JSON, label: str, lang: str) -> str:
    """Press the button labelled `label` on an older message; what Birge answered the press."""
    await person.press(label, message)
    return str(await person.answer())


def back(lang: str) -> str:
    return "⬅️ " + t(lang, "Back")


def cancel(lang: str) -> str:
    return "✖️ " + t(lang, "Cancel")


async def join_up_to_the_district(person: Person, db: Database) -> JSON:
    """A head of aiyl okmotu joins in Kyrgyz up to the district step; the name step's message."""
    await person.send("/start")
    await said(person, t("ky", "Choose your language."))
    await press(person, pick("language", "ky"))
    name_step = await said(person, t("ky", "Please send your full name ("))
    await person.send("Айгүл Осмонова")
    await said(person, t("ky", "What is your position?"))
    await press(person, pick("position", Position.HEAD_AO.value))
    await said(person, t("ky", "Choose your region."))
    await press(person, pick("region", await f.region_of(db, await f.district_id(db, "leylek"))))
    await said(person, t("ky", "Choose your district."))
    return name_step


async def finishes_joining_from_the_district(person: Person, db: Database) -> None:
    """She goes on from the district step as if the old press had never happened."""
    await press(person, pick("district", await f.district_id(db, "leylek")))
    await said(person, t("ky", "Choose your municipality."))
    await press(person, pick("municipality", await f.municipality_id(db, "sumbula")))
    await said(person, t("ky", "Which practice communities"))
    await press(person, nav("done"))
    check = await said(person, t("ky", "To take part, Birge keeps your name"))
    assert "Айгүл Осмонова" in str(check.get("text"))


async def test_a_head_of_aiyl_okmotu_scrolls_up_and_presses_back_on_the_name_step_while_at_the_district_step(  # noqa: E501
    birge: Running, people: PersonFactory
) -> None:
    aigul = await people("Айгүл", "ky")
    name_step = await join_up_to_the_district(aigul, birge.db)

    answered = await press_on(aigul, name_step, back("ky"), "ky")

    assert t("ky", NO_LONGER_ACTIVE) in answered
    await said(aigul, t("ky", "Choose your district."))  # nothing changed: the same step again
    await finishes_joining_from_the_district(aigul, birge.db)


async def test_after_a_restart_back_on_the_name_step_shows_the_district_step_and_back_on_it_still_works(  # noqa: E501
    birge: Running, people: PersonFactory
) -> None:
    aigul = await people("Айгүл", "ky")
    name_step = await join_up_to_the_district(aigul, birge.db)
    district_step = aigul.last_bot_message()
    assert district_step is not None

    await birge.restart()
    answered = await press_on(aigul, name_step, back("ky"), "ky")
    assert t("ky", NO_LONGER_ACTIVE) in answered
    await said(aigul, t("ky", "Choose your district."))

    # The district step's own Back (on the message that showed it before the restart) works.
    await press_on(aigul, district_step, back("ky"), "ky")
    await said(aigul, t("ky", "Choose your region."))


async def ask_the_lawyers_up_to_the_deadline(person: Person) -> JSON:
    """A finance officer asks the lawyers up to the deadline step; the act step's message."""
    await person.send("/start")
    await said(person, t("ru", "Hello, {name}!"))
    await press(person, Menu(item="legal").pack())
    await said(person, t("ru", "Legal help from the Union's lawyers."))
    await press(person, Lq(view="ask").pack())
    await said(person, t("ru", "What is your legal question about?"))
    await press(person, pick("lcat", "budget"))
    await said(person, t("ru", "Describe what happened"))
    await person.send("Районная налоговая требует вернуть земельный налог за прошлый год.")
    act_step = await said(person, t("ru", "Which act or decision is in question?"))
    await person.send("Письмо налоговой службы № 45 от 10.11.2026")
    await said(person, t("ru", "Is there a deadline?"))
    return act_step


async def test_a_finance_officer_presses_skip_on_the_act_step_while_at_the_deadline_step(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", position=Position.FINANCE)
    act_step = await ask_the_lawyers_up_to_the_deadline(asel)

    answered = await press_on(asel, act_step, t("ru", "Skip") + " ➡️", "ru")

    assert t("ru", NO_LONGER_ACTIVE) in answered
    await said(asel, t("ru", "Is there a deadline?"))  # "no deadline" was not taken
    await asel.send(in_a_month())
    await said(asel, t("ru", "Send documents if you have them"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", "Do you agree that your request"))
    await press(asel, pick("lok", "yes"))
    check = await said(asel, t("ru", "Please check your request:"))
    assert "Письмо налоговой службы № 45" in str(check.get("text"))  # the act was kept


async def test_after_a_restart_skip_on_the_act_step_does_not_skip_the_deadline(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", position=Position.FINANCE)
    act_step = await ask_the_lawyers_up_to_the_deadline(asel)

    await birge.restart()
    answered = await press_on(asel, act_step, t("ru", "Skip") + " ➡️", "ru")

    assert t("ru", NO_LONGER_ACTIVE) in answered
    await said(asel, t("ru", "Is there a deadline?"))
    await asel.send(in_a_month())
    await said(asel, t("ru", "Send documents if you have them"))


async def test_cancel_on_an_older_step_of_the_same_request_still_cancels_it(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", position=Position.FINANCE)
    act_step = await ask_the_lawyers_up_to_the_deadline(asel)

    await press_on(asel, act_step, cancel("ru"), "ru")

    await said(asel, t("ru", "Cancelled. Nothing was sent."))
    await asel.send("/continue")
    await said(asel, t("ru", "There is nothing to continue."))


async def test_cancel_left_on_a_problem_she_dropped_does_not_cancel_her_request_to_the_lawyers(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", position=Position.FINANCE)
    await asel.send("/raise")
    await said(asel, t("ru", "Raise a problem to the national level."))
    await asel.send("Земельный налог на пастбища")
    topic_step = await said(asel, t("ru", "Which topic is it?"))
    await asel.send("/cancel")  # she drops the problem; its message keeps its buttons
    await said(asel, t("ru", "Cancelled."))
    await ask_the_lawyers_up_to_the_deadline(asel)

    answered = await press_on(asel, topic_step, cancel("ru"), "ru")

    assert t("ru", NO_LONGER_ACTIVE) in answered
    await said(asel, t("ru", "Is there a deadline?"))  # the request goes on where it was
    await asel.send(in_a_month())
    await said(asel, t("ru", "Send documents if you have them"))


async def test_a_back_from_before_birge_was_updated_carries_no_step_and_changes_nothing(
    birge: Running, people: PersonFactory
) -> None:
    aigul = await people("Айгүл", "ky")
    await join_up_to_the_district(aigul, birge.db)
    district_step = aigul.last_bot_message()
    assert district_step is not None

    # A message sent by the older Birge said only "back"; a flow that does not carry its step
    # yet (bot/handlers/) says "back" with no step.
    for data in ("n:back", Nav(action="back").pack()):
        await aigul.press_data(int(district_step["message_id"]), data)
        assert t("ky", NO_LONGER_ACTIVE) in str(await aigul.answer())
        await said(aigul, t("ky", "Choose your district."))
    await finishes_joining_from_the_district(aigul, birge.db)


async def test_staff_press_skip_on_the_english_name_while_choosing_who_may_join_a_new_group(
    birge: Running, people: PersonFactory
) -> None:
    boss = await people("Staff", "ru")
    await f.staff(birge.db, boss.user_id, "Сотрудник Союза", language="ru")
    await boss.send("/groups")
    await said(boss, t("ru", "Topic groups."))
    await press(boss, Gr(action="new", group_id=0).pack())
    await said(boss, t("ru", "Send the group's name in Kyrgyz"))
    await boss.send("Айыл чарба")
    await said(boss, t("ru", "Now the name in Russian."))
    await boss.send("Сельское хозяйство")
    english_step = await said(boss, t("ru", "Now the name in English, or skip."))
    await boss.send("Agriculture")
    await said(boss, t("ru", "Send a short description"))
    await boss.send("Пастбища, вода для полива, ветеринария.")
    await said(boss, t("ru", "Who may join the group?"))

    answered = await press_on(boss, english_step, t("ru", "Skip") + " ➡️", "ru")

    assert t("ru", NO_LONGER_ACTIVE) in answered  # the new group is not cancelled
    await said(boss, t("ru", "Who may join the group?"))
    await press(boss, pick("gc", "all"))
    await said(boss, "Сельское хозяйство", t("ru", "No moderators yet."))


@pytest.mark.parametrize("action", ["back", "cancel", "done", "skip"])
def test_every_step_of_every_flow_fits_its_buttons_in_telegrams_64_bytes(action: str) -> None:
    routers()  # every flow registers itself as its module is imported
    assert steps.tracked_states(), "no flow carries its step on its buttons"
    for raw in steps.tracked_states():
        flow, _sep, step = raw.partition(":")
        data = Nav(action=action, flow=flow, step=step).pack()
        assert len(data.encode()) <= 64, data
        assert steps.fits(Nav.unpack(data), raw)
