"""Adding to the library, and editing an item (the library's "Propose a practice" and "Add an
item" buttons, and an item's Edit).

A practice: group → title → the problem → what the municipality did → results in numbers → cost
and sources of money → what to watch out for → contact → show my name or not → photos and
documents → preview → send. A legal act: group → title → description → kind of act → adopted by
→ number → date → in force / amended / repealed → link to the official text → the file →
preview. A template, method or partner product: group → title → description (→ partner) →
files → preview. Short steps, Back and Cancel everywhere, optional steps skippable; while
editing, Skip keeps what the item says. The member writes in their own language. Nothing is
written before the last button; `library.submit` / `library.edit` check everything again.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import guard
from bot.flows.attachments import attachment_of
from bot.flows.ui import Event, remember, show, wrong_input
from bot.i18n import TIMEZONE, _, __
from bot.services import files, groups, library
from bot.services.errors import InvalidInput, ServiceError
from bot.services.library import ItemDraft
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup, nav_row
from bot.views.callbacks import Nav, Pick
from bot.views.labels import refusal
from bot.views.library import (
    Lib,
    LibMenu,
    act_status_label,
    item_text,
    kind_label,
)
from bot.views.library import clip as clip_html
from storage.db import Database
from storage.enums import ActStatus, ItemKind, ItemStatus

router = Router(name="library_item")
router.message.filter(F.chat.type == "private")


class LibFlow(StatesGroup):
    kind = State()
    group = State()
    text = State()
    choice = State()
    files = State()
    confirm = State()


ORDER: dict[str, list[str]] = {
    ItemKind.PRACTICE: ["group", "title", "problem", "actions", "results", "cost", "cautions",
                        "contact", "visibility", "files", "confirm"],
    ItemKind.LEGAL_ACT: ["group", "title", "body", "act_kind", "issuer", "number", "date",
                         "act_status", "link", "files", "confirm"],
    ItemKind.TEMPLATE: ["group", "title", "body", "files", "confirm"],
    ItemKind.METHOD: ["group", "title", "body", "files", "confirm"],
    ItemKind.PARTNER: ["group", "title", "body", "partner", "files", "confirm"],
}
TEXT_STEPS = {"title", "problem", "actions", "results", "cost", "cautions", "contact", "body",
              "act_kind", "issuer", "partner", "number", "date", "link"}
OPTIONAL = {"cost", "cautions", "contact", "act_kind", "link"}
CHOICE_STEPS = {"visibility", "act_status"}


def _optional(kind: str, step: str) -> bool:
    return step in OPTIONAL or (kind == ItemKind.LEGAL_ACT and step == "body")


def _today() -> date:
    return datetime.now(TIMEZONE).date()


def _lang(member: MemberView) -> str:
    return member.language if member.language in ("ky", "ru") else "ru"


def _draft(d: dict[str, Any]) -> ItemDraft:
    return ItemDraft(
        kind=d["kind"], group_id=int(d.get("group_id") or 0),
        texts={d["lang"]: dict(d.get("texts", {})), **d.get("other_texts", {})},
        files=list(d.get("files", [])), number=d.get("number"),
        adopted_on=date.fromisoformat(d["date"]) if d.get("date") else None,
        act_status=d.get("act_status"), link=d.get("link"),
        hide_contact=bool(d.get("hide_contact")))


def _current(d: dict[str, Any], step: str) -> str | None:
    if step in ("number", "link"):
        return d.get(step)
    if step == "date":
        return date.fromisoformat(d["date"]).strftime("%d.%m.%Y") if d.get("date") else None
    return (d.get("texts") or {}).get(step)


def _prompt(kind: str, step: str) -> str:
    prompts = {
        "title": _("A short title ({low} to {limit} characters).").format(
            low=library.TITLE_MIN, limit=library.TITLE_MAX),
        "problem": _("What was the problem?"),
        "actions": _("What did the municipality do?"),
        "results": _("What are the results, in numbers?"),
        "cost": _("What did it cost, and where did the money come from? You may skip this."),
        "cautions": _("What should others watch out for? You may skip this."),
        "contact": _("How can colleagues reach you (phone, e-mail)? You may skip this."),
        "body": (_("A short description of the act. You may skip this.")
                 if kind == ItemKind.LEGAL_ACT else _("A short description.")),
        "act_kind": _("Kind of act (law, decree, resolution…). You may skip this."),
        "issuer": _("Which body adopted it?"),
        "partner": _("Which partner organisation made it?"),
        "number": _("The act's number, for example 123 or 45-р."),
        "date": _("The date it was adopted, for example 25.11.2026."),
        "link": _("A link to the official text (Toktom, the Ministry of Justice's database), "
                  "starting with {prefix} You may skip this.").format(prefix="https://"),
    }
    return prompts[step] + "\n" + _("Up to {limit} characters.").format(
        limit=library.TEXT_MAX) if step in library.FIELDS.get(kind, ()) else prompts[step]


async def _groups_for(db: Database, member: MemberView, kind: str) -> list[tuple[int, str]]:
    lines = await groups.list_groups(db, member.id, member.language)
    found = []
    for g in lines:
        if kind in await library.may_add(db, member.id, g.id):
            found.append((g.id, g.name))
    return found


async def ask(event: Event, state: FSMContext, db: Database, member: MemberView,
              everything: dict[str, Any]) -> None:
    d = everything["lib"]
    step, kind = d["step"], d["kind"]
    editing = d.get("mode") == "edit"
    skip = [button((_("Keep") if editing else _("Skip")) + " ➡️", Nav(action="skip"))]
    head = kind_label(kind) + "\n" if kind else ""
    if step == "kind":
        await remember(state, LibFlow.kind, everything)
        kinds = await library.may_add(db, member.id)
        rows = grid([button(kind_label(k), Pick(step="yk", value=k)) for k in kinds], 2)
        await show(event, _("What do you want to add to the library?"),
                   markup([*rows, nav_row(back=False)]))
    elif step == "group":
        await remember(state, LibFlow.group, everything)
        options = await _groups_for(db, member, kind)
        rows = [[button(name[:60], Pick(step="yg", value=str(gid)))] for gid, name in options]
        await show(event, head + _("Which topic group is it for?"),
                   markup([*rows, nav_row(back=False)]))
    elif step in TEXT_STEPS:
        await remember(state, LibFlow.text, everything)
        text = head + _prompt(kind, step)
        current = _current(d, step)
        if editing and current:
            text += "\n\n" + _("Now: {value}").format(value=clip_html(current, 300))
        keep = editing or _optional(kind, step)
        await show(event, text, markup([skip if keep else [], nav_row()]))
    elif step == "visibility":
        await remember(state, LibFlow.choice, everything)
        await show(event, head + _("Show your name with the practice? Reviewers always see "
                                   "it."),
                   markup([[button("👤 " + _("Yes, show my name"), Pick(step="yv", value="0"))],
                           [button("🙈 " + _("No, hide it"), Pick(step="yv", value="1"))],
                           nav_row()]))
    elif step == "act_status":
        await remember(state, LibFlow.choice, everything)
        rows = [[button(act_status_label(s), Pick(step="ya", value=s.value))]
                for s in ActStatus]
        await show(event, head + _("Is the act in force?"), markup([*rows, nav_row()]))
    elif step == "files":
        await remember(state, LibFlow.files, everything)
        text = head + _("Send photos and documents (up to {limit} files of at most {mb} MB: "
                        "{types}), then press Next.").format(
            limit=library.FILES_MAX, mb=files.MAX_MB, types=files.TYPES)
        if d.get("files"):
            text += "\n" + "\n".join("📎 " + html.escape(f["name"]) for f in d["files"])
        await show(event, text, markup([[button(_("Next") + " ➡️", Nav(action="skip"))],
                                        nav_row()]))
    elif step == "confirm":
        await remember(state, LibFlow.confirm, everything)
        draft = _draft(d)
        texts = draft.texts.get(d["lang"], {})
        preview = item_text(kind, texts, number=draft.number, adopted_on=draft.adopted_on,
                            act_status=draft.act_status, link=draft.link, files=draft.files,
                            limit=1000)
        if kind == ItemKind.PRACTICE:
            preview += "\n\n" + (_("Your name is hidden from readers.") if draft.hide_contact
                                 else _("Your name is shown to readers."))
        direct = d.get("direct")
        action = (_("Save") if editing else _("Publish") if direct else _("Send for review"))
        await show(event, _("Please check:") + "\n\n" + preview,
                   markup([[button("✅ " + action, Pick(step="yc", value="yes"))], nav_row()]))


def _advance(d: dict[str, Any], direction: int = 1) -> None:
    order = ORDER[d["kind"]]
    if d.get("mode") == "edit":
        order = [s for s in order if s != "group"]
    i = order.index(d["step"]) if d["step"] in order else -1
    d["step"] = order[max(0, min(i + direction, len(order) - 1))]


# --- entry -------------------------------------------------------------------------------------


async def start(event: Event, state: FSMContext, db: Database, member: MemberView,
                kind: str | None) -> None:
    everything: dict[str, Any] = {"lib": {
        "mode": "new", "kind": kind or "", "step": "group" if kind else "kind",
        "lang": _lang(member), "texts": {}, "files": []}}
    if kind is not None and kind not in await library.may_add(db, member.id):
        await show(event, _("You are not allowed to do that."))
        return
    await ask(event, state, db, member, everything)


async def start_edit(event: Event, state: FSMContext, db: Database, member: MemberView,
                     item_id: int) -> None:
    draft = await library.draft_of(db, member.id, item_id)
    lang = _lang(member)
    if not draft.texts.get(lang):
        lang = next((lg for lg in ("ru", "ky", "en") if draft.texts.get(lg)), lang)
    d = {"mode": "edit", "item_id": item_id, "kind": draft.kind, "step": "title", "lang": lang,
         "group_id": draft.group_id, "texts": dict(draft.texts.get(lang, {})),
         "other_texts": {k: v for k, v in draft.texts.items() if k != lang},
         "files": list(draft.files), "number": draft.number,
         "date": draft.adopted_on.isoformat() if draft.adopted_on else None,
         "act_status": draft.act_status, "link": draft.link, "hide_contact": draft.hide_contact}
    await ask(event, state, db, member, {"lib": d})


@router.callback_query(LibMenu.filter(F.item.in_({"propose", "add"})))
async def on_entry(query: CallbackQuery, callback_data: LibMenu, state: FSMContext,
                   db: Database, member: MemberView | None) -> None:
    await query.answer()
    if member is None or not member.active:
        return
    await start(query, state, db, member,
                ItemKind.PRACTICE.value if callback_data.item == "propose" else None)


@router.callback_query(Lib.filter(F.action == "edit"))
async def on_edit(query: CallbackQuery, callback_data: Lib, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    try:
        await start_edit(query, state, db, member, callback_data.item_id)
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()


# --- the steps ---------------------------------------------------------------------------------


async def resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                 step: str) -> None:
    """Show the current step again (after /help, /language, /continue, a restart)."""
    everything = await _data(state)
    if member is not None and everything is not None:
        await ask(message, state, db, member, everything)


guard.register(LibFlow, __("your library item"), resume)


async def _data(state: FSMContext) -> dict[str, Any] | None:
    everything = await state.get_data()
    return everything if isinstance(everything.get("lib"), dict) else None


@router.callback_query(Nav.filter(), StateFilter(LibFlow))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    await query.answer()
    everything = await _data(state)
    if member is None or everything is None:
        return
    d = everything["lib"]
    if callback_data.action == "cancel":
        await state.clear()
        await show(query, _("Cancelled. Nothing was saved."))
        return
    if callback_data.action == "back":
        if d["step"] in ("kind", "group") or (d.get("mode") == "edit" and d["step"] == "title"):
            return
        _advance(d, -1)
    elif callback_data.action == "skip":
        step = d["step"]
        optional = _optional(d["kind"], step)
        if step in TEXT_STEPS and not (optional or d.get("mode") == "edit"):
            return
        if optional and d.get("mode") != "edit":
            d.get("texts", {}).pop(step, None)
            if step == "link":
                d.pop("link", None)
        _advance(d)
    await ask(query, state, db, member, everything)


@router.message(StateFilter(LibFlow.text), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    everything = await _data(state)
    if member is None or everything is None or message.text is None:
        return
    if message.text.startswith("/"):
        await message.answer(_("Please answer the question above, or press Cancel."))
        return
    d = everything["lib"]
    step = d["step"]
    try:
        if step == "title":
            d["texts"]["title"] = library.clean_title(message.text)
        elif step == "number":
            d["number"] = await library.check_number(db, message.text, d.get("item_id"))
        elif step == "date":
            d["date"] = library.clean_date(library.parse_date(message.text),
                                           _today()).isoformat()
        elif step == "link":
            d["link"] = library.clean_link(message.text)
        else:
            d["texts"][step] = library.clean_text(message.text)
    except InvalidInput as exc:
        await message.answer(refusal(exc))
        return
    _advance(d)
    await ask(message, state, db, member, everything)


@router.message(StateFilter(LibFlow.files), F.document | F.photo)
async def on_file(message: Message, state: FSMContext) -> None:
    everything = await _data(state)
    if everything is None:
        return
    d = everything["lib"]
    attached = list(d.get("files", []))
    if len(attached) >= library.FILES_MAX:
        await message.answer(refusal(InvalidInput("attachments_count",
                                                  limit=library.FILES_MAX)))
        return
    try:
        attached.append(library.check_file(attachment_of(message)))
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    d["files"] = attached
    await state.set_data(everything)
    await message.answer(_("Attached: {name}. Send more, or press Next.").format(
        name=html.escape(attached[-1]["name"])),
        reply_markup=markup([[button(_("Next") + " ➡️", Nav(action="skip"))]]))


@router.message(StateFilter(LibFlow))
async def on_other(message: Message, state: FSMContext) -> None:
    everything = await _data(state)
    step = everything["lib"]["step"] if everything else None
    if step in TEXT_STEPS and message.text is None:
        await message.answer(_("Please send text, not a file, sticker or voice message."))
    else:
        await wrong_input(message, step, TEXT_STEPS, files_step="files")


@router.callback_query(Pick.filter(F.step.in_({"yk", "yg", "ya", "yv", "yc"})),
                       StateFilter(LibFlow))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    everything = await _data(state)
    if member is None or everything is None:
        await query.answer()
        return
    d = everything["lib"]
    expected = {"yk": "kind", "yg": "group", "ya": "act_status", "yv": "visibility",
                "yc": "confirm"}[callback_data.step]
    if d["step"] != expected:
        await query.answer(_("This button is no longer active."))
        return
    value = callback_data.value
    if expected == "kind":
        if value not in await library.may_add(db, member.id):
            await query.answer(_("That choice is not available. Please try again."))
            return
        d["kind"] = value
        d["step"] = "group"
    elif expected == "group":
        options = {gid for gid, _n in await _groups_for(db, member, d["kind"])}
        if not value.isdigit() or int(value) not in options:
            await query.answer(_("That choice is not available. Please try again."))
            return
        d["group_id"] = int(value)
        d["direct"] = await _direct(db, member, d["kind"], int(value))
        _advance(d)
    elif expected == "act_status":
        if value not in {s.value for s in ActStatus}:
            await query.answer(_("That choice is not available. Please try again."))
            return
        d["act_status"] = value
        _advance(d)
    elif expected == "visibility":
        d["hide_contact"] = value == "1"
        _advance(d)
    else:
        await _submit(query, state, db, member, d)
        return
    await query.answer()
    await ask(query, state, db, member, everything)


async def _direct(db: Database, member: MemberView, kind: str, group_id: int) -> bool:
    """Whether this member's item is published at once (they review such items themselves)."""
    from bot.services import policy

    async with db.read() as s:
        actor = await policy.load_actor(s, member.id)
        a = await groups.access(s, actor, group_id)
    return policy.can_review_item(actor, kind, a.moderates)


async def _submit(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                  d: dict[str, Any]) -> None:
    try:
        if d.get("mode") == "edit":
            done = await library.edit(db, member.id, int(d["item_id"]), _draft(d), _today())
        else:
            done = await library.submit(db, member.id, _draft(d), _today())
    except ServiceError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await state.clear()
    label = library.label(done.item_id)
    if done.status == ItemStatus.PUBLISHED:
        text = "✅ " + _("{label} is in the library.").format(label=label)
    else:
        text = "⏳ " + _("{label} is sent for review. You will get a message here when the "
                        "moderators decide.").format(label=label)
    await show(query, text, markup([[button("👁 " + label,
                                            Lib(action="open", item_id=done.item_id))]]))
