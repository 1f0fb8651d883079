"""Approve / Reject on the notice a district leader or Union staff member gets for a newcomer."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.flows.ui import show
from bot.i18n import _
from bot.menu import Menus
from bot.services import members
from bot.services.errors import NotFound, PermissionDenied
from bot.services.members import MemberView
from bot.views.callbacks import Decide
from bot.views.labels import refusal, status_label
from storage.db import Database
from storage.enums import MemberStatus

router = Router(name="approval")


@router.callback_query(Decide.filter())
async def on_decide(query: CallbackQuery, callback_data: Decide, db: Database,
                    member: MemberView | None, menus: Menus) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    approve = callback_data.action == "approve"
    try:
        decision = await (members.approve_member if approve else members.reject_member)(
            db, member.id, callback_data.member_id
        )
    except (PermissionDenied, NotFound) as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    newcomer = decision.member
    if decision.changed and newcomer.telegram_id is not None and query.bot is not None:
        await menus.sync(query.bot, newcomer.telegram_id, newcomer, newcomer.language)
    who = html.escape(decision.member.full_name)
    if decision.changed:
        verdict = (_("✅ You approved {name}.") if approve
                   else _("❌ You rejected {name}.")).format(name=who)
    elif decision.member.status == MemberStatus.PENDING:  # pragma: no cover - defensive
        verdict = _("{name} is still waiting.").format(name=who)
    else:
        verdict = _("{name} has already been decided on: {status}.").format(
            name=who, status=status_label(decision.member.status))
    await query.answer()
    original = query.message.html_text if isinstance(query.message, Message) else ""
    await show(query, (original + "\n\n" if original else "") + verdict)
