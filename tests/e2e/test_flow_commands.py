"""A command typed in the middle of a guided flow is never taken as an answer (issue 13, item 1).

The same rule in every flow: a known command leaves the flow and keeps the draft for /continue,
/help and /start say how to go on and show the step again, an unknown command is refused."""

from __future__ import annotations

from bot.flows.steps import read_nav
from bot.sandbox.client import Person
from bot.views.callbacks import Lq, Pick
from storage.enums import Position
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    nav,
    navs,
    pick,
    press,
    said,
    silent,
    t,
    text_of,
)
from tests.e2e.journeys import member

# The anonymity step of /ask (its start is shared by an older catalog entry).
NAME_STEP = ("Show your name with the question? If you ask anonymously, only the group's "
             "moderators and")

QUESTION = "Как утвердить изменения местного бюджета в середине года после трансферта?"


async def at_the_question_step(birge: Running, people: PersonFactory) -> Person:
    """A finance officer who began /ask, chose the budget group and is to write her question."""
    budget = await f.group_id(birge.db, "budget")
    asel, _ = await member(people, birge, "Асель Маматова", "ru", position=Position.FINANCE)
    await asel.send("/ask")
    await said(asel, t("ru", "In which group do you want to ask?"))
    await press(asel, pick("qg", budget))
    await said(asel, t("ru", "Write your question"))
    return asel


async def to_the_legal_description(asel: Person) -> None:
    """From the lawyers' menu to the legal request's description step."""
    await press(asel, Lq(view="ask").pack())
    await said(asel, t("ru", "What is your legal question about?"))
    await press(asel, Pick(step="lcat", value="budget").pack())
    await said(asel, t("ru", "Describe what happened"))


async def test_search_typed_at_the_question_step_searches_and_keeps_the_question(
    birge: Running, people: PersonFactory
) -> None:
    asel = await at_the_question_step(birge, people)

    await asel.send("/search бюджет")
    found = await said(asel, t("ru", "Nothing found for “{query}”.", query="бюджет"))
    assert t("ru", "Check your question:") not in text_of(found)
    await said(asel, t("ru", "Kept for later: {flow}.", flow=t("ru", "your question")))

    # /continue brings the question back at the step it was on; the group is still chosen.
    await asel.send("/continue")
    await said(asel, t("ru", "Write your question"))
    await asel.send(QUESTION)
    await said(asel, t("ru", "You may attach up to"))
    await press(asel, nav("skip"))
    await said(asel, t("ru", NAME_STEP))
    await press(asel, pick("qa", "no"))
    check = await said(asel, t("ru", "Check your question:"))
    assert QUESTION in text_of(check) and "/search" not in text_of(check)


async def test_settings_typed_at_the_question_step_opens_settings_not_a_length_refusal(
    birge: Running, people: PersonFactory
) -> None:
    budget = await f.group_id(birge.db, "budget")
    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/ask")
    await said(asel, t("ru", "In which group do you want to ask?"))
    await press(asel, pick("qg", budget))
    await said(asel, t("ru", "Write your question"))
    await asel.send("/settings")
    await said(asel, t("ru", "Notifications you get (tap to switch):"))
    await said(asel, t("ru", "Kept for later: {flow}.", flow=t("ru", "your question")))


