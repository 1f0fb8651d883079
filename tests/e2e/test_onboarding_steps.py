"""Joining as a newcomer sees it (issue 13, item 8): a step counter whose total stays put, the
answers to check before consenting, and /help in the middle says how to continue."""

from __future__ import annotations

import re

from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, nav, pick, press, said, t, text_of


def counter(message: dict[str, object]) -> tuple[int, int]:
    found = re.match(r"\((\d+)/(\d+)\)", text_of(message))
    assert found, f"no step counter in {text_of(message)!r}"
    return int(found.group(1)), int(found.group(2))


async def test_the_step_counter_keeps_its_total_and_the_answers_are_shown_before_consent(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    d = await f.district_id(db, "leylek")
    nurlan = await people("Nurlan", "ru")
    seen = []
    await nurlan.send("/start")
    seen.append(counter(await said(nurlan, t("ru", "Choose your language."))))
    await press(nurlan, pick("language", "ru"))
    name_step = t("ru", "Please send your full name (first name and surname).")
    seen.append(counter(await said(nurlan, name_step)))
    await nurlan.send("Нурлан Абдылдаев")
    seen.append(counter(await said(nurlan, t("ru", "What is your position?"))))
    await press(nurlan, pick("position", "head_ao"))
    seen.append(counter(await said(nurlan, t("ru", "Choose your region."))))
    await press(nurlan, pick("region", await f.region_of(db, d)))
    seen.append(counter(await said(nurlan, t("ru", "Choose your district."))))
    await press(nurlan, pick("district", d))
    seen.append(counter(await said(nurlan, t("ru", "Choose your municipality."))))
    await press(nurlan, pick("municipality", await f.municipality_id(db, "katran")))
    seen.append(counter(await said(nurlan, t("ru", "Which practice communities"))))
    await press(nurlan, nav("done"))
    consent = await said(nurlan, t("ru", "To take part, Birge keeps your name"))
    seen.append(counter(consent))
    assert seen == [(n, 8) for n in range(1, 9)]

    # Before agreeing, the newcomer sees what they answered.
    text = text_of(consent)
    assert t("ru", "Please check your answers:") in text
    for answer in ("Нурлан Абдылдаев", t("ru", "Head of aiyl okmotu"), "Русский"):
        assert answer in text, answer
    assert text.index("Нурлан Абдылдаев") < text.index(t("ru", "To take part"))


async def test_help_in_the_middle_of_joining_says_how_to_continue(
    birge: Running, people: PersonFactory
) -> None:
    aizada = await people("Aizada", "ky")
    await aizada.send("/start")
    await said(aizada, t("ky", "Choose your language."))
    await press(aizada, pick("language", "ky"))
    await said(aizada, t("ky", "Please send your full name (first name and surname)."))
    await aizada.send("/help")
    await said(aizada, t("ky", "Birge connects the local self-government bodies"))
    await said(aizada, t("ky", "You are in the middle of: {flow}.",
                         flow=t("ky", "joining Birge")),
               t("ky", "Continue with the step below, or send /cancel to stop."))
    again = await said(aizada, t("ky", "Please send your full name (first name and surname)."))
    assert counter(again) == (2, 8)
    await aizada.send("Айзада Бекова")
    await said(aizada, t("ky", "What is your position?"))
