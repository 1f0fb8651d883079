"""Showing a card in the chat (a member's profile, a question), used by the handlers and by the
flows that end on one. It lives in `flows/` so that flows never import handlers."""

from __future__ import annotations

from aiogram.types import CallbackQuery

from bot.flows.ui import Event, show
from bot.i18n import in_locale
from bot.services import members, questions
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.labels import refusal
from bot.views.profile import profile_view
from bot.views.questions import question_buttons, question_text
from storage.db import Database


async def show_profile(event: Event, db: Database, member_id: int, lang: str,
                       saved: bool = False) -> None:
    """The member's profile card (`/profile`, and after an onboarding edit), in their language."""
    with in_locale(lang):
        card = await members.profile_card(db, member_id, lang)
        await show(event, *profile_view(card, saved))


async def show_question(event: Event, db: Database, member: MemberView, question_id: int,
                        new_message: bool = False) -> None:
    try:
        card = await questions.question_card(db, member.id, question_id, member.language)
    except ServiceError as exc:
        if isinstance(event, CallbackQuery):
            await event.answer(refusal(exc), show_alert=True)
        else:
            await event.answer(refusal(exc))
        return
    text, kb = question_text(card, member.language), question_buttons(card)
    if new_message and isinstance(event, CallbackQuery) and event.bot is not None:
        await event.bot.send_message(member.telegram_id or event.from_user.id, text,
                                     reply_markup=kb)
        return
    await show(event, text, kb)
