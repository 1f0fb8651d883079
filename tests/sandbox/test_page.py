"""The sandbox's chat page in a real browser: Debian's Chromium, headless, driven by Playwright.

One sandbox (emulator, Birge, page server, demo data in a temporary database) and one browser
serve the whole module. The tests act as a person would: they tap personas and buttons and wait
for text to appear, never for a fixed time. Screenshots of each page go to test-output/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.i18n import _, get_i18n, in_locale
from bot.sandbox import demo
from bot.sandbox.server import Sandbox, SandboxConfig

# The anonymity step of /ask (its start is shared by an older catalog entry).
NAME_STEP = ("Show your name with the question? If you ask anonymously, only the group's "
             "moderators and")

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
]  # fmt: skip
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
PHONE = {"width": 390, "height": 844}
WAIT_MS = 10_000

try:
    from playwright.async_api import Browser, FilePayload, Page, async_playwright, expect
except ImportError:  # pragma: no cover - playwright is a dev dependency
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True


def _unavailable(reason: str) -> None:
    """Browser tests must run in CI; elsewhere they may be skipped with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests; `make test` installs Chromium)")
    pytest.skip(reason)


def tr(lang: str, msgid: str, **params: object) -> str:
    """The bot's message starting with `msgid` in `lang` (up to its first placeholder unless
    `params` fill them)."""
    catalog = get_i18n().locales["en"]._catalog  # type: ignore[attr-defined]
    if msgid not in catalog:
        found = [k for k in catalog if isinstance(k, str) and k.startswith(msgid)]
        assert len(found) == 1, f"{msgid!r} matches {len(found)} messages"
        msgid = found[0]
    with in_locale(lang):
        text = _(msgid)
    if params:
        return text.format(**params)
    return re.split(r"\{[a-z_]+\}", text)[0].strip()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    config = SandboxConfig(
        port=0, database=tmp_path_factory.mktemp("sandbox") / "sandbox.db",
        settings={"outbox_poll_seconds": 0.1, "send_rate_per_second": 1000,
                  "send_rate_per_chat_per_second": 100})
    async with Sandbox(config) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_PLAYWRIGHT:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not HAVE_CHROMIUM:
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        expect.set_options(timeout=WAIT_MS)
        yield launched
        await launched.close()


async def open_page(browser: Browser, sandbox: Sandbox, viewport: dict[str, int] = PHONE,
                    locale: str = "ru") -> Page:
    context = await browser.new_context(viewport=viewport, locale=locale,  # type: ignore[arg-type]
                                        accept_downloads=True, reduced_motion="reduce")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.__dict__["errors"] = errors
    await page.goto(sandbox.url)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


async def become(page: Page, key: str) -> None:
    """Choose a persona from the list (a drawer on a phone, a sidebar on a wide screen)."""
    sidebar = "el => getComputedStyle(el).position == 'static'"
    if not await page.locator("#people").evaluate(sidebar):
        await page.click("#who")
    await page.click(f"[data-persona='{key}']")
    name = next(p.full_name for p in demo.PEOPLE if p.key == key)
    await expect(page.locator("#who-name")).to_have_text(name)


async def send(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.click("#send")


def bot_message(page: Page, text: str) -> Any:
    return page.locator("#messages .msg.in", has_text=text).last


async def tap(page: Page, message_text: str, button: str) -> None:
    """Press the inline button labelled `button` under the bot's message showing the text."""
    await bot_message(page, message_text).get_by_role("button", name=button).click()


async def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=str(OUTPUT / f"sandbox-{name}.png"))


