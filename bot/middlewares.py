"""Per-update context: who is acting (as a plain `MemberView`) and which language to answer in.

The member is looked up once per update; a member who had blocked the bot and writes again is
reachable again. The locale is the member's language, else the one chosen so far in onboarding,
else the one a visitor picked before joining (kept from their first tap, `visitor_language`),
else the Telegram language when Birge speaks it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from bot.i18n import pick_language
from bot.services import members
from bot.services.members import MemberView
from storage.db import Database

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

VISITOR = "visitor"  # the FSM key destiny for what Birge keeps about someone not yet a member


def _visitor(state: FSMContext) -> FSMContext:
    return FSMContext(storage=state.storage, key=replace(state.key, destiny=VISITOR))


async def visitor_language(state: FSMContext) -> str | None:
    """The language someone picked before joining (with /language or onboarding's first step)."""
    lang = (await _visitor(state).get_data()).get("lang")
    return lang if isinstance(lang, str) else None


async def remember_visitor_language(state: FSMContext, lang: str) -> None:
    await _visitor(state).set_data({"lang": lang})


class MemberMiddleware(BaseMiddleware):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        member: MemberView | None = None
        if user is not None and not user.is_bot:
            member = await members.by_telegram(self.db, user.id)
            if member is not None and not member.reachable:
                await members.mark_unreachable(self.db, member.id, reachable=True)
        data["member"] = member
        data["db"] = self.db
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        member: MemberView | None = data.get("member")
        if member is not None:
            return member.language
        state: FSMContext | None = data.get("state")
        if state is not None:
            lang = (await state.get_data()).get("lang")
            if isinstance(lang, str):
                return lang
            chosen = await visitor_language(state)
            if chosen is not None:
                return chosen
        user: User | None = data.get("event_from_user")
        return pick_language(user.language_code if user else None, self.i18n.default_locale)
