"""After a restart, a button pressed on an older step of any guided flow is answered "no longer
active" and shows the step the member is on (its prompt may have been lost to the restart): the
flow's own buttons from an earlier step, and buttons nothing handles any more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.sandbox.client import Person
from bot.services import questions
from bot.services.questions import QuestionDraft
from bot.views.callbacks import Gr
from bot.views.events import EvL
from bot.views.library import LibMenu
from bot.views.surveys import Sv, Svr
from tests import factories as f
from tests import survey_helpers
from tests.e2e.conftest import PersonFactory, Running, pick, press, said, t
from tests.e2e.test_questions import BUDGET_Q, qn


@dataclass
class Walked:
    """Where a walk left the member: the step's prompt, and an older step's button."""

    prompt: str
    stale: str


Walk = Callable[[Running, Person], Awaitable[Walked]]


async def event_compose(birge: Running, person: Person) -> Walked:
    await f.staff(birge.db, person.user_id, "Айгерим Касымова", language="ru")
    await person.send("/events")
    await said(person, t("ru", "Events: webinars"))
    await press(person, EvL(view="new").pack())
    await said(person, t("ru", "New event. What kind is it?"))
    await press(person, pick("ek", "webinar"))
    prompt = t("ru", "Send the event's title in {language}")
    await said(person, prompt)
    return Walked(prompt, pick("ek", "webinar"))


async def library_propose(birge: Running, person: Person) -> Walked:
    await f.member(birge.db, "Айзада Токтосунова", telegram_id=person.user_id, language="ru",
                   district="leylek", communities=("finance",))
    await person.send("/library")
    await said(person, t("ru", "The library: practices"))
    await press(person, LibMenu(item="propose").pack())
    prompt = t("ru", "Which topic group is it for?")
    await said(person, prompt)
    return Walked(prompt, pick("yk", "legal_act"))


async def survey_build(birge: Running, person: Person) -> Walked:
    await f.staff(birge.db, person.user_id, "Айгерим Касымова", language="ru")
    await person.send("/surveys")
    await said(person, t("ru", "No open surveys for you now."))
    await press(person, Svr(action="new", survey_id=0).pack())
    prompt = t("ru", "Send the title: the first line in Kyrgyz")
    await said(person, prompt)
    return Walked(prompt, pick("sq", "single"))


async def survey_answer(birge: Running, person: Person) -> Walked:
    db = birge.db
    await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    boss = await f.staff(db)
    sid = await survey_helpers.create(db, boss)
    await said(person, "Потребности муниципалитетов")  # the invitation
    await press(person, Sv(action="open", survey_id=sid).pack())
    prompt = "Хватает ли бюджета?"
    await said(person, prompt)
    return Walked(prompt, pick("qg", 1))


async def invite(birge: Running, person: Person) -> Walked:
    await f.staff(birge.db, person.user_id, "Айгерим Касымова", language="ru")
    await person.send("/invite")
    await said(person, t("ru", "Whom do you invite? Choose the role."))
    await press(person, pick("i_role", "member"))
    prompt = t("ru", "Choose the region.")
    await said(person, prompt)
    return Walked(prompt, pick("i_role", "member"))


async def group_admin(birge: Running, person: Person) -> Walked:
    await f.staff(birge.db, person.user_id, "Айгерим Касымова", language="ru")
    await person.send("/groups")
    await said(person, t("ru", "Topic groups. ⭐️ marks"))
    await press(person, Gr(action="new", group_id=0).pack())
    await said(person, t("ru", "Send the group's name in Kyrgyz"))
    await person.send("Жергиликтүү бюджет")
    prompt = t("ru", "Now the name in Russian.")
    await said(person, prompt)
    return Walked(prompt, pick("gc", "all"))


async def reply(birge: Running, person: Person) -> Walked:
    db = birge.db
    await f.moderator(db, "Гульнара Бекова", "budget", telegram_id=person.user_id,
                      language="ru")
    asker = await f.member(db, "Асель Маматова")
    group = await f.group_id(db, "budget")
    qid = await questions.ask_question(db, asker.id, QuestionDraft(group, BUDGET_Q))
    await said(person, f"Q-{qid}")  # the moderators' notice
    await press(person, qn("answer", qid))
    prompt = t("ru", "Write your answer to {label}")
    await said(person, prompt)
    return Walked(prompt, pick("qg", group))


FLOWS = [event_compose, library_propose, survey_build, survey_answer, invite, group_admin,
         reply]


@pytest.mark.parametrize("walk", FLOWS, ids=[w.__name__ for w in FLOWS])
async def test_a_stale_press_after_a_restart_shows_the_step_the_member_is_on(
    birge: Running, people: PersonFactory, walk: Walk
) -> None:
    person = await people("Асель", "ru")
    walked = await walk(birge, person)
    last = person.last_bot_message()
    assert last is not None
    await birge.restart()
    await person.press_data(int(last["message_id"]), walked.stale)
    assert t("ru", "This button is no longer active.") in str(await person.answer())
    await said(person, walked.prompt)
