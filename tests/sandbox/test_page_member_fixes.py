"""Issue 13 on the sandbox page, phone-sized: a command typed mid-flow (item 1), a visitor's
language and command menu (item 3), the Kyrgyz preview of a broadcast (item 4) and joining with a
steady step counter and a summary (item 8). Screenshots go to test-output/.

A module of its own: a fresh sandbox, so the visitor persona has not joined yet."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from bot.sandbox.server import Sandbox
from bot.services import reference
from tests import factories as f
from tests.sandbox import test_page as page_kit

pytestmark = pytest.mark.asyncio(loop_scope="module")

sandbox = page_kit.sandbox
browser = page_kit.browser
open_page, become, send, tap = page_kit.open_page, page_kit.become, page_kit.send, page_kit.tap
bot_message, shot, tr, no_errors = (page_kit.bot_message, page_kit.shot, page_kit.tr,
                                    page_kit.no_errors)


async def test_a_visitor_picks_english_and_joins_with_a_steady_counter_and_a_summary(
    browser: Browser, sandbox: Sandbox
) -> None:
    assert sandbox.birge is not None
    db = sandbox.birge.db
    page = await open_page(browser, sandbox)
    await become(page, "visitor")
    # Item 3: the first tap on a language is kept before joining, menu included.
    await send(page, "/language")
    await tap(page, tr("ru", "Choose your language."), "English")
    await expect(bot_message(page, "Language changed: English.")).to_be_visible()
    await send(page, "/help")
    await expect(bot_message(page, tr("en", "Birge connects the local self-government"))) \
        .to_be_visible()
    await page.click("#cmd-button")
    await expect(page.locator("#cmd-menu")).to_contain_text(tr("en", "What you can do"))
    await shot(page, "issue13-visitor-english-menu")
    await page.click("#cmd-button")

    # Item 8: the counter's total stays, /help mid-join says how to go on, answers are shown.
    await send(page, "/start")
    first = bot_message(page, tr("en", "Choose your language."))
    await expect(first).to_contain_text("(1/8)")
    await expect(first.get_by_role("button", name="✅ English")).to_be_visible()
    await tap(page, tr("en", "Choose your language."), "English")
    await expect(bot_message(page, tr("en", "Please send your full name ("))) \
        .to_contain_text("(2/8)")
    await send(page, "/help")
    await expect(bot_message(page, tr("en", "You are in the middle of: {flow}.",
                                      flow=tr("en", "joining Birge")))).to_be_visible()
    await expect(bot_message(page, tr("en", "Please send your full name ("))) \
        .to_contain_text("(2/8)")
    await shot(page, "issue13-help-mid-join")
    await send(page, "Nurbek Asanov")
    await tap(page, tr("en", "What is your position?"), tr("en", "Head of aiyl okmotu"))
    district = await f.district_id(db, "talas")
    region = await f.region_of(db, district)
    municipality = await f.municipality_id(db, "omuraliev")
    names = {p.id: p.name for p in await reference.regions(db, "en")}
    await expect(bot_message(page, tr("en", "Choose your region."))).to_contain_text("(4/8)")
    await tap(page, tr("en", "Choose your region."), names[region])
    names = {p.id: p.name for p in await reference.districts(db, region, "en")}
    await expect(bot_message(page, tr("en", "Choose your district."))).to_contain_text("(5/8)")
    await tap(page, tr("en", "Choose your district."), names[district])
    names = {p.id: p.name for p in await reference.municipalities(db, district, "en")}
    await expect(bot_message(page, tr("en", "Choose your municipality."))) \
        .to_contain_text("(6/8)")
    await tap(page, tr("en", "Choose your municipality."), names[municipality])
    await tap(page, tr("en", "Which practice communities"), tr("en", "Done"))
    consent = bot_message(page, tr("en", "To take part, Birge keeps your name"))
    await expect(consent).to_contain_text("(8/8)")
    await expect(consent).to_contain_text(tr("en", "Please check your answers:"))
    await expect(consent).to_contain_text("Nurbek Asanov")
    await shot(page, "issue13-onboarding-summary")
    no_errors(page)
    await page.context.close()


async def test_a_search_typed_while_asking_searches_and_keeps_the_question(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await open_page(browser, sandbox)
    await become(page, "leylek_finance")
    await send(page, "/ask")
    groups = bot_message(page, tr("ru", "In which group do you want to ask?"))
    await groups.get_by_role("button").first.click()
    await expect(bot_message(page, tr("ru", "Write your question"))).to_be_visible()
    await send(page, "/search бюджет")
    await expect(bot_message(page, tr("ru", "Kept for later: {flow}.",
                                      flow=tr("ru", "your question")))).to_be_visible()
    await expect(bot_message(page, tr("ru", "Check your question:"))).to_have_count(0)
    await shot(page, "issue13-command-mid-flow")
    await send(page, "/continue")
    await expect(page.locator("#messages .msg.in").last) \
        .to_contain_text(tr("ru", "Write your question"))
    await shot(page, "issue13-continue")
    no_errors(page)
    await page.context.close()


async def test_the_kyrgyz_preview_of_a_broadcast_is_all_kyrgyz(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await open_page(browser, sandbox)
    await become(page, "staff")
    await send(page, "/broadcast")
    await tap(page, tr("ru", "New broadcast. What kind is it?"), tr("ru", "Union news"))
    await expect(bot_message(page, tr("ru", "Send the title on two or three lines"))) \
        .to_be_visible()
    await send(page, "Союздун жаңылыгы\nНовость Союза")
    await expect(bot_message(page, tr("ru", "Send the text in {language}"))).to_be_visible()
    await send(page, "Союз семинар өткөрөт.")
    await expect(bot_message(page, "Russian").or_(bot_message(page, "русском"))) \
        .to_have_count(1)
    await send(page, "Союз проводит семинар.")
    await tap(page, tr("ru", "English is optional:"), tr("ru", "Skip"))
    await tap(page, tr("ru", "Send documents to attach"), tr("ru", "Done"))
    await send(page, "https://example.kg/act")
    await tap(page, tr("ru", "Who should receive it?"), tr("ru", "Everyone"))
    await tap(page, tr("ru", "Who should receive it?"), tr("ru", "Preview"))
    await tap(page, tr("ru", "Above is the preview in {language}"), "Кыргызча")
    preview = bot_message(page, "Союз семинар өткөрөт.")
    await expect(preview).to_contain_text("Союздун жаңылыгы")
    await expect(preview).to_contain_text(tr("ky", "Source: {url}", url="https://example.kg/act"))
    for russian in ("Источник", "Новость Союза", tr("ru", "Acknowledged")):
        await expect(preview).not_to_contain_text(russian)
    await expect(preview.get_by_role("button", name=tr("ky", "Acknowledged"))).to_be_visible()
    await shot(page, "issue13-broadcast-preview-ky")
    no_errors(page)
    await page.context.close()
