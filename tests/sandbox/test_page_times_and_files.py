"""The sandbox page in a browser far from Bishkek (issue 13, item 10): every time on the page is
Bishkek time, as the bot writes it, and a file over the 20 MB limit is refused in the page's
language instead of a raw "413 Request Entity Too Large"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, FilePayload, Page, expect

from bot.sandbox.server import UPLOAD_LIMIT, Sandbox
from tests.sandbox import test_page as page_kit

pytestmark = pytest.mark.asyncio(loop_scope="module")

sandbox = page_kit.sandbox
browser = page_kit.browser
become, send, shot, no_errors = page_kit.become, page_kit.send, page_kit.shot, page_kit.no_errors

BISHKEK = ZoneInfo("Asia/Bishkek")
NEW_YORK = "America/New_York"  # eleven hours behind Bishkek: no clock reads the same in both


async def open_far_away(browser: Browser, sandbox: Sandbox, locale: str) -> Page:
    context = await browser.new_context(viewport=page_kit.PHONE,  # type: ignore[arg-type]
                                        locale=locale, timezone_id=NEW_YORK)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.__dict__["errors"] = errors
    await page.goto(sandbox.url)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def clocks(zone: ZoneInfo, around: datetime) -> set[str]:
    """HH:MM in `zone` a minute either side of `around` (the message may cross a minute)."""
    return {(around + timedelta(minutes=d)).astimezone(zone).strftime("%H:%M")
            for d in (-1, 0, 1)}


async def test_a_browser_in_new_york_shows_bishkek_time(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await open_far_away(browser, sandbox, "ru")
    assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == NEW_YORK
    await become(page, "staff")
    now = datetime.now(UTC)
    await send(page, "/help")
    mine = page.locator("#messages .msg.out").last
    answer = page.locator("#messages .msg.in").last
    await expect(answer).to_be_visible()
    for message in (mine, answer):
        shown = (await message.locator(".meta span").last.inner_text()).strip()
        assert shown in clocks(BISHKEK, now), (shown, clocks(BISHKEK, now))
        assert shown not in clocks(ZoneInfo(NEW_YORK), now)
    await shot(page, "issue13-bishkek-time")
    no_errors(page)
    await page.context.close()


@pytest.mark.parametrize(("locale", "words"), [
    ("ru", "Файл слишком большой. Наибольший размер: 20 МБ."),
    ("ky", "Файл өтө чоң. Эң чоң өлчөмү: 20 МБ."),
    ("en", "The file is too large. The limit is 20 MB."),
])
async def test_a_file_over_20_mb_is_refused_in_the_pages_language(
    browser: Browser, sandbox: Sandbox, locale: str, words: str
) -> None:
    assert UPLOAD_LIMIT == 20 * 1024 * 1024
    page = await open_far_away(browser, sandbox, locale)
    await become(page, "staff")
    big = FilePayload(name="отчет.pdf", mimeType="application/pdf",
                      buffer=b"%PDF-1.4 " + b"0" * (21 * 1024 * 1024))
    await page.set_input_files("#file", files=[big])
    toast = page.locator("#toast")
    await expect(toast).to_have_text(words)
    assert "413" not in await toast.inner_text()
    await expect(page.locator("#messages .msg.out", has_text="отчет.pdf")).to_have_count(0)
    await shot(page, f"issue13-file-too-big-{locale}")
    no_errors(page)
    await page.context.close()
