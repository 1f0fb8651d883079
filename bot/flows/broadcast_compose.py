"""Composing a broadcast (`/broadcast`): Union staff and state-body liaisons.

kind → title → text in Kyrgyz → in Russian → in English (optional) → documents → source link →
comment deadline (draft laws) → audience (everyone, or any mix of roles, communities, regions,
districts, languages, or a pasted list, with a live count) → a preview exactly as a member will see
it → send now or at a time → confirm with the number of recipients. Answers live in FSM state;
`broadcasts.submit_broadcast` checks everything again and decides who may send.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import audience as picker
from bot.flows import dates, guard, steps
from bot.flows.dates import date_refusal, parse_moment
from bot.flows.ui import Event, nav_press, notice, show, wrong_input
from bot.i18n import LANGUAGES, _, __, format_when, in_locale, language_name
from bot.services import broadcasts
from bot.services.broadcasts import Audience, Draft
from bot.services.errors import PermissionDenied, ServiceError
from bot.services.members import MemberView
from bot.services.policy import Capability, capabilities
from bot.views.audience import DIMENSIONS, menu_rows
from bot.views.broadcasts import broadcast_text, kind_label
from bot.views.buttons import button, grid, markup, nav_row
from bot.views.callbacks import Bc, Nav, Pick
from bot.views.labels import refusal
from bot.views.legal import calendar
from storage.db import Database
from storage.enums import BroadcastKind, BroadcastStatus
from storage.models import Broadcast
from storage.types import utcnow

router = Router(name="broadcast_compose")
router.message.filter(F.chat.type == "private")


class Compose(StatesGroup):
    kind = State()
    title = State()
    text_ky = State()
    text_ru = State()
    text_en = State()
    documents = State()
    source = State()
    deadline = State()
    audience = State()
    paste = State()
    when = State()
    confirm = State()


TEXT_STEPS = {"title", "text_ky", "text_ru", "text_en", "source", "deadline", "paste", "when"}


def _allowed(member: MemberView | None) -> bool:
    return member is not None and Capability.BROADCAST in capabilities(member.roles,
                                                                         member.active)


def _draft(data: dict[str, Any]) -> Draft:
    def moment(key: str) -> datetime | None:
        return datetime.fromisoformat(data[key]) if data.get(key) else None

    return Draft(
        kind=BroadcastKind(data["kind"]), title=data.get("title", ""),
        title_ky=data.get("title_ky"), title_en=data.get("title_en"),
        text_ky=data.get("text_ky", ""), text_ru=data.get("text_ru", ""),
        text_en=data.get("text_en"), source_url=data.get("source"),
        documents=list(data.get("documents", [])),
        audience=Audience.from_json(data.get("audience")), send_at=moment("send_at"),
        comments_until=moment("deadline"),
    )


def _preview_row(data: dict[str, Any]) -> Broadcast:
    d = _draft(data)
    return Broadcast(id=0, kind=d.kind, title=d.title, title_ky=d.title_ky, title_en=d.title_en,
                     text_ky=d.text_ky, text_ru=d.text_ru,
                     text_en=d.text_en, source_url=d.source_url, documents=d.documents,
                     audience={}, created_by_id=0, comments_until=d.comments_until)


# --- asking each question --------------------------------------------------------------------


async def ask(event: Event, state: FSMContext, db: Database, member: MemberView,
              step: str, month: tuple[int, int] | None = None) -> None:
    await state.set_state(getattr(Compose, step))
    data = await state.get_data()
    skip = [button(_("Skip") + " ➡️", Nav(action="skip"))]
    if step == "kind":
        buttons = [button(kind_label(k), Pick(step="bk", value=k.value)) for k in BroadcastKind]
        await show(event, _("New broadcast. What kind is it?"),
                   markup([*grid(buttons, 1), nav_row(back=False)]))
    elif step == "title":
        await show(event, _("Send the title on two or three lines: in Kyrgyz, in Russian, and "
                            "in English if you like (each up to {limit} characters).").format(
            limit=broadcasts.TITLE_MAX), markup([nav_row()]))
    elif step in ("text_ky", "text_ru", "text_en"):
        lang = step[-2:]
        text = _("Send the text in {language} (up to {limit} characters).").format(
            language=language_name(lang), limit=broadcasts.TEXT_MAX)
        if lang == "en":
            text += "\n" + _("English is optional: members who read English get the Russian "
                             "text without it.")
        await show(event, text, markup([skip, nav_row()] if lang == "en" else [nav_row()]))
    elif step == "documents":
        docs = data.get("documents", [])
        text = _("Send documents to attach (up to {limit}), then press Done.").format(
            limit=broadcasts.DOCUMENTS_MAX)
        if docs:
            text += "\n" + "\n".join("📎 " + html.escape(d["name"]) for d in docs)
        await show(event, text, markup([[button(_("Done") + " ➡️", Nav(action="skip"))],
                                        nav_row()]))
    elif step == "source":
        await show(event, _("Send the link to the source (for example the act in Toktom), or "
                            "skip."), markup([skip, nav_row()]))
    elif step == "deadline":
        day = dates.today()
        year, mon = month or (day.year, day.month)
        await show(event, _("Until when may members comment? Pick a day, or send a date such "
                            "as 25.12.2026."),
                   markup([*calendar(year, mon, member.language, day, "blm", "bld"),
                           nav_row()]))
    elif step == "audience":
        await _show_audience(event, db, member, data)
    elif step == "paste":
        await show(event, _("Paste the list: Telegram @usernames or numeric ids, separated by "
                            "spaces, commas or new lines."), markup([nav_row()]))
    elif step == "when":
        await show(event, _("Send the date and time in Bishkek time, for example "
                            "25.11.2026 09:00."), markup([nav_row()]))
    elif step == "confirm":
        await _show_confirm(event, db, member, data)


async def _show_audience(event: Event, db: Database, member: MemberView,
                         data: dict[str, Any]) -> None:
    audience = Audience.from_json(data.get("audience"))
    try:
        count = await broadcasts.count_audience(db, member.id, audience)
    except PermissionDenied:
        count = 0
    text = _("Who should receive it? Now: {summary}. Recipients: {count}.").format(
        summary=await picker.summary(db, audience, member.language), count=count)
    await show(event, text, markup(menu_rows("b", DIMENSIONS, paste=True, done=_("Preview"))))


async def _show_confirm(event: Event, db: Database, member: MemberView,
                        data: dict[str, Any]) -> None:
    try:
        count = await broadcasts.count_audience(db, member.id,
                                                Audience.from_json(data.get("audience")))
    except PermissionDenied:
        count = 0
    when = _("now")
    if data.get("send_at"):
        when = format_when(datetime.fromisoformat(data["send_at"]), member.language)
    await show(event, _("Send to {count} recipients, {when}?").format(count=count, when=when),
               markup([[button("✅ " + _("Confirm and send"), Pick(step="bc", value="yes"))],
                       nav_row()]))


async def show_preview(event: Event, state: FSMContext, db: Database, member: MemberView,
                       lang: str) -> None:
    """The broadcast exactly as a member reading `lang` will get it, then what to do next."""
    await state.set_state(Compose.audience)
    data = await state.get_data()
    row = _preview_row(data)
    target: Message | None = None
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        target = event.message
    elif isinstance(event, Message):
        target = event
    if target is None:
        return
    from bot.views.broadcasts import member_buttons

    with in_locale(lang):  # the whole message in `lang`: its frame and buttons too
        await target.answer(broadcast_text(row, lang), reply_markup=member_buttons(row))
    langs = [button(("👁 " if c == lang else "") + language_name(c),
                    Pick(step="bp", value=c)) for c in LANGUAGES]
    await target.answer(
        _("Above is the preview in {language}, as members will see it.").format(
            language=language_name(lang)),
        reply_markup=markup([
            langs,
            [button("🚀 " + _("Send now"), Pick(step="bw", value="now")),
             button("🕘 " + _("Schedule"), Pick(step="bw", value="later"))],
            [button("👥 " + _("Change the audience"), Pick(step="ba", value="menu"))],
            nav_row(back=False),
        ]))


# --- entry, navigation -------------------------------------------------------------------------


@router.message(Command("broadcast"))
async def on_broadcast(message: Message, state: FSMContext, db: Database,
                       member: MemberView | None) -> None:
    if not _allowed(member):
        await message.answer(_("You are not allowed to do that."))
        return
    assert member is not None
    await state.set_data({"documents": [], "audience": {}})
    await ask(message, state, db, member, "kind")


ORDER = ["kind", "title", "text_ky", "text_ru", "text_en", "documents", "source", "deadline",
         "audience"]


def _step(raw: str | None) -> str | None:
    return raw.split(":", 1)[1] if raw and raw.startswith("Compose:") else None


def _next(step: str, data: dict[str, Any], direction: int = 1) -> str:
    i = ORDER.index(step) + direction if step in ORDER else len(ORDER) - 1
    i = max(0, min(i, len(ORDER) - 1))
    if ORDER[i] == "deadline" and data.get("kind") != BroadcastKind.DRAFT_LAW:
        i += direction
    return ORDER[max(0, min(i, len(ORDER) - 1))]


@router.callback_query(Nav.filter(), StateFilter(Compose))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    pressed = await nav_press(query, state, member is not None, callback_data.action,
                              _("Cancelled. Nothing was sent."))
    if pressed is None or member is None:
        return
    step, data = pressed
    if callback_data.action == "back":
        back = {"paste": "audience", "when": "audience", "confirm": "audience"}.get(step)
        await ask(query, state, db, member, back or _next(step, data, -1))
    elif callback_data.action == "skip" and step in ("text_en", "documents", "source"):
        if step != "documents":
            data[step] = None
            await state.set_data(data)
        await ask(query, state, db, member, _next(step, data))


@router.message(StateFilter(Compose), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None or message.text is None:
        return
    if step not in TEXT_STEPS:
        await message.answer(_("Please use the buttons."))
        return
    text = message.text.strip()
    data = await state.get_data()
    if step == "title":
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        if not 2 <= len(lines) <= 3:
            await message.answer(_("Please send the title on two lines (Kyrgyz, then Russian), "
                                   "or three with English."))
            return
        for line in lines:
            if not 3 <= len(line) <= broadcasts.TITLE_MAX:
                await message.answer(_("That is too long: at most {limit} characters.").format(
                    limit=broadcasts.TITLE_MAX) if len(line) > 3
                    else _("The title is too short."))
                return
        data.update(title_ky=lines[0], title=lines[1],
                    title_en=lines[2] if len(lines) > 2 else None)
    elif step in ("text_ky", "text_ru", "text_en"):
        if len(text) > broadcasts.TEXT_MAX:
            await message.answer(_("That is too long: at most {limit} characters.").format(
                limit=broadcasts.TEXT_MAX))
            return
        data[step] = text
    elif step == "source":
        if not (text.startswith("http://") or text.startswith("https://")) or " " in text \
                or len(text) > 490:
            await message.answer(_("Please send a link that starts with https://, or skip."))
            return
        data["source"] = text
    elif step == "deadline":
        moment = parse_moment(text, end_of_day=True)
        if moment is None or moment <= utcnow():
            await message.answer(date_refusal(text, _("Please send a future date, for example "
                                                      "25.12.2026.")))
            return
        data["deadline"] = moment.isoformat()
    elif step == "paste":
        found, unknown = await broadcasts.resolve_pasted(db, text)
        if not found:
            await message.answer(_("Nobody in that list is a Birge member."))
            return
        data["audience"] = {"members": found}
        await state.set_data(data)
        if unknown:
            await message.answer(_("Not found: {names}").format(
                names=html.escape(", ".join(unknown[:20]))))
        await ask(message, state, db, member, "audience")
        return
    elif step == "when":
        moment = parse_moment(text)
        if moment is None or moment <= utcnow():
            await message.answer(date_refusal(text, _("Please send a future date and time, "
                                                      "for example 25.11.2026 09:00.")))
            return
        data["send_at"] = moment.isoformat()
        await state.set_data(data)
        await ask(message, state, db, member, "confirm")
        return
    await state.set_data(data)
    await ask(message, state, db, member, _next(step, data))


@router.message(StateFilter(Compose.documents), F.document)
async def on_document(message: Message, state: FSMContext, member: MemberView | None) -> None:
    assert message.document is not None
    data = await state.get_data()
    docs = list(data.get("documents", []))
    if len(docs) >= broadcasts.DOCUMENTS_MAX:
        await message.answer(_("At most {limit} documents.").format(
            limit=broadcasts.DOCUMENTS_MAX))
        return
    if (message.document.file_size or 0) > 20 * 1024 * 1024:
        await message.answer(_("That file is larger than {limit} MB.").format(limit=20))
        return
    docs.append({"file_id": message.document.file_id,
                 "name": (message.document.file_name or "document")[:100]})
    data["documents"] = docs
    await state.set_data(data)
    await message.answer(_("Attached: {name}. Send more, or press Done.").format(
        name=html.escape(docs[-1]["name"])),
        reply_markup=markup([[button(_("Done") + " ➡️", Nav(action="skip"))]]))


@router.message(StateFilter(Compose))
async def on_other(message: Message, state: FSMContext) -> None:
    await wrong_input(message, _step(await state.get_state()), TEXT_STEPS)


@router.callback_query(Pick.filter(F.step.startswith("b")), StateFilter(Compose))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    if member is None:
        await query.answer()
        return
    step = _step(await state.get_state())
    data = await state.get_data()
    value = callback_data.value
    kind = callback_data.step
    if kind == "bk" and step == "kind":
        if value not in {k.value for k in BroadcastKind}:
            await query.answer(_("That choice is not available. Please try again."))
            return
        data["kind"] = value
        await state.set_data(data)
        await query.answer()
        await ask(query, state, db, member, "title")
        return
    if kind in ("blm", "bld") and step == "deadline":
        await _on_calendar(query, state, db, member, data, kind == "blm", value)
        return
    if step not in ("audience", "confirm"):
        await query.answer(_("This button is no longer active."))
        if step in ORDER and step not in ("audience", "confirm"):
            await ask(query, state, db, member, step)  # the step's prompt, lost to a restart?
        return
    if value in DIMENSIONS and kind == "ba" and data.get("audience", {}).get("members"):
        data["audience"] = {}  # choosing by dimension replaces a pasted list
        await state.set_data(data)
    if await picker.on_button(query, state, db, member, data, kind, value, "b"):
        return
    if kind not in ("ba", "bp", "bw", "bc"):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if kind == "ba":
        if value == "everyone":
            data["audience"] = {}
        elif value == "paste":
            await ask(query, state, db, member, "paste")
            return
        elif value == "done":
            await show_preview(query, state, db, member, member.language)
            return
        await state.set_data(data)
        await ask(query, state, db, member, "audience")
    elif kind == "bp" and value in LANGUAGES:
        await show_preview(query, state, db, member, value)
    elif kind == "bw":
        if value == "now":
            data.pop("send_at", None)
            await state.set_data(data)
            await ask(query, state, db, member, "confirm")
        else:
            await ask(query, state, db, member, "when")
    elif kind == "bc" and value == "yes":
        await _submit(query, state, db, member, data)


async def _on_calendar(query: CallbackQuery, state: FSMContext, db: Database,
                       member: MemberView, data: dict[str, Any], month: bool, value: str) -> None:
    """A month (◀ ▶) or a day pressed on the comment deadline's calendar (Bishkek days)."""
    shown = dates.calendar_press(value, month)
    day = dates.today()
    if shown is None or (shown.year, shown.month) > (day.year + 2, day.month):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if month or shown < day:
        shown = max(shown, day)
        await ask(query, state, db, member, "deadline", (shown.year, shown.month))
        return
    data["deadline"] = dates.end_of_day(shown).isoformat()
    await state.set_data(data)
    await ask(query, state, db, member, _next("deadline", data))


async def _submit(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                  data: dict[str, Any]) -> None:
    try:
        result = await broadcasts.submit_broadcast(db, member.id, _draft(data))
    except ServiceError as exc:
        await notice(query, refusal(exc))
        return
    await state.clear()
    if result.status == BroadcastStatus.AWAITING_APPROVAL:
        text = _("Broadcast B-{id} waits for approval by the Union staff ({count} recipients)."
                 ).format(id=result.broadcast_id, count=result.recipients)
    elif result.status == BroadcastStatus.SCHEDULED:
        text = _("Broadcast B-{id} is scheduled for {count} recipients.").format(
            id=result.broadcast_id, count=result.recipients)
    else:
        text = _("Broadcast B-{id} is being sent to {count} recipients.").format(
            id=result.broadcast_id, count=result.recipients)
    progress = Bc(action="report", broadcast_id=result.broadcast_id)
    await show(query, text, markup([[button("📊 " + _("Progress"), progress)]]))



async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if _allowed(member):
        assert member is not None
        await ask(message, state, db, member, step)


guard.register(Compose, __("the broadcast you are writing"), _resume)
steps.track(Compose)
