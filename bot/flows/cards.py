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
                        new_message: bool = False, answered: bool = False) -> bool:
    """Show a question's card; False (with the refusal said) when the member may not see it.

    A button press is answered once: with the refusal here, unless the caller `answered` it
    already (then the refusal goes as a message)."""
    try:
        card = await questions.question_card(db, member.id, question_id, member.language)
    except ServiceError as exc:
        if isinstance(event, CallbackQuery) and not answered:
            await event.answer(refusal(exc), show_alert=True)
        elif isinstance(event, CallbackQuery):
            if event.bot is not None:
                await event.bot.send_message(event.from_user.id, refusal(exc))
        else:
            await event.answer(refusal(exc))
        return False
    text, kb = question_text(card, member.language), question_buttons(card)
    if new_message and isinstance(event, CallbackQuery) and event.bot is not None:
        await event.bot.send_message(member.telegram_id or event.from_user.id, text,
                                     reply_markup=kb)
        return True
    await show(event, text, kb)
    return True