def png(width: int, height: int) -> bytes:
    """A small valid RGB PNG (a green rectangle)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x2e\x9e\x4f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def no_errors(page: Page) -> None:
    assert page.__dict__["errors"] == []


async def test_a_visitor_joins_and_the_talas_leader_approves_through_the_page(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await open_page(browser, sandbox)
    name = "Айгуль Тестова"
    await become(page, "visitor")
    await send(page, "/start")
    ask = bot_message(page, tr("ru", "Choose your language."))
    await expect(ask).to_be_visible()
    first = await ask.get_attribute("data-mid")
    await tap(page, tr("ru", "Choose your language."), "Русский")
    # The step is edited in place: the same message now asks for the name.
    same = page.locator(f"#messages [data-mid='{first}']")
    await expect(same).to_contain_text(tr("ru", "Please send your full name ("))
    await expect(same.locator(".edited")).to_be_visible()
    await send(page, name)
    await tap(page, tr("ru", "What is your position?"), tr("ru", "Head of aiyl okmotu"))
    await tap(page, tr("ru", "Choose your region."), "Таласская область")
    await tap(page, tr("ru", "Choose your district."), "Таласский район")
    await tap(page, tr("ru", "Choose your municipality."), "Омуралиевский айылный аймак")
    await tap(page, tr("ru", "Which practice communities"), tr("ru", "Done"))
    await tap(page, tr("ru", "To take part, Birge keeps your name"), tr("ru", "I agree"))
    await expect(bot_message(page, tr("ru", "Thank you! Your application is waiting")))\
        .to_be_visible()
    await shot(page, "onboarding")

    # The Talas leader's notice arrives while the page shows the visitor: a badge says so.
    await expect(page.locator("#who-unread")).to_be_visible()
    await become(page, "talas_leader")
    approved = tr("ky", "✅ You approved {name}.", name=name)
    await tap(page, name, tr("ky", "Approve"))
    await expect(bot_message(page, name)).to_contain_text(approved)
    await expect(bot_message(page, name).get_by_role("button")).to_have_count(0)
    await shot(page, "approval")

    await become(page, "visitor")
    await expect(bot_message(page, tr("ru", "Your application has been approved."))) \
        .to_be_visible()
    await expect(page.locator("#messages .msg.out", has_text=name)).to_be_visible()
    await shot(page, "approved")
    no_errors(page)
    await page.context.close()


async def test_switching_persona_keeps_each_conversation(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await open_page(browser, sandbox, viewport={"width": 1280, "height": 800})
    help_head = tr("ru", "What you can do in Birge:")
    await become(page, "leylek_finance")
    await send(page, "/help")
    await expect(bot_message(page, help_head)).to_be_visible()
    finance = await page.locator("#messages [data-mid]").count()
    await become(page, "lawyer")
    await expect(page.locator("#messages .msg.out", has_text="/help")).to_have_count(0)
    await send(page, "/profile")
    await expect(bot_message(page, demo.LAWYER.full_name)).to_be_visible()
    lawyer = await page.locator("#messages [data-mid]").count()
    await become(page, "leylek_finance")
    await expect(bot_message(page, help_head)).to_be_visible()
    await expect(page.locator("#messages [data-mid]")).to_have_count(finance)
    await become(page, "lawyer")
    await expect(page.locator("#messages [data-mid]")).to_have_count(lawyer)
    await shot(page, "desktop")
    no_errors(page)
    await page.context.close()


async def test_the_page_fits_a_phone(browser: Browser, sandbox: Sandbox) -> None:
    for width, height in ((360, 740), (390, 844)):
        page = await open_page(browser, sandbox, viewport={"width": width, "height": height},
                               locale="ky")
        await become(page, "staff")
        await expect(page.locator("#tab-chat")).to_have_text("Маек")
        await expect(page.locator("#messages .msg.in").first).to_be_visible()
        for view in ("chat", "people", "forum"):
            if view == "people":
                await page.click("#who")
                await expect(page.locator("#people")).to_have_class("open")
                await page.wait_for_function(  # the drawer has finished sliding in
                    "() => getComputedStyle(document.getElementById('people')).transform == 'none'")
            if view == "forum":
                await page.click("#close-people")
                await page.click("#tab-forum")
                await expect(page.locator("#topics")).to_contain_text("Жергиликтүү бюджет")
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"horizontal scroll of {overflow}px at {width}px ({view})"
            if view == "people":
                await shot(page, f"personas-{width}")
        await page.click("#topics [data-thread='0']")
        await expect(page.locator("#messages")).to_contain_text("Birge")
        await shot(page, f"forum-{width}")
        await page.click("#tab-chat")
        for target in ("#send", "#cmd-button", "#who", "#tab-forum"):
            box = await page.locator(target).bounding_box()
            assert box is not None and box["height"] >= 40, (target, box)
        await shot(page, f"phone-{width}")
        no_errors(page)
        await page.context.close()


async def test_formatting_keyboards_files_and_edits_render(
    browser: Browser, sandbox: Sandbox
) -> None:
    from aiogram.types import BufferedInputFile, KeyboardButton, ReplyKeyboardMarkup

    bot = sandbox.birge.bot
    chat = demo.MODERATOR.telegram_id
    page = await open_page(browser, sandbox)
    await become(page, "moderator")
    note = await bot.send_message(
        chat, '<b>Жирный</b> <i>курсив</i> <a href="https://example.org/x">ссылка</a> '
              '<code>x = 1</code> &lt;img src=x onerror="alert(1)"&gt; /help',
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Да"),
                                                    KeyboardButton(text="Нет")]],
                                         resize_keyboard=True))
    message = page.locator(f"#messages [data-mid='{note.message_id}']")
    await expect(message.locator("b")).to_have_text("Жирный")
    await expect(message.locator("i")).to_have_text("курсив")
    await expect(message.locator("code")).to_have_text("x = 1")
    await expect(message.locator("a[href='https://example.org/x']")).to_have_text("ссылка")
    await expect(message).to_contain_text('<img src=x onerror="alert(1)">')
    assert await message.locator("img").count() == 0
    await expect(message.locator("[data-command='/help']")).to_be_visible()

    await page.locator("#reply-kb button", has_text="Да").click()
    await expect(page.locator("#messages .msg.out", has_text="Да")).to_be_visible()

    await bot.send_photo(chat, BufferedInputFile(png(40, 30), "map.png"), caption="Карта")
    photo = page.locator("#messages .msg.in", has_text="Карта").locator("img.photo")
    await expect(photo).to_be_visible()
    assert await photo.evaluate("img => img.complete && img.naturalWidth > 0")

    await bot.send_document(chat, BufferedInputFile("Бюджет: 100 сом".encode(), "бюджет.txt"),
                            caption="<b>Отчёт</b>")
    link = page.locator("#messages .msg.in", has_text="Отчёт").locator("a.file")
    await expect(link).to_contain_text("бюджет.txt")
    async with page.expect_download() as downloading:
        await link.click()
    download = await downloading.value
    assert download.suggested_filename == "бюджет.txt"
    saved = await download.path()
    assert await asyncio.to_thread(Path(saved).read_bytes) == "Бюджет: 100 сом".encode()

    pdf = FilePayload(name="план.pdf", mimeType="application/pdf", buffer=b"%PDF-1.4 demo")
    await page.set_input_files("#file", files=[pdf])
    await expect(page.locator("#messages .msg.out a.file")).to_contain_text("план.pdf")

    await bot.edit_message_text("<b>Исправлено</b>", chat_id=chat, message_id=note.message_id)
    await expect(message.locator("b")).to_have_text("Исправлено")
    await expect(message.locator(".edited")).to_be_visible()
    await shot(page, "media")

    # An invitation link to this bot opens as a new visitor, who sends /start with its code.
    await bot.send_message(chat, f"https://t.me/{sandbox.emulator.bot_username}?start=abcdefgh")
    await page.locator("#messages a[data-start='abcdefgh']").click()
    await expect(page.locator("#who-role")).to_have_text(re.compile(r"Новый посетитель \d+"))
    await expect(page.locator("#messages .msg.out", has_text="/start abcdefgh")).to_be_visible()
    await expect(page.locator("#messages .msg.out")).to_have_count(1)
    await expect(bot_message(page, tr("ru", "This invitation code is unknown."))).to_be_visible()
    no_errors(page)
    await page.context.close()


async def test_a_question_asked_as_one_persona_is_answered_as_another(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await open_page(browser, sandbox)
    question = "Кто должен вывозить мусор с кладбища на окраине села: айыл окмоту или жители?"
    await become(page, "leylek_finance")
    await send(page, "/ask")
    await tap(page, tr("ru", "In which group do you want to ask?"),
              "Отходы и коммунальные услуги")
    await send(page, question)
    await tap(page, tr("ru", "You may attach up to"), tr("ru", "Next"))
    await tap(page, tr("ru", NAME_STEP), tr("ru", "With my name"))
    confirm = bot_message(page, tr("ru", "Check your question:"))
    similar = bot_message(page, tr("ru", "These answered questions look similar."))
    await expect(confirm.or_(similar)).to_be_visible()
    if await similar.count():
        await tap(page, tr("ru", "These answered questions look similar."),
                  tr("ru", "Ask anyway"))
    await tap(page, tr("ru", "Check your question:"), tr("ru", "Post the question"))
    posted = bot_message(page, tr("ru", "Your question is posted as"))
    await expect(posted).to_be_visible()
    await shot(page, "question-asked")

    # The moderator of the group hears of it in Kyrgyz and answers from the notice.
    await become(page, "moderator")
    notice = bot_message(page, "Гулнара Ташиева")
    await expect(notice).to_contain_text("мусор с кладбища")
    await notice.get_by_role("button", name=tr("ky", "Answer")).click()
    await expect(bot_message(page, tr("ky", "Write your answer to {label}").split("{")[0]
                             or "Q-")).to_be_visible()
    answer = "Айыл өкмөтү көрдүн аймагын тазалоону уюштурат; жамаат ашар менен жардам берет."
    await send(page, answer)
    await tap(page, tr("ky", "Attach up to"), tr("ky", "Send"))
    await expect(bot_message(page, tr("ky", "Your answer is posted."))).to_be_visible()
    await shot(page, "question-answered")

    # Back as the finance officer: the answer has arrived, and she accepts it.
    await become(page, "leylek_finance")
    arrived = bot_message(page, "Жылдыз Абдыкалыкова")
    await expect(arrived).to_contain_text("ашар")
    await arrived.get_by_role("button", name=tr("ru", "Open")).click()
    card = bot_message(page, question[:30])
    await card.get_by_role("button", name=tr("ru", "Accept {n}", n=1)).click()
    await expect(bot_message(page, question[:30])).to_contain_text(tr("ru", "Accepted answer"))
    await shot(page, "question-accepted")
    no_errors(page)
    await page.context.close()
