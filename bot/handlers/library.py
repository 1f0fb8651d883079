"""The library (`/library`, the menu's Library) and the decisions archive (`/decisions`).

Browse: groups → a group's kinds (with counts) → newest or most used → an item's card in the
member's language, with its files, "useful", "we use this", who uses it, a question to its author,
and for reviewers approve / return / decline. Every id a button carries is checked again by the
service for the member pressing it.
"""

from __future__ import annotations

import html

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.config import Settings
from bot.flows.ui import Event, show
from bot.i18n import _
from bot.services import decisions, groups, library, library_history, questions
from bot.services.errors import InvalidInput, ServiceError
from bot.services.forums import forums_of
from bot.services.members import MemberView
from bot.views.broadcasts import broadcast_text
from bot.views.broadcasts import kind_label as broadcast_kind
from bot.views.buttons import Row, button, markup, nav_row, page_rows, short
from bot.views.callbacks import Menu, Nav, Qn
from bot.views.digests import day_label
from bot.views.labels import refusal
from bot.views.library import (
    Dec,
    Lib,
    LibHist,
    LibList,
    LibMenu,
    card_buttons,
    card_text,
    clip,
    history_buttons,
    history_text,
    kind_label,
    status_label,
)
from storage.db import Database
from storage.enums import ItemKind

router = Router(name="library")
router.message.filter(F.chat.type == "private")

PER_PAGE = 8


class LibInput(StatesGroup):
    question = State()  # a question to an item's author
    comment = State()  # a reviewer's comment on returning or declining


def _allowed(member: MemberView | None) -> bool:
    return member is not None and member.active


# --- browsing ----------------------------------------------------------------------------------


async def show_home(event: Event, db: Database, member: MemberView, page: int = 0) -> None:
    shelves = [button(("⭐ " if g.joined else "") + short(g.name, 50), LibList(group_id=g.id))
               for g in await groups.list_groups(db, member.id, member.language)]
    rows: list[Row] = page_rows(shelves, page, lambda n: LibList(group_id=0, page=n))
    rows.append([button("💡 " + _("Propose a practice"), LibMenu(item="propose"))])
    kinds = await library.may_add(db, member.id)
    if any(k != ItemKind.PRACTICE for k in kinds):
        rows.append([button("➕ " + _("Add an item"), LibMenu(item="add"))])
    waiting = await library.review_queue(db, member.id, member.language)
    if waiting:
        rows.append([button("📥 " + _("To review: {count}").format(count=len(waiting)),
                            LibMenu(item="queue"))])
    rows.append([button("🗂 " + _("My items"), LibMenu(item="mine"))])
    await show(event, "📚 " + _("The library: practices, legal acts, templates, methods and "
                               "partner products. Choose a group."), markup(rows))