async def test_the_legal_intake_takes_no_command_as_the_description(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/lawyer")
    await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await to_the_legal_description(asel)
    await asel.send("/issues")
    await said(asel, t("ru", "Kept for later: {flow}.",
                       flow=t("ru", "your request to the lawyers")))
    await asel.send("/continue")
    await said(asel, t("ru", "Describe what happened"))


async def test_help_and_start_in_the_middle_say_how_to_go_on_and_show_the_step_again(
    birge: Running, people: PersonFactory
) -> None:
    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/raise")
    await said(asel, t("ru", "Raise a problem to the national level."))
    for command in ("/help", "/start"):
        await asel.send(command)
        await said(asel, t("ru", "You are in the middle of: {flow}.",
                           flow=t("ru", "the problem you are raising")))
        prompt = await said(asel, t("ru", "Raise a problem to the national level."))
        assert "cancel" in navs(prompt)
    await asel.send("/frobnicate")
    await said(asel, t("ru", "Birge has no such command."),
               t("ru", "Continue with the step below"))
    await said(asel, t("ru", "Raise a problem to the national level."))
    # The draft was never touched: a proper title is still taken at this step.
    await asel.send("Налог на землю пастбищ")
    await said(asel, t("ru", "Which topic is it?"))


async def test_the_step_shown_again_after_help_has_buttons_that_still_work(
    birge: Running, people: PersonFactory
) -> None:
    """The step /help shows again carries its step on Back / Cancel like any other: pressing
    Cancel there cancels, not "This button is no longer active"."""
    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/raise")
    await said(asel, t("ru", "Raise a problem to the national level."))
    await asel.send("/help")
    await said(asel, t("ru", "You are in the middle of: {flow}.",
                       flow=t("ru", "the problem you are raising")))
    prompt = await said(asel, t("ru", "Raise a problem to the national level."))
    cancel = next(data for _text, data in buttons(prompt)
                  if (found := read_nav(data)) is not None and found.action == "cancel")
    assert read_nav(cancel).flow  # type: ignore[union-attr]
    await asel.press(cancel, prompt)
    await said(asel, t("ru", "Cancelled. Nothing was raised."))


async def test_continue_with_nothing_set_aside_says_so(
    birge: Running, people: PersonFactory
) -> None:

    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/continue")
    await said(asel, t("ru", "There is nothing to continue."))


async def test_after_a_wrong_date_the_next_step_comes_below_not_edited_far_up(
    birge: Running, people: PersonFactory
) -> None:
    """Item 5: the calendar message is no longer the chat's last one, so the next step's prompt
    is sent anew at the bottom instead of being edited into the calendar above."""
    from bot.flows.legal_intake import _today

    asel, _ = await member(people, birge, "Асель Маматова", "ru")
    await asel.send("/lawyer")
    await said(asel, t("ru", "Legal help from the Union's lawyers."))
    await to_the_legal_description(asel)
    await asel.send("Районная налоговая требует вернуть земельный налог за прошлый год.")
    await said(asel, t("ru", "Which act or decision is in question?"))
    await press(asel, nav("skip"))
    calendar = await said(asel, t("ru", "Is there a deadline?"))
    await asel.send("вчера")
    complaint = await said(asel, "25.12.2026")
    day = _today().isoformat()
    await asel.press_data(int(calendar["message_id"]), Pick(step="ldd", value=day).pack())
    step = await said(asel, t("ru", "Send documents if you have them"))
    assert int(step["message_id"]) > int(complaint["message_id"])



async def test_a_question_kept_for_later_survives_a_search_and_another_command(
    birge: Running, people: PersonFactory
) -> None:
    """Search results are no flow: a command typed under them neither sets them aside (over the
    question kept before) nor says "kept for later" or "you are in the middle of" about them."""
    asel = await at_the_question_step(birge, people)

    await asel.send("/search бюджет")
    await said(asel, t("ru", "Kept for later: {flow}.", flow=t("ru", "your question")))
    await asel.send("/help")
    await said(asel, "/profile")
    await silent(asel)  # no "you are in the middle of" about the results
    await asel.send("/profile")
    await said(asel, "Асель Маматова")
    await silent(asel)  # no "kept for later" about the results

    await asel.send("/continue")
    await said(asel, t("ru", "Write your question"))
    await asel.send(QUESTION)
    await said(asel, t("ru", "You may attach up to"))


async def test_three_flows_set_aside_come_back_newest_first_and_none_is_lost(
    birge: Running, people: PersonFactory
) -> None:
    """A question, then a problem being raised, then a legal request: each left for another
    command is kept, and /continue brings them back newest first (one slot lost the older)."""
    asel = await at_the_question_step(birge, people)
    await asel.send("/raise")
    await said(asel, t("ru", "Kept for later: {flow}.", flow=t("ru", "your question")))
    await asel.send("/lawyer")
    await said(asel, t("ru", "Kept for later: {flow}.",
                       flow=t("ru", "the problem you are raising")))
    await to_the_legal_description(asel)
    await asel.send("/profile")
    await said(asel, t("ru", "Kept for later: {flow}.",
                       flow=t("ru", "your request to the lawyers")))

    await asel.send("/continue")
    await said(asel, t("ru", "Describe what happened"))
    await asel.send("/cancel")
    await asel.send("/continue")
    await said(asel, t("ru", "Raise a problem to the national level."))
    await asel.send("/cancel")
    await asel.send("/continue")
    await said(asel, t("ru", "Write your question"))
    await asel.send(QUESTION)
    await said(asel, t("ru", "You may attach up to"))
    await asel.send("/cancel")
    await asel.send("/continue")
    await said(asel, t("ru", "There is nothing to continue."))


async def test_a_fourth_flow_set_aside_drops_the_oldest_and_says_so(
    birge: Running, people: PersonFactory
) -> None:
    asel = await at_the_question_step(birge, people)
    await asel.send("/raise")
    await said(asel, t("ru", "Raise a problem to the national level."))
    await asel.send("/lawyer")
    await said(asel, t("ru", "Kept for later: {flow}.",
                       flow=t("ru", "the problem you are raising")))
    await press(asel, Lq(view="ask").pack())
    await said(asel, t("ru", "What is your legal question about?"))
    await asel.send("/ask")
    await said(asel, t("ru", "In which group do you want to ask?"))
    await asel.send("/settings")
    note = await said(asel, t("ru", "Kept for later: {flow}.", flow=t("ru", "your question")))
    assert t("ru", "At most three are kept, so this one is kept no longer: {flow}.",
             flow=t("ru", "your question")) in text_of(note)


async def test_the_step_after_a_notice_comes_below_it_not_edited_far_up(
    birge: Running, people: PersonFactory
) -> None:
    """A notice the outbox sends in the middle of a flow is the chat's last message: the next
    step comes below it, where the staff member looks, not edited into the message above it."""
    boss = await people("Staff", "ru")
    await f.staff(birge.db, boss.user_id, "Кызматкер", language="ru")
    await boss.send("/broadcast")
    kinds = await said(boss, t("ru", "New broadcast. What kind is it?"))
    await f.applicant(birge.db, "Нурлан Абдылдаев")  # a newcomer: the staff member is told
    notice = await said(boss, t("ru", "A newcomer asks to join Birge:"))
    await boss.press_data(int(kinds["message_id"]), Pick(step="bk", value="news").pack())
    step = await said(boss, t("ru", "Send the title on two or three lines"))
    assert int(step["message_id"]) > int(notice["message_id"])
