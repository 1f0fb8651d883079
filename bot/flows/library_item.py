"""Adding to the library, and editing an item (the library's "Propose a practice" and "Add an
item" buttons, and an item's Edit).

Every kind: group → the languages the author writes in (Kyrgyz and/or Russian, English too if
they like; their own language is ticked) → the texts, once per chosen language → the rest once.
A practice's texts: title → the problem → what the municipality did → results in numbers → cost
and sources of money → what to watch out for; then contact → show my name or not → photos and
documents → preview → send. A legal act's texts: title → description → kind of act → adopted by;
then number → date → in force / amended / repealed → link to the official text → the file →
preview. A template, method or partner product: title → description (→ partner) → files →
preview. In a second language every part but the title may be skipped: readers of that language
get the part in the first one (the card falls back part by part, ky → ru → en, as broadcasts do).
Short steps, Back and Cancel everywhere, optional steps skippable; while editing, Skip keeps
what the item says, and the languages step adds a language (a moderator adds the Kyrgyz of a
Russian practice) or drops one. Nothing is written before the last button; `library.submit` /
`library.edit` check everything again.
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

from bot.flows import guard, steps
from bot.flows.attachments import attachment_of
from bot.flows.ui import Event, remember, show, wrong_input
from bot.i18n import TIMEZONE, _, __, language_name
from bot.services import files, groups, library
from bot.services.errors import InvalidInput, ServiceError
from bot.services.library import ItemDraft
from bot.services.members import MemberView
from bot.views.buttons import button, grid, markup, nav_row, page_number, page_rows, short
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
    languages = State()
    text = State()
    choice = State()
    files = State()
    confirm = State()


# The steps asked once per chosen language, then the steps asked once.
PER_LANGUAGE: dict[str, list[str]] = {
    ItemKind.PRACTICE: ["title", "problem", "actions", "results", "cost", "cautions"],
    ItemKind.LEGAL_ACT: ["title", "body", "act_kind", "issuer"],
    ItemKind.TEMPLATE: ["title", "body"],
    ItemKind.METHOD: ["title", "body"],
    ItemKind.PARTNER: ["title", "body"],
}
ONCE: dict[str, list[str]] = {
    ItemKind.PRACTICE: ["contact", "visibility", "files", "confirm"],
    ItemKind.LEGAL_ACT: ["number", "date", "act_status", "link", "files", "confirm"],
    ItemKind.TEMPLATE: ["files", "confirm"],
    ItemKind.METHOD: ["files", "confirm"],
    ItemKind.PARTNER: ["partner", "files", "confirm"],
}
# Texts written once (a phone number, an organisation's name): kept in the first language.
SHARED_TEXTS = {"contact", "partner"}
TEXT_STEPS = {"title", "problem", "actions", "results", "cost", "cautions", "contact", "body",
              "act_kind", "issuer", "partner", "number", "date", "link"}
OPTIONAL = {"cost", "cautions", "contact", "act_kind", "link"}
CHOICE_STEPS = {"visibility", "act_status"}


def _optional(d: dict[str, Any], step: str) -> bool:
    """May this step be skipped: an optional part, or any part but the title in a second
    language (its readers get the first language's)."""
    if step in OPTIONAL or (d["kind"] == ItemKind.LEGAL_ACT and step == "body"):
        return True
    langs = d.get("langs") or []
    return (step in PER_LANGUAGE.get(d["kind"], ()) and step != "title" and bool(langs)
            and d.get("lang") != langs[0])


def _today() -> date:
    return datetime.now(TIMEZONE).date()


def _lang(member: MemberView) -> str:
    return member.language if member.language in ("ky", "ru") else "ru"


def _texts(d: dict[str, Any], lang: str) -> dict[str, str]:
    texts: dict[str, dict[str, str]] = d.setdefault("texts", {})
    return texts.setdefault(lang, {})


def _draft(d: dict[str, Any]) -> ItemDraft:
    langs = d.get("langs") or []
    texts = {lang: dict(v) for lang, v in (d.get("texts") or {}).items() if lang in langs and v}
    for step in SHARED_TEXTS:  # a contact kept in a language the author dropped moves over
        value = _current(d, step)
        if value and langs and not any(step in v for v in texts.values()):
            texts.setdefault(langs[0], {})[step] = value
    return ItemDraft(
        kind=d["kind"], group_id=int(d.get("group_id") or 0), texts=texts,
        files=list(d.get("files", [])), number=d.get("number"),
        adopted_on=date.fromisoformat(d["date"]) if d.get("date") else None,
        act_status=d.get("act_status"), link=d.get("link"),
        hide_contact=bool(d.get("hide_contact")))


def _current(d: dict[str, Any], step: str) -> str | None:
    if step in ("number", "link"):
        return d.get(step)
    if step == "date":
        return date.fromisoformat(d["date"]).strftime("%d.%m.%Y") if d.get("date") else None
    texts = d.get("texts") or {}
    if step in SHARED_TEXTS:
        return next((texts[lg][step] for lg in library.LANGUAGES
                     if (texts.get(lg) or {}).get(step)), None)
    return (texts.get(d.get("lang") or "") or {}).get(step)


def _upgrade(d: dict[str, Any]) -> None:
    """A flow begun before the languages step (texts of one language, flat): the same data."""
    if "langs" in d:
        return
    lang = d.get("lang") or "ru"
    d["texts"] = {lang: dict(d.get("texts") or {}), **(d.pop("other_texts", None) or {})}
    d["langs"] = [lg for lg in library.LANGUAGES if d["texts"].get(lg)] or [lang]


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
        rows = page_rows([button(short(name, 60), Pick(step="yg", value=str(gid)))
                          for gid, name in options], int(d.get("group_page", 0)),
                         lambda n: Pick(step="ygp", value=str(n)))
        await show(event, head + _("Which topic group is it for?"),
                   markup([*rows, nav_row(back=False)]))
    elif step == "languages":
        await remember(state, LibFlow.languages, everything)
        chosen = d.get("langs") or []
        rows = [[button(("☑️ " if lang in chosen else "⬜ ") + language_name(lang),
                        Pick(step="yl", value=lang))] for lang in library.LANGUAGES]
        rows.append([button(_("Next") + " ➡️", Pick(step="yl", value="ok"))])
        await show(event, head + _("In which languages will you write? Tick one or more: "
                                   "Kyrgyz or Russian, English if you like. Readers of another "
                                   "language see the text in the language you wrote it in."),
                   markup([*rows, nav_row()]))
    elif step in TEXT_STEPS:
        await remember(state, LibFlow.text, everything)
        text = head
        if step in PER_LANGUAGE.get(kind, ()):
            text += _("Language of this text: {language}").format(
                language=language_name(d.get("lang") or "ru")) + "\n"
        text += _prompt(kind, step)
        current = _current(d, step)
        if editing and current:
            text += "\n\n" + _("Now: {value}").format(value=clip_html(current, 300))
        keep = (editing and bool(current)) or _optional(d, step)
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
        langs = [lg for lg in d.get("langs") or [] if lg in draft.texts]
        shown = member.language if member.language in langs else (langs or ["ru"])[0]
        texts = library.merge_texts(draft.texts, shown)
        preview = item_text(kind, texts, number=draft.number, adopted_on=draft.adopted_on,
                            act_status=draft.act_status, link=draft.link, files=draft.files,
                            limit=1000)
        preview += "\n\n" + _("Written in: {languages}").format(
            languages=", ".join(language_name(lg) for lg in langs))
        if kind == ItemKind.PRACTICE:
            preview += "\n\n" + (_("Your name is hidden from readers.") if draft.hide_contact
                                 else _("Your name is shown to readers."))
        direct = d.get("direct")
        action = (_("Save") if editing else _("Publish") if direct else _("Send for review"))
        await show(event, _("Please check:") + "\n\n" + preview,
                   markup([[button("✅ " + action, Pick(step="yc", value="yes"))], nav_row()]))


def _order(d: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every step of this draft in order, each with the language it is written in."""
    kind = d["kind"]
    order: list[tuple[str, str | None]] = [] if d.get("mode") == "edit" else [("group", None)]
    order.append(("languages", None))
    for lang in d.get("langs") or []:
        order += [(step, lang) for step in PER_LANGUAGE[kind]]
    return order + [(step, None) for step in ONCE[kind]]


def _advance(d: dict[str, Any], direction: int = 1) -> None:
    order = _order(d)
    here = (d["step"], d.get("lang") if d["step"] in PER_LANGUAGE[d["kind"]] else None)
    i = order.index(here) if here in order else -1
    step, lang = order[max(0, min(i + direction, len(order) - 1))]
    d["step"] = step
    if lang is not None:
        d["lang"] = lang


# --- entry -------------------------------------------------------------------------------------


async def start(event: Event, state: FSMContext, db: Database, member: MemberView,
                kind: str | None) -> None:
    everything: dict[str, Any] = {"lib": {
        "mode": "new", "kind": kind or "", "step": "group" if kind else "kind",
        "lang": _lang(member), "langs": [_lang(member)], "texts": {}, "files": []}}
    if kind is not None and kind not in await library.may_add(db, member.id):
        await show(event, _("You are not allowed to do that."))
        return
    await ask(event, state, db, member, everything)


async def start_edit(event: Event, state: FSMContext, db: Database, member: MemberView,
                     item_id: int) -> None:
    draft = await library.draft_of(db, member.id, item_id)
    langs = [lg for lg in library.LANGUAGES if draft.texts.get(lg)]
    d = {"mode": "edit", "item_id": item_id, "kind": draft.kind, "step": "languages",
         "lang": (langs or [_lang(member)])[0], "langs": langs or [_lang(member)],
         "group_id": draft.group_id, "texts": {k: dict(v) for k, v in draft.texts.items()},
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
steps.track(LibFlow)


async def _data(state: FSMContext) -> dict[str, Any] | None:
    everything = await state.get_data()
    if not isinstance(everything.get("lib"), dict):
        return None
    _upgrade(everything["lib"])
    return everything


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
        if d["step"] in ("kind", "group") or (d.get("mode") == "edit"
                                              and d["step"] == "languages"):
            return
        _advance(d, -1)
    elif callback_data.action == "skip":
        step = d["step"]
        optional = _optional(d, step)
        keeps = d.get("mode") == "edit" and bool(_current(d, step))
        if step in TEXT_STEPS and not (optional or keeps):
            return
        if optional and not keeps:
            _texts(d, d.get("lang") or "ru").pop(step, None)
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
            _texts(d, d.get("lang") or "ru")["title"] = library.clean_title(message.text)
        elif step == "number":
            d["number"] = await library.check_number(db, message.text, d.get("item_id"))
        elif step == "date":
            d["date"] = library.clean_date(library.parse_date(message.text),
                                           _today()).isoformat()
        elif step == "link":
            d["link"] = library.clean_link(message.text)
        elif step in SHARED_TEXTS:
            value = library.clean_text(message.text)
            for fields in (d.get("texts") or {}).values():
                fields.pop(step, None)
            _texts(d, (d.get("langs") or ["ru"])[0])[step] = value
        else:
            _texts(d, d.get("lang") or "ru")[step] = library.clean_text(message.text)
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


@router.callback_query(Pick.filter(F.step.in_({"yk", "yg", "ygp", "yl", "ya", "yv", "yc"})),
                       StateFilter(LibFlow))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    everything = await _data(state)
    if member is None or everything is None:
        await query.answer()
        return
    d = everything["lib"]
    expected = {"yk": "kind", "yg": "group", "ygp": "group", "yl": "languages", "ya": "act_status",
                "yv": "visibility", "yc": "confirm"}[callback_data.step]
    if d["step"] != expected:
        await guard.stale_press(query, state, db, member)  # its prompt, lost to a restart?
        return
    value = callback_data.value
    if expected == "kind":
        if value not in await library.may_add(db, member.id):
            await query.answer(_("That choice is not available. Please try again."))
            return
        d["kind"] = value
        d["step"] = "group"
    elif callback_data.step == "ygp":  # another page of the groups
        d["group_page"] = page_number(value)
    elif expected == "group":
        options = {gid for gid, _n in await _groups_for(db, member, d["kind"])}
        if not value.isdigit() or int(value) not in options:
            await query.answer(_("That choice is not available. Please try again."))
            return
        d["group_id"] = int(value)
        d["direct"] = await _direct(db, member, d["kind"], int(value))
        _advance(d)
    elif expected == "languages":
        chosen = list(d.get("langs") or [])
        if value in library.LANGUAGES:
            chosen = [lg for lg in library.LANGUAGES
                      if (lg in chosen) != (lg == value)]  # tick or untick
            d["langs"] = chosen
        elif value != "ok":
            await query.answer(_("That choice is not available. Please try again."))
            return
        elif not {"ky", "ru"} & set(chosen):
            await query.answer(_("Please tick Kyrgyz or Russian: English alone is not "
                                 "enough."), show_alert=True)
            return
        else:
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
