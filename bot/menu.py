"""The command menu (Telegram's "/" button): per chat, in the member's language, by role.

* The default menu — what a chat sees before Birge knows anything about it — lists /start,
  /language and /help in each language (`set_default`, at start).
* Each private chat gets its own list (`BotCommandScopeChat`) in the language chosen in Birge,
  not the Telegram app's, with the commands the member's roles allow, staff ones included.
  `Menus.sync` sets it when the (language, roles, status) of a chat differs from what was set
  last: on the chat's next update (`MenuMiddleware`), and at once where Birge changes them
  (a language picked, a newcomer approved).
* The menu is cosmetic: a failing `setMyCommands` (a Bot API server without the method, a
  transient error) is logged and tried again later; it never stops Birge or an update.

A feature with a new command adds a line to `COMMANDS` (the capability that allows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, TelegramObject
from aiogram.utils.i18n import I18n

from bot.i18n import LANGUAGES, __, in_locale
from bot.services.members import MemberView
from bot.services.policy import Capability, capabilities

log = logging.getLogger(__name__)

# (command, the capability that allows it or None for everyone, its description), in menu order.
COMMANDS: list[tuple[str, Capability | None, Any]] = [
    ("start", None, __("Start or open the menu")),
    ("ask", Capability.ASK, __("Ask a question")),
    ("search", Capability.SEARCH, __("Search the answers")),
    ("groups", Capability.GROUPS, __("Topic groups")),
    ("myquestions", Capability.MY_QUESTIONS, __("My questions")),
    ("library", Capability.LIBRARY, __("The library")),
    ("decisions", Capability.DECISIONS, __("Decisions you received")),
    ("issues", Capability.ISSUES, __("National issues")),
    ("raise", Capability.ISSUES, __("Raise a problem")),
    ("lawyer", Capability.LEGAL_HELP, __("Ask the Union's lawyers for help")),
    ("people", Capability.PEOPLE, __("Find colleagues")),
    ("surveys", Capability.SURVEYS, __("Surveys and polls")),
    ("events", Capability.EVENTS, __("Events and registration")),
    ("profile", Capability.PROFILE, __("Your profile")),
    ("settings", Capability.SETTINGS, __("Digest and notifications")),
    ("invite", Capability.INVITE, __("Invite a colleague")),
    ("broadcast", Capability.BROADCAST, __("Send a broadcast")),
    ("broadcasts", Capability.BROADCAST, __("Broadcasts you sent")),
    ("dossiers", Capability.TRIAGE, __("Appeals to state bodies")),
    ("legal", Capability.LEGAL_DESK, __("The legal desk")),
    ("bulletin", Capability.BULLETIN, __("The monthly bulletin")),
    ("places", Capability.PLACES, __("Municipality names")),
    ("liaison", Capability.LIAISON, __("Addressed to your state body")),
    ("inbox", Capability.VERTICAL, __("Questions about decisions")),
    ("stats", Capability.VERTICAL, __("Figures for staff")),
    ("report", Capability.VERTICAL, __("The annual report")),
    ("liaisons", Capability.VERTICAL, __("State-body liaisons")),
    ("privacy", Capability.PRIVACY, __("Your data: download or delete")),
    ("language", None, __("Change the language")),
    ("help", None, __("What you can do")),
]
VISITOR = ("start", "language", "help")
RETRY_SECONDS = 60.0


def _allowed(member: MemberView | None) -> tuple[str, ...]:
    if member is None:
        return tuple(c[0] for c in COMMANDS if c[0] in VISITOR)
    caps = set(capabilities(member.roles, member.active))
    return tuple(c[0] for c in COMMANDS if c[1] is None or c[1] in caps)


def commands_for(member: MemberView | None, lang: str) -> list[BotCommand]:
    """The menu of a member (or, for None, of someone who has not joined) in `lang`."""
    allowed = set(_allowed(member))
    with in_locale(lang):
        return [BotCommand(command=name, description=str(text))
                for name, _cap, text in COMMANDS if name in allowed]


async def set_default(bot: Bot) -> bool:
    """The menu for every chat Birge has not set one for; False (logged) when it failed."""
    try:
        for lang in LANGUAGES:
            await bot.set_my_commands(commands_for(None, lang), scope=BotCommandScopeDefault(),
                                      language_code=None if lang == "ky" else lang)
    except Exception as exc:  # cosmetic: never stop Birge for it
        log.warning("could not set the command menu (%s); will try again", exc)
        return False
    return True


async def keep_setting_default(bot: Bot) -> None:
    """Try `set_default` until it works, waiting longer each time (at most ten minutes)."""
    delay = RETRY_SECONDS
    while not await set_default(bot):
        await asyncio.sleep(delay)
        delay = min(delay * 2, 600.0)


Signature = tuple[str, tuple[str, ...]]


class Menus:
    """What each chat's menu was last set to (in memory: after a restart a chat's next update
    sets it once more). Handlers get the Dispatcher's one as `menus`."""

    def __init__(self) -> None:
        self._set: dict[int, Signature] = {}

    def current(self, chat_id: int) -> Signature | None:
        return self._set.get(chat_id)

    async def sync(self, bot: Bot, chat_id: int, member: MemberView | None, lang: str) -> None:
        # Every update passes here: compare names first, build the menu only when it changed.
        signature = (lang, _allowed(member))
        if self._set.get(chat_id) == signature:
            return
        try:
            await bot.set_my_commands(commands_for(member, lang),
                                      scope=BotCommandScopeChat(chat_id=chat_id))
        except Exception as exc:  # cosmetic: the next update tries again
            log.info("could not set the menu of chat %s: %s", chat_id, exc)
            self._set.pop(chat_id, None)
            return
        self._set[chat_id] = signature


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MenuMiddleware(BaseMiddleware):
    """Before each update from a private chat, bring that chat's menu up to date (as the member
    is now; a handler that changes language or roles syncs again itself)."""

    def __init__(self, menus: Menus) -> None:
        self.menus = menus

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        chat = data.get("event_chat")
        bot: Bot | None = data.get("bot")
        if chat is None or chat.type != "private" or bot is None:
            return await handler(event, data)
        i18n = I18n.get_current(no_error=True)
        lang = i18n.current_locale if i18n is not None else "ky"
        member = data.get("member")
        # After the handler: the member waits for the answer, not for a cosmetic menu call (a
        # member's first press after a restart or an invitation would wait for both). A handler
        # that changed the member's language or roles has synced the menu itself: keep that.
        before = self.menus.current(chat.id)
        try:
            return await handler(event, data)
        finally:
            if self.menus.current(chat.id) == before:
                with contextlib.suppress(Exception):
                    await self.menus.sync(bot, chat.id, member, lang)
