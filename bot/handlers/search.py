"""One search (`/search`, the menu's Search) over answered questions, library items and the
decisions the member received: any query gives results or "nothing found", paged, filtered by
kind; each result opens the question's card, the item's card or the decision."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import guard
from bot.flows.ui import Event, show
from bot.i18n import _
from bot.services import decisions, groups, library, questions, search
from bot.services.members import MemberView
from bot.views.buttons import Row, button, markup, nav_row, page_rows, short
from bot.views.callbacks import Kb, Menu, Nav, Qn
from bot.views.library import Dec, Lib, Srf
from bot.views.library import kind_label as item_kind_label
from bot.views.questions import clip, status_label
from storage.db import Database
from storage.enums import ItemKind

router = Router(name="search")
router.message.filter(F.chat.type == "private")

QUERY_MAX = 2000


class Search(StatesGroup):
    query = State()


guard.register_passing(Search)  # results to search again from: no flow, nothing to keep


async def prompt(event: Event, state: FSMContext) -> None:
    await state.set_state(Search.query)
    await show(event, _("What are you looking for? Send a few words, for example: land tax "
                        "arrears."), markup([nav_row(back=False)]))


def _result_line(r: search.Result) -> tuple[str, str, CallbackData]:
    """A result's line and its button: a question, a library item or a decision."""
    if r.kind == "question":
        label = questions.label(r.id)
        return (f"{status_label(r.detail)[:2]} <b>{label}</b> {html.escape(clip(r.title, 200))}",
                label, Qn(action="open", question_id=r.id))
    if r.kind == "library":
        label = library.label(r.id)
        return (f"{item_kind_label(r.detail)[:2]} <b>{label}</b> "
                f"{html.escape(clip(r.title, 200))}", label, Lib(action="open", item_id=r.id))
    label = f"B-{r.id}"
    return (f"🗄 <b>{label}</b> {html.escape(clip(r.title, 200))}", label,
            Dec(action="open", broadcast_id=r.id))


FILTERS = ("", "question", "library", "decision")


def _filter_label(kind: str) -> str:
    return {"": _("All"), "question": _("Questions"), "library": _("Library"),
            "decision": _("Decisions")}[kind]


async def show_results(event: Event, state: FSMContext, db: Database, member: MemberView,
                       query: str, page: int = 0, kind: str = "", group_id: int = 0,
                       item: str = "") -> None:
    query = query[:QUERY_MAX]
    item = item if kind == "library" and item in {k.value for k in ItemKind} else ""
    await state.set_state(Search.query)  # another message searches again
    await state.update_data(kb_query=query, kb_kind=kind, kb_group=group_id, kb_item=item)
    readable = await groups.readable_groups(db, member.id)
    scope = search.Scope(member.id, readable, await decisions.is_staff(db, member.id))
    kinds = (kind,) if kind in search.KINDS else search.KINDS
    found = await search.everything(db, query, scope, kinds=kinds,
                                    group_id=group_id if group_id in readable else None,
                                    item_kind=item or None, language=member.language, page=page)
    filters: Row = [button(("• " if kind == k else "") + _filter_label(k),
                           Srf(kind=k, group_id=group_id)) for k in FILTERS]
    group_name = next((g.name for g in await groups.list_groups(db, member.id, member.language)
                       if g.id == group_id), None) if group_id else None
    chooser = [button("🗂 " + (group_name[:20] if group_name else _("All groups")),
                      Srf(kind=kind, group_id=group_id, choose="group"))]
    # With the library filter, its own kinds: practices, legal acts, templates… (press again:
    # all kinds).
    items: Row = [button(("• " if item == k.value else "") + item_kind_label(k)[:2].strip(),
                         Srf(kind=kind, group_id=group_id, item=k.value))
                  for k in ItemKind] if kind == "library" else []
    if not found.results:
        await show(event, _("Nothing found for “{query}”. Try other or fewer words.").format(
            query=html.escape(clip(query, 100))), markup([filters, chooser, items,
                                                           nav_row(back=False)]))
        return
    total = f"{found.total}+" if found.capped else str(found.total)
    lines = [_("Found: {total}. Page {page} of {pages}.").format(
        total=total, page=found.page + 1, pages=found.pages)]
    rows: list[Row] = [filters, chooser, items]
    for result in found.results:
        line, label, data = _result_line(result)
        lines.append(line)
        rows.append([button(label + " · " + clip(result.title, 28), data)])
    pager: Row = []
    if found.page > 0:
        pager.append(button("⬅️", Kb(page=found.page - 1)))
    if found.page + 1 < found.pages:
        pager.append(button("➡️", Kb(page=found.page + 1)))
    rows.append(pager)
    rows.append(nav_row(back=False))
    lines.append(_("Send another query to search again."))
    await show(event, "\n\n".join(lines), markup(rows))


@router.message(Command("search"))
async def on_search(message: Message, command: CommandObject, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    if member is None or not member.active:
        await message.answer(_("Welcome! Send /start to join Birge.") if member is None
                             else _("You are not allowed to do that."))
        return
    if command.args and command.args.strip():
        await show_results(message, state, db, member, command.args.strip())
    else:
        await prompt(message, state)


@router.callback_query(Menu.filter(F.item == "search"))
async def on_search_button(query: CallbackQuery, state: FSMContext,
                           member: MemberView | None) -> None:
    await query.answer()
    if member is not None and member.active:
        await prompt(query, state)


@router.message(StateFilter(Search.query), F.text, ~F.text.startswith("/"))
async def on_query(message: Message, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    if member is None or message.text is None:
        return
    await show_results(message, state, db, member, message.text.strip())


@router.message(StateFilter(Search.query), ~F.text)
async def on_not_text(message: Message) -> None:
    await message.answer(_("Please send words to search for."))


@router.callback_query(Kb.filter())
async def on_page(query: CallbackQuery, callback_data: Kb, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    data = await state.get_data()
    if member is None or not data.get("kb_query"):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await show_results(query, state, db, member, str(data["kb_query"]), callback_data.page,
                       str(data.get("kb_kind") or ""), int(data.get("kb_group") or 0),
                       str(data.get("kb_item") or ""))


@router.callback_query(Srf.filter())
async def on_filter(query: CallbackQuery, callback_data: Srf, state: FSMContext, db: Database,
                    member: MemberView | None) -> None:
    data = await state.get_data()
    if member is None or not data.get("kb_query"):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if callback_data.choose == "group":
        lines = await groups.list_groups(db, member.id, member.language)
        rows = [[button(("• " if not data.get("kb_group") else "") + _("All groups"),
                        Srf(kind=callback_data.kind, group_id=0))]]
        rows += page_rows([button(short(g.name, 40), Srf(kind=callback_data.kind, group_id=g.id))
                           for g in lines], callback_data.page,
                          lambda n: Srf(kind=callback_data.kind, choose="group", page=n))
        await show(query, _("Search in which group?"), markup(rows))
        return
    await show_results(query, state, db, member, str(data["kb_query"]), callback_data.page,
                       callback_data.kind, callback_data.group_id,
                       "" if callback_data.item == data.get("kb_item") else callback_data.item)


@router.callback_query(Nav.filter(), StateFilter(Search.query))
async def on_nav(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.clear()
    await show(query, _("Search closed."))
