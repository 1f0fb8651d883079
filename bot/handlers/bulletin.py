"""`/bulletin`: staff compile the monthly bulletin, edit its Kyrgyz, Russian and English texts,
and send it to every member as a broadcast. The draft lives in conversation state (stored in the
database), so a restart in the middle of editing loses nothing."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import LANGUAGES, Settings
from bot.delivery.digest_notices import group_names
from bot.flows.ui import Event, remember, show
from bot.i18n import _, in_locale, language_name
from bot.services import bulletin
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.buttons import button, markup
from bot.views.callbacks import Bulletin
from bot.views.digests import BULLETIN_MAX, bulletin_text
from bot.views.labels import refusal
from storage.db import Database
from storage.types import utcnow

router = Router(name="bulletin")
router.message.filter(F.chat.type == "private")


class BulletinFlow(StatesGroup):
    review = State()
    edit = State()


def _months(now_local: date) -> tuple[date, date]:
    this = now_local.replace(day=1)
    last = date(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1)
    return last, this


async def _compile(db: Database, member: MemberView, month: date,
                   config: Settings) -> dict[str, Any]:
    data = await bulletin.compile_bulletin(db, member.id, month, config.tz)
    groups = await group_names(db)
    parts = [(code, [i.as_json() for i in items]) for code, items in data.parts]
    texts = {}
    for lang in LANGUAGES:
        with in_locale(lang):
            texts[lang] = bulletin_text(parts, month, lang, groups)
    return {"month": month.isoformat(), **texts}


async def _review(event: Event, data: dict[str, Any], member: MemberView) -> None:
    lang = member.language if member.language in LANGUAGES else "ru"
    text = (_("The bulletin draft (members read it in their language):") + "\n\n"
            + html.escape(data[lang]))[:4000]
    rows = [[button("✏️ " + language_name(code), Bulletin(action="edit", value=code))
             for code in LANGUAGES],
            [button("📅 " + _("Last month"), Bulletin(action="month", value="last")),
             button("📅 " + _("This month"), Bulletin(action="month", value="this"))],
            [button("📤 " + _("Send to all members"), Bulletin(action="send"))],
            [button("✖️ " + _("Cancel"), Bulletin(action="cancel"))]]
    await show(event, text, markup(rows))


@router.message(Command("bulletin"))
async def on_bulletin(message: Message, state: FSMContext, db: Database,
                      member: MemberView | None, settings: Settings) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    last, _this = _months(utcnow().astimezone(settings.tz).date())
    try:
        data = await _compile(db, member, last, settings)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await remember(state, BulletinFlow.review, data)
    await _review(message, data, member)


@router.callback_query(Bulletin.filter(), StateFilter(BulletinFlow.review, BulletinFlow.edit))
async def on_button(query: CallbackQuery, callback_data: Bulletin, state: FSMContext,
                    db: Database, member: MemberView | None, settings: Settings) -> None:
    data = await state.get_data()
    if member is None or "month" not in data:
        await query.answer(_("This button is no longer active."))
        return
    action, value = callback_data.action, callback_data.value
    try:
        if action == "month" and value in ("last", "this"):
            last, this = _months(utcnow().astimezone(settings.tz).date())
            data = await _compile(db, member, last if value == "last" else this, settings)
            await remember(state, BulletinFlow.review, data)
            await query.answer()
            await _review(query, data, member)
        elif action == "edit" and value in LANGUAGES:
            await remember(state, BulletinFlow.edit, {**data, "editing": value})
            await query.answer()
            await show(query, _("Send the new text in {language} (at most {limit} "
                                "characters).").format(language=language_name(value),
                                                       limit=BULLETIN_MAX))
        elif action == "send":
            sent = await bulletin.send_bulletin(db, member.id,
                                                date.fromisoformat(data["month"]),
                                                data["ky"], data["ru"], data.get("en"))
            await state.clear()
            await query.answer()
            await show(query, _("The bulletin is on its way to {count} members (B-{id}).")
                       .format(count=sent.recipients, id=sent.broadcast_id))
        elif action == "cancel":
            await state.clear()
            await query.answer()
            await show(query, _("Cancelled."))
        else:
            await query.answer(_("That choice is not available. Please try again."))
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(Bulletin.filter())
async def on_stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer active."))


@router.message(BulletinFlow.edit, F.text)
async def on_text(message: Message, state: FSMContext, member: MemberView | None) -> None:
    data = await state.get_data()
    lang = data.get("editing")
    text = (message.text or "").strip()
    if member is None or lang not in LANGUAGES:
        await state.clear()
        return
    if not 2 <= len(text) <= BULLETIN_MAX:
        await message.answer(_("Please write 2 to {limit} characters.").format(
            limit=BULLETIN_MAX))
        return
    data = {**data, lang: text}
    data.pop("editing", None)
    await remember(state, BulletinFlow.review, data)
    await _review(message, data, member)


@router.message(BulletinFlow.edit)
async def on_not_text(message: Message) -> None:
    await message.answer(_("Please send the text as a message."))
