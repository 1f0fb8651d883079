"""What people do with a broadcast: members acknowledge, ask, copy and comment; staff approve,
follow the progress, cancel, export the report and read the comments by district."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.flows.ui import show
from bot.i18n import _, format_when, ngettext, pgettext
from bot.services import broadcasts
from bot.services.errors import ServiceError
from bot.services.members import MemberView
from bot.views.broadcasts import broadcast_text, kind_label
from bot.views.buttons import button, markup, nav_row, short
from bot.views.callbacks import Bc, Nav
from bot.views.inbox import Qi
from bot.views.labels import refusal
from bot.views.positions import Lw
from storage.db import Database
from storage.enums import BroadcastStatus
from storage.models import Broadcast

router = Router(name="broadcasts")

STATUS_ROWS = ("sent", "pending", "failed", "unreachable", "cancelled")


class Reply(StatesGroup):
    question = State()
    comment = State()


def status_label(status: str) -> str:
    return {
        "sent": _("delivered"), "pending": _("waiting"), "sending": _("sending"),
        "failed": _("failed"), "unreachable": _("unreachable"),
        "cancelled": pgettext("message", "cancelled"),
    }.get(status, status)


def broadcast_state(status: str) -> str:
    return {
        BroadcastStatus.AWAITING_APPROVAL: _("waiting for approval"),
        BroadcastStatus.SCHEDULED: _("scheduled"),
        BroadcastStatus.SENDING: _("sending"),
        BroadcastStatus.CANCELLED: pgettext("broadcast", "cancelled"),
        BroadcastStatus.REJECTED: _("rejected by the Union staff"),
    }.get(BroadcastStatus(status), status)


async def show_report(event: Message | CallbackQuery, db: Database, member: MemberView,
                      broadcast_id: int) -> None:
    found = await broadcasts.report(db, member.id, broadcast_id, member.language)
    b = found.broadcast
    state = _("finished") if found.finished and b.status == BroadcastStatus.SENDING \
        else broadcast_state(b.status)
    sent = found.by_status.get("sent", 0)
    lines = [f"<b>B-{b.id}</b> {kind_label(b.kind)}", f"<b>{html.escape(b.title)}</b>",
             _("State: {state}").format(state=state),
             _("Sent {sent} of {total}").format(sent=sent, total=found.total)]
    if not found.finished and found.rate_per_second > 0:
        lines.append(_("Rate: {rate} per second; about {minutes} min left").format(
            rate=f"{found.rate_per_second:.1f}",
            minutes=int((found.seconds_left or 0) / 60) + 1))
    if b.send_at and b.status == BroadcastStatus.SCHEDULED:
        lines.append(_("Goes out at {when}").format(when=format_when(b.send_at,
                                                                      member.language)))
    lines.append(" · ".join(f"{status_label(s)}: {found.by_status.get(s, 0)}"
                            for s in STATUS_ROWS))
    lines.append(ngettext("{count} member acknowledged it", "{count} members acknowledged it",
                          found.acknowledged).format(count=found.acknowledged))
    if found.by_place:
        lines.append("")
        for (region, district), counts in list(found.by_place.items())[:25]:
            lines.append(_("{place}: sent {sent} of {total}, acknowledged: {acknowledged}").format(
                place=f"{html.escape(district)} ({html.escape(region)})",
                sent=counts.get("sent", 0), total=counts.get("recipients", 0),
                acknowledged=counts.get("acknowledged", 0)))
    assert b.id is not None
    rows = [[button("🔄 " + _("Refresh"), Bc(action="report", broadcast_id=b.id)),
             button("📥 CSV", Bc(action="csv", broadcast_id=b.id))]]
    if b.kind == "draft":
        rows.append([button("💬 " + _("Comments by district"),
                            Bc(action="comments", broadcast_id=b.id))])
    if b.kind == "law":
        rows.append([button("📝 " + _("Ask for effect reports"),
                            Lw(action="effect_ask", broadcast_id=b.id))])
        rows.append([button(_("Effect reports") + " DOCX",
                            Lw(action="effect_docx", broadcast_id=b.id)),
                     button(_("Effect reports") + " XLSX",
                            Lw(action="effect_xlsx", broadcast_id=b.id))])
    if found.total and b.id:
        rows.append([button("💬 " + _("Answer all recipients"),
                            Qi(action="followup", item_id=b.id))])
    if b.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING,
                    BroadcastStatus.AWAITING_APPROVAL) and not found.finished:
        rows.append([button("⛔ " + _("Cancel the broadcast"),
                            Bc(action="cancel", broadcast_id=b.id))])
    await show(event, "\n".join(lines)[:4000], markup(rows))


@router.message(Command("broadcasts"), F.chat.type == "private")
async def on_list(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("You are not allowed to do that."))
        return
    try:
        found = await broadcasts.recent(db, member.id)
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    if not found:
        await message.answer(_("No broadcasts yet. /broadcast starts one."))
        return
    busy = await broadcasts.still_sending(db, [b.id for b in found if b.id is not None])

    def state(b: Broadcast) -> str:
        if b.status == BroadcastStatus.SENDING and b.id not in busy:
            return _("finished")
        return broadcast_state(b.status)

    rows = [[button(f"B-{b.id} · {short(b.title, 40)} · {state(b)}",
                    Bc(action="report", broadcast_id=b.id or 0))] for b in found]
    await message.answer(_("Recent broadcasts:"), reply_markup=markup(rows))


@router.callback_query(Bc.filter())
async def on_button(query: CallbackQuery, callback_data: Bc, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None:
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    action, bid = callback_data.action, callback_data.broadcast_id
    if bid == 0:
        await query.answer(_("This is a preview: members' buttons will work."))
        return
    try:
        if action == "ack":
            fresh = await broadcasts.acknowledge(db, member.id, bid)
            await query.answer(_("Thank you, noted.") if fresh else _("Already noted."))
        elif action == "copy":
            found = await broadcasts.for_member(db, member.id, bid)
            await query.answer()
            if isinstance(query.message, Message):
                await query.message.answer(broadcast_text(found, member.language, copy=True))
        elif action in ("ask", "comment"):
            await broadcasts.for_member(db, member.id, bid)
            await query.answer()
            await state.set_state(Reply.question if action == "ask" else Reply.comment)
            await state.set_data({"broadcast_id": bid})
            prompt = (_("Send your question; the Union staff will see it.") if action == "ask"
                      else _("Send your comment on the draft law."))
            if isinstance(query.message, Message):
                await query.message.answer(prompt, reply_markup=markup([nav_row(back=False)]))
        elif action in ("approve", "reject"):
            result = await (broadcasts.approve_broadcast if action == "approve"
                            else broadcasts.reject_broadcast)(db, member.id, bid)
            await query.answer()
            await show(query, _("Broadcast B-{id}: {state}.").format(
                id=bid, state=broadcast_state(result.status)))
        elif action == "report":
            await show_report(query, db, member, bid)
            await query.answer()
        elif action == "cancel":
            stopped = await broadcasts.cancel_broadcast(db, member.id, bid)
            await query.answer(ngettext("{count} message will not be sent.",
                                        "{count} messages will not be sent.",
                                        stopped).format(count=stopped), show_alert=True)
            await show_report(query, db, member, bid)
        elif action == "csv":
            text = await broadcasts.report_csv(db, member.id, bid, member.language)
            await query.answer()
            if isinstance(query.message, Message):
                await query.message.answer_document(BufferedInputFile(
                    text.encode("utf-8-sig"), filename=f"broadcast-B{bid}.csv"))
        elif action == "comments":
            from bot.handlers.positions import show_comments

            await show_comments(query, db, member, bid)
            await query.answer()
        else:
            await query.answer(_("This button is no longer active."))
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(Nav.filter(), StateFilter(Reply))
async def on_reply_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await show(query, _("Cancelled."))


@router.message(StateFilter(Reply), F.text)
async def on_reply(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    current = await state.get_state()
    data = await state.get_data()
    if member is None or message.text is None:
        return
    try:
        if current == Reply.question.state:
            await broadcasts.ask_about(db, member.id, int(data["broadcast_id"]), message.text)
            done = _("Your question was sent to the Union staff.")
        else:
            await broadcasts.comment_on_draft(db, member.id, int(data["broadcast_id"]),
                                              message.text)
            done = _("Your comment was recorded. Thank you.")
    except ServiceError as exc:
        await message.answer(refusal(exc))
        if exc.code != "reply_length":
            await state.clear()
        return
    await state.clear()
    await message.answer(done)


@router.message(StateFilter(Reply))
async def on_reply_not_text(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))
