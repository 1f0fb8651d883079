"""`/privacy`: what Birge keeps and why, "Download my data" (a ZIP sent as a document) and
"Delete my account" (asked, then confirmed; the service accepts only the member themselves)."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.config import Settings
from bot.flows.ui import show
from bot.i18n import _
from bot.services import privacy
from bot.services.errors import InvalidState, NotFound, ServiceError
from bot.services.members import MemberView
from bot.views.people import (
    Pv,
    delete_confirm_keyboard,
    delete_confirm_text,
    people_refusal,
    privacy_keyboard,
    privacy_text,
)
from storage.db import Database
from storage.enums import MemberStatus

log = logging.getLogger(__name__)
router = Router(name="privacy")
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


def _registered(member: MemberView | None) -> bool:
    return member is not None and member.status in (MemberStatus.ACTIVE, MemberStatus.PENDING)


@router.message(Command("privacy"))
async def on_privacy(message: Message, state: FSMContext, member: MemberView | None,
                     settings: Settings) -> None:
    await state.clear()
    if not _registered(member):
        await message.answer(privacy_text(settings.legal_retention_days) + "\n\n" + _(
            "Birge keeps nothing about you yet."))
        return
    assert member is not None
    await message.answer(privacy_text(settings.legal_retention_days),
                         reply_markup=privacy_keyboard(member.id))


@router.callback_query(Pv.filter())
async def on_pv(query: CallbackQuery, callback_data: Pv, state: FSMContext, db: Database,
                member: MemberView | None, settings: Settings) -> None:
    action = callback_data.action
    if not _registered(member):
        # Pressed again after the account was deleted, or by someone without one.
        await query.answer(people_refusal(InvalidState("already_deleted"))
                           if action == "delete" else _("This button is no longer active."),
                           show_alert=True)
        return
    assert member is not None
    if action == "export":
        await query.answer(_("Preparing your file…"))
        try:
            export = await privacy.export_my_data(db, member.id, member.id)
        except ServiceError as exc:
            await query.answer(people_refusal(exc), show_alert=True)
            return
        assert query.bot is not None
        await query.bot.send_document(
            query.from_user.id, BufferedInputFile(export.data, export.filename),
            caption=_("Everything Birge keeps about you: the same records as JSON and as a "
                      "spreadsheet."))
    elif action == "ask":
        await query.answer()
        await show(query, delete_confirm_text(), delete_confirm_keyboard(member.id))
    elif action == "keep":
        await query.answer(_("Your account stays."))
        await show(query, privacy_text(settings.legal_retention_days),
                   privacy_keyboard(member.id))
    elif action == "delete":
        if not 0 < callback_data.member_id < 2**31:
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        try:
            await state.clear()
            await privacy.delete_account(db, member.id, callback_data.member_id)
        except (ServiceError, NotFound) as exc:
            await query.answer(people_refusal(exc), show_alert=True)
            return
        await query.answer()
        await show(query, "✅ " + _("Your account is deleted. Birge has erased your profile. "
                                   "If you ever want to come back, send /start."))
    else:
        await query.answer(_("This button is no longer active."))