async def show_group(event: Event, db: Database, member: MemberView, data: LibList) -> None:
    try:
        found = await library.shelf(db, member.id, data.group_id, data.kind or None,
                                    data.order, data.page, PER_PAGE, member.language)
    except ServiceError as exc:
        await show(event, refusal(exc))
        return
    counts, items, total = found.counts, found.items, found.total
    kinds: Row = [button(("• " if not data.kind else "") + _("All"),
                         LibList(group_id=data.group_id, order=data.order))]
    rows: list[Row] = [kinds]
    for k in ItemKind:
        if counts.get(k.value):
            rows.append([button(("• " if data.kind == k.value else "") + kind_label(k)
                                + f" ({counts[k.value]})",
                                LibList(group_id=data.group_id, kind=k.value, order=data.order))])
    other = "used" if data.order != "used" else "new"
    rows.append([button(("🔥 " + _("Most used")) if other == "used" else ("🆕 " + _("Newest")),
                        LibList(group_id=data.group_id, kind=data.kind, order=other))])
    lines = ["📚 " + (_("Most used first.") if data.order == "used" else _("Newest first."))]
    for item in items:
        rows.append([button(f"{library.label(item.id)} · {item.title[:30]}",
                            Lib(action="open", item_id=item.id))])
    if not items:
        lines.append(_("Nothing here yet."))
    pages = max(1, -(-total // PER_PAGE))
    pager: Row = []
    if data.page > 0:
        pager.append(button("⬅️", LibList(group_id=data.group_id, kind=data.kind,
                                          order=data.order, page=data.page - 1)))
    if data.page + 1 < pages:
        pager.append(button("➡️", LibList(group_id=data.group_id, kind=data.kind,
                                          order=data.order, page=data.page + 1)))
    rows.append(pager)
    rows.append([button("📚 " + _("All groups"), LibList(group_id=0))])
    if total:
        lines.append(_("Page {page} of {pages}.").format(page=data.page + 1, pages=pages))
    await show(event, "\n".join(lines), markup(rows))


async def show_item(event: Event, db: Database, member: MemberView, item_id: int,
                    answered: bool = True) -> None:
    """The item's card; `answered` False: this is the button press's only answer."""
    try:
        c = await library.card(db, member.id, item_id, member.language)
    except ServiceError as exc:
        if isinstance(event, CallbackQuery) and not answered:
            await event.answer(refusal(exc), show_alert=True)
        else:
            await show(event, refusal(exc))
        return
    if isinstance(event, CallbackQuery) and not answered:
        await event.answer()
    await show(event, card_text(c, member.language), card_buttons(c))


@router.message(Command("library"))
async def on_library(message: Message, state: FSMContext, db: Database,
                     member: MemberView | None) -> None:
    if not _allowed(member):
        await message.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    await state.clear()
    await show_home(message, db, member)


@router.callback_query(Menu.filter(F.item == "library"))
async def on_library_button(query: CallbackQuery, db: Database,
                            member: MemberView | None) -> None:
    await query.answer()
    if _allowed(member):
        assert member is not None
        await show_home(query, db, member)


@router.callback_query(LibList.filter())
async def on_list(query: CallbackQuery, callback_data: LibList, db: Database,
                  member: MemberView | None) -> None:
    await query.answer()
    if not _allowed(member):
        return
    assert member is not None
    if callback_data.group_id == 0:
        await show_home(query, db, member, callback_data.page)
    else:
        await show_group(query, db, member, callback_data)


@router.callback_query(LibMenu.filter(F.item.in_({"queue", "mine"})))
async def on_menu(query: CallbackQuery, callback_data: LibMenu, db: Database,
                  member: MemberView | None) -> None:
    await query.answer()
    if not _allowed(member):
        return
    assert member is not None
    if callback_data.item == "queue":
        items = await library.review_queue(db, member.id, member.language)
        head = _("Proposals waiting for your review:")
    else:
        items = await library.my_items(db, member.id, member.language)
        head = _("Your items:")
    lines = [head] + [f"<b>{library.label(i.id)}</b> {clip(i.title, 80)} — {status_label(i.status)}"
                      for i in items]
    if not items:
        lines.append(_("Nothing here yet."))
    rows = [[button(f"{library.label(i.id)} · {i.title[:30]}", Lib(action="open", item_id=i.id))]
            for i in items]
    rows.append([button("📚 " + _("Library"), LibList(group_id=0))])
    await show(query, "\n".join(lines), markup(rows))


# --- one item ----------------------------------------------------------------------------------


async def send_files(bot: Bot, chat_id: int, db: Database, attachments: list[dict]) -> None:
    for f in attachments:
        if f.get("file_id"):
            if f.get("kind") == "photo":
                await bot.send_photo(chat_id, f["file_id"])
            else:
                await bot.send_document(chat_id, f["file_id"])
            continue
        blob = await library.blob(db, int(f.get("blob_id") or 0))
        if blob is None:
            continue
        if blob.file_id:
            await bot.send_document(chat_id, blob.file_id)
            continue
        sent = await bot.send_document(chat_id, BufferedInputFile(blob.content, blob.name))
        if sent.document is not None and blob.id is not None:
            await library.remember_file_id(db, blob.id, sent.document.file_id)


@router.callback_query(Lib.filter(F.action.in_({"open", "files", "useful", "adopt", "who",
                                                "approve"})))
async def on_item(query: CallbackQuery, callback_data: Lib, db: Database,
                  member: MemberView | None, bot: Bot) -> None:
    if not _allowed(member):
        await query.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    item_id, action = callback_data.item_id, callback_data.action
    try:
        if action == "open":
            await show_item(query, db, member, item_id, answered=False)
        elif action == "files":
            attachments = await library.item_files(db, member.id, item_id)
            await query.answer()
            await send_files(bot, member.telegram_id or 0, db, attachments)
        elif action == "useful":
            counted = await library.mark_useful(db, member.id, item_id)
            await query.answer(_("Thank you!") if counted else _("You have already said so."))
            await show_item(query, db, member, item_id)
        elif action == "adopt":
            counts = await library.adopt(db, member.id, item_id)
            await query.answer(_("Counted. Municipalities using it: {count}.").format(
                count=counts.municipalities), show_alert=True)
            await show_item(query, db, member, item_id)
        elif action == "who":
            places = await library.adopters(db, member.id, item_id, member.language)
            await query.answer()
            lines = [_("Who uses {label}:").format(label=library.label(item_id))]
            lines += [f"<b>{html.escape(d)}</b>: {html.escape(', '.join(m) or '—')}"
                      for d, m in places]
            if not places:
                lines.append(_("Nobody has said so yet."))
            await show(query, "\n".join(lines),
                       markup([[button("⬅️ " + library.label(item_id),
                                       Lib(action="open", item_id=item_id))]]))
        elif action == "approve":
            await library.review(db, member.id, item_id, "approve")
            await query.answer(_("Published."))
            await show_item(query, db, member, item_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)


@router.callback_query(LibHist.filter())
async def on_history(query: CallbackQuery, callback_data: LibHist, db: Database,
                     member: MemberView | None) -> None:
    """Who changed what in an item, and when (its author and reviewers)."""
    if not _allowed(member):
        await query.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    try:
        found = await library_history.history(db, member.id, callback_data.item_id,
                                              member.language, callback_data.page)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await show(query, history_text(found, member.language), history_buttons(found))


@router.callback_query(Lib.filter(F.action.in_({"ask", "return", "decline"})))
async def on_input(query: CallbackQuery, callback_data: Lib, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    if not _allowed(member):
        await query.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    try:
        c = await library.card(db, member.id, callback_data.item_id, member.language)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    if callback_data.action == "ask":
        await state.set_state(LibInput.question)
        await state.set_data({"lib_item": c.id})
        await show(query, _("Your question about {label} “{title}”. It goes to its author and "
                            "to the group «{group}» ({low} to {limit} characters).").format(
            label=library.label(c.id), title=html.escape(c.texts.get("title", "")),
            group=html.escape(c.group_name), low=questions.QUESTION_MIN,
            limit=questions.QUESTION_MAX - 20), markup([nav_row(back=False)]))
        return
    if not c.reviews:
        await show(query, _("You are not allowed to do that."))
        return
    await state.set_state(LibInput.comment)
    await state.set_data({"lib_item": c.id, "lib_decision": callback_data.action})
    prompt = (_("What should the author change? Your comment goes to them.")
              if callback_data.action == "return" else
              _("Your reason for declining goes to the author. Please write it."))
    await show(query, prompt, markup([nav_row(back=False)]))


@router.message(StateFilter(LibInput), F.text)
async def on_input_text(message: Message, state: FSMContext, db: Database,
                        member: MemberView | None, settings: Settings) -> None:
    if member is None or message.text is None:
        return
    if message.text.startswith("/"):
        await message.answer(_("Please answer the question above, or press Cancel."))
        return
    data = await state.get_data()
    item_id = int(data.get("lib_item") or 0)
    try:
        if await state.get_state() == LibInput.question.state:
            question_id = await library.ask_author(db, member.id, item_id, message.text,
                                                   forum_chat_id=forums_of(settings))
            await state.clear()
            await message.answer("✅ " + _("Posted as {label}: the author and the group will "
                                          "see your question.").format(
                label=questions.label(question_id)),
                reply_markup=markup([[button("👁 " + questions.label(question_id),
                                             Qn(action="open", question_id=question_id))]]))
            return
        decision = str(data.get("lib_decision") or "")
        await library.review(db, member.id, item_id, decision, message.text)
    except (InvalidInput, ServiceError) as exc:
        await message.answer(refusal(exc))
        if not isinstance(exc, InvalidInput):
            await state.clear()
        return
    await state.clear()
    await message.answer(_("Done: the author will get your comment."))
    await show_item(message, db, member, item_id)


@router.message(StateFilter(LibInput))
async def on_input_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))


@router.callback_query(Nav.filter(), StateFilter(LibInput))
async def on_input_nav(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await show(query, _("Cancelled. Nothing was saved."))


# --- the decisions archive ---------------------------------------------------------------------


async def show_decisions(event: Event, db: Database, member: MemberView, page: int = 0) -> None:
    lines_, total, page = await decisions.archive(db, member.id, page, PER_PAGE,
                                                  member.language)
    if not lines_:
        await show(event, "🗄 " + _("No decisions have reached you yet."))
        return
    pages = max(1, -(-total // PER_PAGE))
    text = ["🗄 " + _("Decisions and announcements you received. Page {page} of {pages}.")
            .format(page=page + 1, pages=pages)]
    rows: list[Row] = []
    for d in lines_:
        when = day_label(d.when, member.language, year=True) if d.when else ""
        text.append(f"<b>B-{d.id}</b> {when} · {broadcast_kind(d.kind)} · {clip(d.title, 80)}")
        rows.append([button(f"B-{d.id} · {d.title[:30]}", Dec(action="open", broadcast_id=d.id,
                                                               page=page))])
    pager: Row = []
    if page > 0:
        pager.append(button("⬅️", Dec(action="list", page=page - 1)))
    if page + 1 < pages:
        pager.append(button("➡️", Dec(action="list", page=page + 1)))
    rows.append(pager)
    await show(event, "\n".join(text), markup(rows))


@router.message(Command("decisions"))
async def on_decisions(message: Message, db: Database, member: MemberView | None) -> None:
    if not _allowed(member):
        await message.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    await show_decisions(message, db, member)


@router.callback_query(Menu.filter(F.item == "decisions"))
async def on_decisions_button(query: CallbackQuery, db: Database,
                              member: MemberView | None) -> None:
    await query.answer()
    if _allowed(member):
        assert member is not None
        await show_decisions(query, db, member)


@router.callback_query(Dec.filter())
async def on_decision(query: CallbackQuery, callback_data: Dec, db: Database,
                      member: MemberView | None, bot: Bot) -> None:
    if not _allowed(member):
        await query.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    if callback_data.action == "list":
        await query.answer()
        await show_decisions(query, db, member, callback_data.page)
        return
    try:
        found = await decisions.decision(db, member.id, callback_data.broadcast_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await show(query, broadcast_text(found, member.language),
               markup([[button("⬅️ " + _("Decisions"), Dec(action="list",
                                                          page=callback_data.page))]]))
    for doc in found.documents:
        await bot.send_document(member.telegram_id or 0, doc["file_id"])
