"""Topic groups (`/groups`): browse, open a card, join and leave; and, for Union staff, create,
rename and archive groups and appoint or remove their moderators (a short flow for the names)."""

from __future__ import annotations

import html
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import forum
from bot.config import Settings
from bot.flows import guard, steps
from bot.flows.ui import Event, remember, show
from bot.i18n import _, __
from bot.services import broadcasts, groups, reference
from bot.services.errors import ServiceError
from bot.services.forums import forums_of
from bot.services.members import MemberView
from bot.views.buttons import Row, button, grid, markup, nav_row, page_rows
from bot.views.callbacks import Gr, GrMod, GrPage, Menu, Nav, Pick, parse_id
from bot.views.labels import refusal
from bot.views.questions import group_text
from storage.db import Database

router = Router(name="groups")
router.message.filter(F.chat.type == "private")


class GroupAdmin(StatesGroup):
    name_ky = State()
    name_ru = State()
    name_en = State()
    description = State()
    community = State()
    moderator = State()


async def show_groups(event: Event, db: Database, member: MemberView, page: int = 0) -> None:
    lines = await groups.list_groups(db, member.id, member.language)
    buttons = [button(("⭐️ " if g.joined else "") + ("🔒 " if g.community_only else "")
                      + f"{g.name} · {g.members}", Gr(action="open", group_id=g.id))
               for g in lines]
    rows: list[Row] = page_rows(buttons, page, lambda n: GrPage(page=n))
    if await groups.may_manage(db, member.id):
        rows.append([button("➕ " + _("New group"), Gr(action="new", group_id=0))])
    await show(event, _("Topic groups. ⭐️ marks the ones you follow; 🔒 is open to one "
                        "practice community only."), markup(rows))


async def show_group(event: Event, db: Database, member: MemberView, group_id: int) -> None:
    try:
        card = await groups.group_card(db, member.id, group_id, member.language)
    except ServiceError as exc:
        await show(event, refusal(exc))
        return
    rows: list[Row] = []
    if not card.archived:
        rows.append([button("❓ " + _("Ask here"), Gr(action="ask", group_id=group_id)),
                     button(("➖ " + _("Leave")) if card.joined else ("➕ " + _("Join")),
                            Gr(action="leave" if card.joined else "join", group_id=group_id))])
    if card.manages:
        rows.append([button("✏️ " + _("Rename"), Gr(action="rename", group_id=group_id)),
                     button("🛡 " + _("Moderators"), Gr(action="mods", group_id=group_id))])
        if not card.archived:
            rows.append([button("🗄 " + _("Archive"), Gr(action="archive", group_id=group_id))])
    rows.append([button("⬅️ " + _("All groups"), Menu(item="groups"))])
    await show(event, group_text(card, member.language), markup(rows))


async def show_moderators(event: Event, db: Database, member: MemberView, group_id: int) -> None:
    try:
        card = await groups.group_card(db, member.id, group_id, member.language)
    except ServiceError as exc:
        await show(event, refusal(exc))
        return
    if not card.manages:
        await show(event, refusal(ServiceError("denied")))
        return
    rows: list[Row] = [[button("✖️ " + name, GrMod(group_id=group_id, member_id=mid))]
                       for mid, name in card.moderators]
    rows.append([button("➕ " + _("Appoint a moderator"), Gr(action="addmod", group_id=group_id))])
    rows.append([button("⬅️ " + _("Back"), Gr(action="open", group_id=group_id))])
    await show(event, _("Moderators of “{name}”. Tap a name to remove them.").format(
        name=html.escape(card.name)), markup(rows))


@router.message(Command("groups"))
async def on_groups(message: Message, db: Database, member: MemberView | None) -> None:
    if member is None:
        await message.answer(_("Welcome! Send /start to join Birge."))
        return
    await show_groups(message, db, member)


@router.callback_query(Menu.filter(F.item == "groups"))
async def on_groups_button(query: CallbackQuery, db: Database,
                           member: MemberView | None) -> None:
    await query.answer()
    if member is not None:
        await show_groups(query, db, member)


@router.callback_query(GrPage.filter())
async def on_groups_page(query: CallbackQuery, callback_data: GrPage, db: Database,
                         member: MemberView | None) -> None:
    await query.answer()
    if member is not None:
        await show_groups(query, db, member, callback_data.page)


