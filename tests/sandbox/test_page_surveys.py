"""A survey and a quick poll on the sandbox page, on a phone-sized screen: the Leylek finance
officer answers the trust survey with the buttons and a typed answer, then votes in the native
poll."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from bot.sandbox.server import Sandbox
from tests.sandbox.test_page import (  # noqa: F401  (module fixtures: one sandbox, one browser)
    become,
    bot_message,
    browser,
    no_errors,
    open_page,
    sandbox,
    send,
    shot,
    tap,
    tr,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_member_answers_a_survey_and_votes_in_a_poll_on_a_phone(
        browser: Browser, sandbox: Sandbox) -> None:  # noqa: F811
    page = await open_page(browser, sandbox)
    await become(page, "leylek_finance")
    invite = bot_message(page, "Доверие местной власти")
    await expect(invite).to_be_visible()
    await tap(page, "Доверие местной власти", "▶️ " + tr("ru", "Answer the survey"))
    question = bot_message(page, "Насколько Вы доверяете айыл окмоту?")
    await expect(question).to_contain_text("1/3")
    await question.get_by_role("button", name="8", exact=True).click()
    await expect(bot_message(page, "Было ли в этом году собрание жителей?")).to_contain_text(
        "2/3")
    await tap(page, "Было ли в этом году собрание жителей?", "Да")
    await expect(bot_message(page, "Что повысит доверие?")).to_be_visible()
    await send(page, "Отчёты на сходах.")
    summary = bot_message(page, tr("ru", "Please check your answers and confirm."))
    await expect(summary).to_contain_text("Отчёты на сходах.")
    await shot(page, "survey-summary")
    await tap(page, tr("ru", "Please check your answers and confirm."),
              "✅ " + tr("ru", "Confirm and send"))
    await expect(bot_message(page, tr("ru", "Your answers are saved."))).to_be_visible()

    poll = page.locator("#messages [data-testid='poll']", has_text="Когда удобно обучение")
    await expect(poll).to_be_visible()
    await poll.get_by_role("button", name="Пятница").click()
    await expect(poll.get_by_role("button", name="Пятница")).to_contain_text("1")
    await shot(page, "poll")
    no_errors(page)
    await page.context.close()
