"""End-to-end fixtures: the real Birge (Dispatcher, routers, middlewares, aiogram's HTTP session)
polling the Bot API emulator over 127.0.0.1, and people who talk to it through the control API."""

from __future__ import annotations

import asyncio
import functools
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Birge
from bot.config import Settings
from bot.flows.steps import read_nav
from bot.i18n import _, in_locale, pgettext, read_catalog
from bot.sandbox.client import EmulatorClient, Person
from bot.sandbox.emulator import BotAPIEmulator, EmulatorServer
from bot.views.callbacks import Decide, Nav, Pick
from storage.db import Database
from storage.models import Outbox

TOKEN = "123456:TEST"
JSON = dict[str, Any]

_user_ids = itertools.count(10_001)


def settings_for(url: str, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN, "database_url": db_url, "telegram_api_url": url,
        "outbox_poll_seconds": 0.2, "send_rate_per_second": 1000,
        "send_rate_per_chat_per_second": 100,
        # No quiet hours unless a test asks for them: tests run at any hour of the day.
        "quiet_hours_start": 0, "quiet_hours_end": 0, **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def server() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(BotAPIEmulator()) as running:
        yield running


@pytest.fixture
async def tg(server: EmulatorServer) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(server.url) as control:
        yield control


class Running:
    """Starts and restarts Birge against the emulator on one database."""

    def __init__(self, url: str, db_url: str) -> None:
        self.settings = settings_for(url, db_url)
        self.app: Birge | None = None

    @property
    def db(self) -> Database:
        assert self.app is not None
        return self.app.db

    async def start(self, **overrides: Any) -> Birge:
        if overrides:
            self.settings = self.settings.model_copy(update=overrides)
        self.app = Birge(self.settings, request_timeout=3.0)
        await self.app.start(polling_timeout=1)
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            await self.app.db.dispose()

    async def restart(self) -> Birge:
        await self.stop()
        return await self.start()

    async def restart_with(self, **overrides: Any) -> Birge:
        await self.stop()
        return await self.start(**overrides)


@pytest.fixture
async def birge(server: EmulatorServer, db_url: str) -> AsyncIterator[Running]:
    running = Running(server.url, db_url)
    await running.start()
    yield running
    await running.stop()


PersonFactory = Callable[..., Awaitable[Person]]


@pytest.fixture
def people(tg: EmulatorClient) -> PersonFactory:
    """A Telegram user who has opened a chat with the bot (so the bot can write to them)."""

    async def make(name: str = "Nurlan", language: str | None = "ru",
                   username: str | None = None, user_id: int | None = None) -> Person:
        person = tg.person(user_id or next(_user_ids), name, language_code=language,
                           username=username)
        await person.register()
        return person

    return make


# --- reading what the bot said ---------------------------------------------------------------


@functools.cache
def _msgids() -> frozenset[str]:
    return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in read_catalog("en") if m.id)


def _full_msgid(prefix: str) -> str:
    catalog = _msgids()
    if prefix in catalog:
        return prefix
    found = [k for k in catalog if k.startswith(prefix)]
    assert len(found) == 1, f"{prefix!r} matches {len(found)} messages"
    return found[0]


def t(lang: str, msgid: str, **params: object) -> str:
    """The message starting with `msgid`, as a member speaking `lang` sees it (up to the first
    placeholder unless `params` fill them)."""
    with in_locale(lang):
        text = _(_full_msgid(msgid))
    if params:
        return text.format(**params)
    return re.split(r"\{[a-z_]+\}", text)[0].strip()


def tc(lang: str, context: str, msgid: str) -> str:
    """A word whose translation depends on what it describes (pgettext), as `lang` reads it."""
    with in_locale(lang):
        return pgettext(context, msgid)


def text_of(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


def buttons(message: JSON) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b.get("text", ""), b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", []) for b in row]


async def said(person: Person, *fragments: str, timeout: float = 20.0) -> JSON:
    """Wait until the bot shows this person a message containing every fragment."""
    unread = _unread(person)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[str] = []
    while True:
        while unread:
            message = unread.pop(0)
            seen.append(text_of(message))
            if all(f in text_of(message) for f in fragments):
                return message
        left = deadline - loop.time()
        if left <= 0:
            break
        unread.extend(await person.replies(timeout=left))
    raise AssertionError(f"bot never said {fragments!r}; it said: {seen!r}")


def _unread(person: Person) -> list[JSON]:
    """Messages fetched from the emulator that no `said` has looked at yet."""
    unread: list[JSON] = person.__dict__.setdefault("_unread", [])
    return unread


async def silent(person: Person, timeout: float = 0.8) -> None:
    """The bot says nothing more to this person for a while."""
    got = _unread(person) + await person.replies(timeout=timeout)
    assert not got, f"expected silence, got {[text_of(m) for m in got]!r}"


def pick(step: str, value: object) -> str:
    return Pick(step=step, value=str(value)).pack()


def nav(action: str) -> str:
    """Back, Skip, Done or Cancel: `press` finds it on the newest message that has it, whatever
    step it carries (a flow's buttons carry the step they were shown for)."""
    return Nav(action=action).pack()


def carries(found: str, wanted: str) -> bool:
    """A button's data is what a test asks for: the same data, or for `nav(…)` the same action
    shown for any step."""
    if found == wanted:
        return True
    asked, seen = read_nav(wanted), read_nav(found)
    return asked is not None and not asked.flow and seen is not None \
        and seen.action == asked.action


def navs(message: JSON) -> list[str]:
    """The Back / Skip / Done / Cancel buttons a message offers ("back", "cancel", …)."""
    found = [read_nav(data) for _text, data in buttons(message)]
    return [n.action for n in found if n is not None]


def decide(action: str, member_id: int) -> str:
    return Decide(action=action, member_id=member_id).pack()


async def press(person: Person, data: str) -> None:
    """Press the button carrying `data` on the newest bot message that has it; for `nav(…)`,
    that message's Back (Skip, Done, Cancel), whichever step it was shown for."""
    wanted = read_nav(data)
    if wanted is None or wanted.flow:
        await person.press(data)
        return
    for message in reversed(await person.client.transcript(person.chat_id, person.thread_id)):
        if not message.get("from_bot") or message.get("deleted"):
            continue
        for _text, found in buttons(message):
            if carries(found, data):
                await person.press(found, int(message["message_id"]))
                return
    raise AssertionError(f"no message offers {wanted.action!r}")


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def outbox_rows(db: Database) -> list[Outbox]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox).order_by(Outbox.id))).all())