@router.callback_query(Gr.filter(F.action.in_({"open", "join", "leave", "archive", "mods"})))
async def on_group(query: CallbackQuery, callback_data: Gr, db: Database,
                   member: MemberView | None, bot: Bot, settings: Settings) -> None:
    if member is None:
        await query.answer()
        return
    action, group_id = callback_data.action, callback_data.group_id
    try:
        if action == "join":
            joined = await groups.join_group(db, member.id, group_id)
            await query.answer(_("You joined the group: its new questions will reach you.")
                               if joined else _("You are already in this group."))
        elif action == "leave":
            await groups.leave_group(db, member.id, group_id)
            await query.answer(_("You left the group."))
        elif action == "archive":
            await groups.archive_group(db, member.id, group_id)
            await query.answer(_("The group is archived."))
            await forum.close_topic(bot, db, forums_of(settings), group_id)
        else:
            await query.answer()
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    if action == "mods":
        await show_moderators(query, db, member, group_id)
        return
    await show_group(query, db, member, group_id)


@router.callback_query(GrMod.filter())
async def on_remove_moderator(query: CallbackQuery, callback_data: GrMod, db: Database,
                              member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    try:
        await groups.remove_moderator(db, member.id, callback_data.group_id,
                                      callback_data.member_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer(_("Removed."))
    await show_moderators(query, db, member, callback_data.group_id)


# --- staff: new group, rename, appoint a moderator --------------------------------------------


@router.callback_query(Gr.filter(F.action.in_({"new", "rename", "addmod"})))
async def on_admin(query: CallbackQuery, callback_data: Gr, state: FSMContext, db: Database,
                   member: MemberView | None) -> None:
    if member is None or not await groups.may_manage(db, member.id):
        await query.answer(refusal(ServiceError("denied")), show_alert=True)
        return
    await query.answer()
    data = {"ga": {"mode": callback_data.action, "group_id": callback_data.group_id}}
    if callback_data.action == "addmod":
        await remember(state, GroupAdmin.moderator, data)
        await _ask(query, state, db, member, "moderator")
        return
    await remember(state, GroupAdmin.name_ky, data)
    await _ask(query, state, db, member, "name_ky")


async def _ask(event: Event, state: FSMContext, db: Database, member: MemberView,
               step: str) -> None:
    """The prompt of `step` (the state is already there)."""
    if step == "moderator":
        await show(event, _("Send the new moderator's Telegram @username or numeric id."),
                   markup([nav_row(back=False)]))
    elif step == "name_ky":
        await show(event, _("Send the group's name in Kyrgyz (2 to {limit} characters).").format(
            limit=groups.NAME_MAX), markup([nav_row(back=False)]))
    elif step == "name_ru":
        await show(event, _("Now the name in Russian."), markup([nav_row(back=False)]))
    elif step == "name_en":
        await show(event, _("Now the name in English, or skip."), markup([
            [button(_("Skip") + " ➡️", Nav(action="skip"))], nav_row(back=False)]))
    elif step == "description":
        await show(event, _("Send a short description of the group (up to {limit} characters), "
                            "or skip.").format(limit=groups.DESCRIPTION_MAX),
                   markup([[button(_("Skip") + " ➡️", Nav(action="skip"))],
                           nav_row(back=False)]))
    elif step == "community":
        await _ask_community(event, state, db, member)


def _ga(everything: dict[str, Any]) -> dict[str, Any]:
    return dict(everything.get("ga", {}))


@router.message(StateFilter(GroupAdmin), F.text)
async def on_admin_text(message: Message, state: FSMContext, db: Database,
                        member: MemberView | None, bot: Bot, settings: Settings) -> None:
    if member is None or message.text is None:
        return
    step = await state.get_state()
    everything = await state.get_data()
    data = _ga(everything)
    text = " ".join(message.text.split())
    if step == GroupAdmin.moderator.state:
        found, _unknown = await broadcasts.resolve_pasted(db, text.split()[0] if text else "")
        if not found:
            await message.answer(_("Nobody in that list is a Birge member."))
            return
        try:
            await groups.appoint_moderator(db, member.id, int(data["group_id"]), found[0])
        except ServiceError as exc:
            await message.answer(refusal(exc))
            return
        await state.clear()
        await message.answer("✅ " + _("Appointed."))
        await show_moderators(message, db, member, int(data["group_id"]))
        return
    limit = groups.DESCRIPTION_MAX if step == GroupAdmin.description.state else groups.NAME_MAX
    if len(text) > limit or (step != GroupAdmin.description.state and len(text) < 2):
        await message.answer(refusal(ServiceError("group_name", limit=limit)))
        return
    if step == GroupAdmin.name_ky.state:
        data["ky"] = text
        await remember(state, GroupAdmin.name_ru, {**everything, "ga": data})
        await _ask(message, state, db, member, "name_ru")
    elif step == GroupAdmin.name_ru.state:
        data["ru"] = text
        await remember(state, GroupAdmin.name_en, {**everything, "ga": data})
        await _ask(message, state, db, member, "name_en")
    elif step == GroupAdmin.name_en.state:
        data["en"] = text
        await state.update_data(ga=data)
        await _after_names(message, state, db, member, data, bot, settings)
    elif step == GroupAdmin.description.state:
        data["description"] = text
        await state.update_data(ga=data)
        await _ask_community(message, state, db, member)


async def _after_names(event: Event, state: FSMContext, db: Database, member: MemberView,
                       data: dict[str, Any], bot: Bot, settings: Settings) -> None:
    if data.get("mode") == "rename":
        try:
            await groups.rename_group(db, member.id, int(data["group_id"]),
                                      {k: data.get(k) for k in ("ky", "ru", "en")})
        except ServiceError as exc:
            await show(event, refusal(exc))
            return
        await forum.rename_topic(bot, db, forums_of(settings), int(data["group_id"]),
                                 settings.default_language)
        await state.clear()
        await show(event, "✅ " + _("Renamed."))
        await show_group(event, db, member, int(data["group_id"]))
        return
    await state.set_state(GroupAdmin.description)
    await _ask(event, state, db, member, "description")


async def _ask_community(event: Event, state: FSMContext, db: Database,
                         member: MemberView) -> None:
    await state.set_state(GroupAdmin.community)
    options = [button("🌍 " + _("Open to every member"), Pick(step="gc", value="all"))]
    options += [button("🔒 " + c.name, Pick(step="gc", value=str(c.id)))
                for c in await reference.communities(db, member.language)]
    await show(event, _("Who may join the group?"), markup([*grid(options, 1),
                                                            nav_row(back=False)]))


@router.callback_query(Nav.filter(), StateFilter(GroupAdmin))
async def on_admin_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext,
                       db: Database, member: MemberView | None, bot: Bot,
                       settings: Settings) -> None:
    await query.answer()
    step = await state.get_state()
    if member is None:
        return
    data = _ga(await state.get_data())
    if callback_data.action == "skip" and step == GroupAdmin.name_en.state:
        await _after_names(query, state, db, member, data, bot, settings)
    elif callback_data.action == "skip" and step == GroupAdmin.description.state:
        await _ask_community(query, state, db, member)
    else:
        await state.clear()
        await show(query, _("Cancelled."))


@router.callback_query(Pick.filter(F.step == "gc"), StateFilter(GroupAdmin.community))
async def on_community(query: CallbackQuery, callback_data: Pick, state: FSMContext,
                       db: Database, member: MemberView | None, bot: Bot,
                       settings: Settings) -> None:
    if member is None:
        await query.answer()
        return
    data = _ga(await state.get_data())
    value = callback_data.value
    community = parse_id(value)
    try:
        group_id = await groups.create_group(db, member.id,
                                             {k: data.get(k) for k in ("ky", "ru", "en")},
                                             data.get("description", ""), community)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await state.clear()
    await show(query, "✅ " + _("The group is created."))
    await forum.sync_topics(bot, db, forums_of(settings), settings.default_language)
    await show_group(query, db, member, group_id)


@router.message(StateFilter(GroupAdmin))
async def on_admin_other(message: Message) -> None:
    await message.answer(_("Please send text, not a file, sticker or voice message."))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is not None and await groups.may_manage(db, member.id):
        await _ask(message, state, db, member, step)


guard.register(GroupAdmin, __("the topic group you are setting up"), _resume)
steps.track(GroupAdmin)
