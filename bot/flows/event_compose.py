"""Creating an event (`/events` → New event) and changing its time or place.

kind → title in Kyrgyz, Russian, English (optional) → description in the same three → start day
(the legal intake's calendar) → start time → end → place (an address or an online link) → host
municipality (exchange visits) → capacity → per-district cap (optional) → registration deadline
→ audience (chosen like a broadcast's; a district leader's is their own district) → a preview
with the number invited → create. Answers live in FSM state (in the database); the services
(`events.create_event`, `events.change_event`) check everything again.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import audience as picker
from bot.flows import guard, steps
from bot.flows.dates import BISHKEK, parse_moment
from bot.flows.ui import Event as Update
from bot.flows.ui import nav_press, notice, remember, show, wrong_input
from bot.i18n import _, __, language_name
from bot.services import broadcasts, event_districts, events, reference
from bot.services.broadcasts import Audience
from bot.services.errors import PermissionDenied, ServiceError
from bot.services.events import Change, EventDraft
from bot.services.members import MemberView
from bot.views.audience import DIMENSIONS, menu_rows
from bot.views.buttons import button, grid, markup, nav_row, page_rows, short
from bot.views.callbacks import MAX_PAGE, Nav, Pick, parse_id
from bot.views.events import Ev, event_text, kind_label, when_label
from bot.views.labels import refusal
from bot.views.legal import calendar
from storage.db import Database
from storage.enums import EventKind, Role
from storage.models import Event
from storage.types import utcnow

router = Router(name="event_compose")
router.message.filter(F.chat.type == "private")


class EventCompose(StatesGroup):
    kind = State()
    title_ky = State()
    title_ru = State()
    title_en = State()
    description_ky = State()
    description_ru = State()
    description_en = State()
    start_day = State()
    start_time = State()
    end = State()
    place = State()
    host = State()
    capacity = State()
    per_district = State()
    deadline = State()
    audience = State()
    confirm = State()


ORDER = ["kind", "title_ky", "title_ru", "title_en", "description_ky", "description_ru",
         "description_en", "start_day", "start_time", "end", "place", "host", "capacity",
         "per_district", "deadline", "audience", "confirm"]
TEXT_STEPS = {"title_ky", "title_ru", "title_en", "description_ky", "description_ru",
              "description_en", "start_day", "start_time", "end", "place", "capacity",
              "per_district", "deadline"}
OPTIONAL = {"title_en", "description_en", "per_district"}
_CLOCK = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
# The audience dimensions a district leader may narrow (the district is theirs).
LEADER_DIMENSIONS = ("roles", "communities", "languages")
HOST_PAGE = 16  # municipalities on a page of the host's choice (two columns)


def _step(raw: str | None) -> str | None:
    return raw.split(":", 1)[1] if raw and raw.startswith("EventCompose:") else None


def _today() -> date:
    return utcnow().astimezone(BISHKEK).date()


def _next(step: str, data: dict[str, Any], direction: int = 1) -> str:
    if data.get("change"):
        return "confirm"
    i = ORDER.index(step) + direction
    i = max(0, min(i, len(ORDER) - 1))
    if ORDER[i] == "host" and data.get("kind") != EventKind.EXCHANGE:
        i += direction
    return ORDER[max(0, min(i, len(ORDER) - 1))]


def _moment(data: dict[str, Any], key: str) -> datetime | None:
    return datetime.fromisoformat(data[key]) if data.get(key) else None


def _draft(data: dict[str, Any]) -> EventDraft:
    return EventDraft(
        kind=data.get("kind", ""), title_ky=data.get("title_ky", ""),
        title_ru=data.get("title_ru", ""), title_en=data.get("title_en"),
        description_ky=data.get("description_ky", ""),
        description_ru=data.get("description_ru", ""),
        description_en=data.get("description_en"),
        starts_at=_moment(data, "starts_at") or utcnow(),
        ends_at=_moment(data, "ends_at") or utcnow(),
        capacity=int(data.get("capacity") or 0), per_district=data.get("per_district"),
        district_limits={int(k): int(v) for k, v in (data.get("district_limits") or {}).items()},
        address=data.get("address"), online_url=data.get("online_url"),
        host_municipality_id=data.get("host"),
        registration_until=_moment(data, "until"),
        audience=Audience.from_json(data.get("audience")),
    )


def _preview(data: dict[str, Any]) -> Event:
    d = _draft(data)
    return Event(id=0, kind=str(d.kind), title_ky=d.title_ky, title_ru=d.title_ru,
                 title_en=d.title_en, description_ky=d.description_ky,
                 description_ru=d.description_ru, description_en=d.description_en,
                 starts_at=d.starts_at, ends_at=d.ends_at, address=d.address,
                 online_url=d.online_url, capacity=d.capacity, per_district=d.per_district,
                 registration_until=d.registration_until or d.starts_at, audience={},
                 created_by_id=0)


# --- starting --------------------------------------------------------------------------------


async def start_new(event: Update, state: FSMContext, db: Database, member: MemberView) -> None:
    """A district leader (who is not staff or a partner) invites within their own district."""
    led = await events.led_districts(db, member.id)
    leader_only = bool(led) and not ({Role.UNION_STAFF, Role.PARTNER} & member.roles)
    await remember(state, EventCompose.kind, {
        "audience": {"districts": led} if leader_only else {}, "leader_only": leader_only,
        "lang": member.language})
    await ask(event, state, db, member, "kind")


async def start_change(event: Update, state: FSMContext, db: Database, member: MemberView,
                       event_id: int, what: str) -> None:
    found = await events.event_view(db, member.id, event_id, member.language)
    if not found.organiser:
        await notice(event, _("You are not allowed to do that."))
        return
    e = found.event
    data: dict[str, Any] = {"change": event_id, "what": what, "lang": member.language,
                            "starts_at": e.starts_at.isoformat(),
                            "ends_at": e.ends_at.isoformat()}
    await remember(state, EventCompose.start_day, data)
    await ask(event, state, db, member, "start_day" if what == "time" else "place")


# --- asking each question --------------------------------------------------------------------


async def ask(event: Update, state: FSMContext, db: Database, member: MemberView, step: str,
              month: tuple[int, int] | None = None) -> None:
    data = await state.get_data()
    await remember(state, getattr(EventCompose, step), data)
    skip = [button(_("Skip") + " ➡️", Nav(action="skip"))]
    back = nav_row(back=not data.get("change"))
    if step == "kind":
        buttons = [button(kind_label(k), Pick(step="ek", value=k.value)) for k in EventKind]
        await show(event, _("New event. What kind is it?"),
                   markup([*grid(buttons, 2), nav_row(back=False)]))
    elif step.startswith("title_") or step.startswith("description_"):
        lang = step[-2:]
        limit = events.TITLE_MAX if step.startswith("title") else events.DESCRIPTION_MAX
        text = (_("Send the event's title in {language} (up to {limit} characters).")
                if step.startswith("title") else
                _("Send the event's description in {language}: what, for whom, the programme "
                  "(up to {limit} characters).")).format(language=language_name(lang), limit=limit)
        if lang == "en":
            text += "\n" + _("English is optional.")
        await show(event, text, markup([skip, back] if lang == "en" else [back]))
    elif step == "start_day":
        today = _today()
        year, mon = month or (today.year, today.month)
        await show(event, _("Which day does it start? Pick a day, or type the date and time, "
                            "for example 25.12.2026 10:00 (Bishkek time)."),
                   markup([*calendar(year, mon, member.language, today, "edm", "edd"), back]))
    elif step == "start_time":
        hours = [button(h, Pick(step="et", value=h.replace(":", "")))
                 for h in ("09:00", "10:00", "11:00", "14:00", "15:00", "16:00")]
        await show(event, _("At what time does it start? Pick one or type it, for example "
                            "10:30 (Bishkek time)."), markup([*grid(hours, 3), back]))
    elif step == "end":
        lengths = [button(label, Pick(step="el", value=str(minutes))) for label, minutes in
                   ((_("1 hour"), 60), (_("2 hours"), 120), (_("3 hours"), 180),
                    (_("Whole day"), 480))]
        await show(event, _("When does it end? Pick a length, or type the end time (12:30) or "
                            "the date and time (26.12.2026 17:00)."),
                   markup([*grid(lengths, 2), back]))
    elif step == "place":
        await show(event, _("Where? Send the address, or the online link (starting with "
                            "https://). The link is shown only to those registered."),
                   markup([back]))
    elif step == "host":
        await _show_host(event, db, member, data)
    elif step == "capacity":
        await show(event, _("How many participants at most? Send a number from 1 to {limit}."
                            ).format(limit=events.CAPACITY_MAX), markup([back]))
    elif step == "per_district":
        await show(event, _("At most how many from one district? Send a number, or skip.")
                   + "\n\n" + _("For a different limit in some districts, add a line for "
                                 "each, for example:") + "\n<code>10\nТалас: 5\nЛейлек: 15"
                   "</code>", markup([skip, back]))
    elif step == "deadline":
        today = _today()
        year, mon = month or (today.year, today.month)
        await show(event, _("Until when is registration open? Pick the last day, type a date, "
                            "or choose Until the start."),
                   markup([*calendar(year, mon, member.language, today, "egm", "egd"),
                           [button(_("Until the start") + " ➡️", Pick(step="eu", value="1"))],
                           back]))
    elif step == "audience":
        await _show_audience(event, db, member, data)
    elif step == "confirm":
        await _show_confirm(event, db, member, data)


async def _show_host(event: Update, db: Database, member: MemberView, data: dict[str, Any],
                     region_id: int | None = None, district_id: int | None = None,
                     page: int = 0) -> None:
    back = [button("⬅️ " + _("Back"), Nav(action="back"))]
    if district_id is not None:  # a district may have thirty municipalities: paged
        places = await reference.municipalities(db, district_id, member.language)
        buttons = [button(short(p.name, 30), Pick(step="ehm", value=str(p.id))) for p in places]
        await show(event, _("Which municipality hosts the exchange visit?"), markup([
            *page_rows(buttons, page, lambda n: Pick(step="ehg", value=f"{district_id}_{n}"),
                       columns=2, size=HOST_PAGE), back]))
        return
    if region_id is not None:
        places = await reference.districts(db, region_id, member.language)
        buttons = [button(p.name, Pick(step="ehd", value=str(p.id))) for p in places]
    else:
        places = await reference.regions(db, member.language)
        buttons = [button(p.name, Pick(step="ehr", value=str(p.id))) for p in places]
    await show(event, _("Which municipality hosts the exchange visit?"),
               markup([*grid(buttons, 2), back]))


async def _host_page(query: CallbackQuery, db: Database, member: MemberView,
                     data: dict[str, Any], value: str) -> None:
    """A page of a district's municipalities ("<district>_<page>"); a forged one is stale."""
    district, _sep, number = value.partition("_")
    district_id, page = parse_id(district), parse_id(number, MAX_PAGE)
    count = len(await reference.municipalities(db, district_id, member.language)) \
        if district_id is not None else 0
    if page is None or page * HOST_PAGE >= count:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await _show_host(query, db, member, data, district_id=district_id, page=page)


def _dimensions(data: dict[str, Any]) -> tuple[str, ...]:
    return LEADER_DIMENSIONS if data.get("leader_only") else DIMENSIONS


async def _show_audience(event: Update, db: Database, member: MemberView,
                         data: dict[str, Any]) -> None:
    audience = Audience.from_json(data.get("audience"))
    async with db.read() as s:
        count = len(await broadcasts.recipients(s, audience))
    text = _("Whom do you invite? Now: {summary}. Invited: {count}.").format(
        summary=await picker.summary(db, audience, member.language), count=count)
    dims = _dimensions(data)
    await show(event, text, markup(menu_rows("e", dims, everyone=dims == DIMENSIONS,
                                             done=_("Preview"))))


async def _show_confirm(event: Update, db: Database, member: MemberView,
                        data: dict[str, Any]) -> None:
    if data.get("change"):
        preview = _preview_change(data)
        await show(event, _("Save the change? Everyone registered gets the new calendar file.")
                   + "\n\n" + preview,
                   markup([[button("✅ " + _("Save and tell them"), Pick(step="ex", value="1"))],
                           nav_row(back=False)]))
        return
    async with db.read() as s:
        count = len(await broadcasts.recipients(s, Audience.from_json(data.get("audience"))))
    host = await events.host_name(db, data.get("host"), member.language)
    limits = await event_districts.named_limits(db, data.get("district_limits") or {},
                                                member.language)
    text = event_text(_preview(data), member.language, show_link=True, host=host,
                      limits=limits)
    text += "\n\n" + _("Create the event and invite {count} members?").format(count=count)
    await show(event, text[:4000],
               markup([[button("✅ " + _("Create and invite"), Pick(step="ec", value="1"))],
                       [button("👥 " + _("Change the audience"), Pick(step="ea", value="menu"))],
                       nav_row(back=False)]))


def _preview_change(data: dict[str, Any]) -> str:
    if data.get("what") == "time":
        return "🕘 " + when_label(_preview(data), str(data.get("lang") or "ru"))
    return "📍 " + html.escape(data.get("address") or data.get("online_url") or "")


# --- navigation --------------------------------------------------------------------------------


@router.callback_query(Nav.filter(), StateFilter(EventCompose))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    pressed = await nav_press(query, state, member is not None, callback_data.action,
                              _("Cancelled. Nothing was saved."))
    if pressed is None or member is None:
        return
    step, data = pressed
    if callback_data.action == "back" and not data.get("change"):
        await ask(query, state, db, member, _next(step, data, -1))
    elif callback_data.action == "skip" and step in OPTIONAL:
        data[step] = None
        if step == "per_district":
            data["district_limits"] = {}
        await state.set_data(data)
        await ask(query, state, db, member, _next(step, data))


# --- typed answers -----------------------------------------------------------------------------


def _clock(text: str) -> time | None:
    m = _CLOCK.match(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=BISHKEK).astimezone(UTC)


@router.message(StateFilter(EventCompose), F.text)
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
    data["lang"] = member.language
    now = utcnow()
    try:
        if step.startswith("title_"):
            cleaned = " ".join(text.split())
            if not 3 <= len(cleaned) <= events.TITLE_MAX:
                raise ServiceError("event_title", limit=events.TITLE_MAX)
            data[step] = cleaned
        elif step.startswith("description_"):
            if not 3 <= len(text) <= events.DESCRIPTION_MAX:
                raise ServiceError("event_description", limit=events.DESCRIPTION_MAX)
            data[step] = text
        elif step == "start_day":
            moment = parse_moment(text)
            if moment is None or _CLOCK.search(text[-5:]) is None:
                await message.answer(_("Please send a date and time, for example "
                                       "25.12.2026 10:00, or pick a day."))
                return
            if moment <= now:
                raise ServiceError("event_start_past")
            _set_start(data, moment)
            await state.set_data(data)
            await ask(message, state, db, member, "confirm" if data.get("change") else "end")
            return
        elif step == "start_time":
            clock = _clock(text)
            if clock is None:
                await message.answer(_("Please send the time as 10:30."))
                return
            moment = _at(date.fromisoformat(data["day"]), clock)
            if moment <= now:
                raise ServiceError("event_start_past")
            _set_start(data, moment)
        elif step == "end":
            start = _moment(data, "starts_at")
            assert start is not None
            clock = _clock(text)
            end = (_at(start.astimezone(BISHKEK).date(), clock) if clock is not None
                   else parse_moment(text))
            if end is None:
                await message.answer(_("Please send the end time as 12:30, or the date and "
                                       "time as 26.12.2026 17:00."))
                return
            events.check_times(start, end, now)
            data["ends_at"] = end.isoformat()
        elif step == "place":
            if text.lower().startswith(("http://", "https://", "www.", "zoom", "meet.")) \
                    or "://" in text:
                data["online_url"] = events.check_url(text)
                data["address"] = None
            else:
                if not 3 <= len(text) <= events.ADDRESS_MAX:
                    raise ServiceError("event_address", limit=events.ADDRESS_MAX)
                data["address"] = text
                data["online_url"] = None
        elif step == "capacity":
            data[step] = events.check_capacity(text)
        elif step == "per_district":
            every, limits = await event_districts.read_limits(
                db, text, int(data.get("capacity") or 0))
            data["per_district"] = every
            data["district_limits"] = {str(k): v for k, v in limits.items()}
        elif step == "deadline":
            moment = parse_moment(text, end_of_day=True)
            start = _moment(data, "starts_at")
            if moment is None:
                await message.answer(_("Please send a date, for example 20.12.2026."))
                return
            if start is not None and moment > start:
                moment = start
            if moment <= now:
                raise ServiceError("event_deadline")
            data["until"] = moment.isoformat()
    except ServiceError as exc:
        await message.answer(refusal(exc))
        return
    await state.set_data(data)
    await ask(message, state, db, member, _next(step, data))


def _set_start(data: dict[str, Any], moment: datetime) -> None:
    """A new start keeps the length the event had (a change of time) or waits for the end."""
    old_start, old_end = _moment(data, "starts_at"), _moment(data, "ends_at")
    data["starts_at"] = moment.isoformat()
    if old_start is not None and old_end is not None and data.get("change"):
        data["ends_at"] = (moment + (old_end - old_start)).isoformat()
    data["day"] = moment.astimezone(BISHKEK).date().isoformat()


@router.message(StateFilter(EventCompose))
async def on_other(message: Message, state: FSMContext) -> None:
    await wrong_input(message, _step(await state.get_state()), TEXT_STEPS)


# --- buttons -----------------------------------------------------------------------------------


@router.callback_query(Pick.filter(F.step.startswith("e")), StateFilter(EventCompose))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None:
        await query.answer()
        return
    data = await state.get_data()
    data["lang"] = member.language
    kind, value = callback_data.step, callback_data.value
    stale = _("This button is no longer active.")
    if kind == "ek" and step == "kind":
        if value not in {k.value for k in EventKind}:
            await query.answer(_("That choice is not available. Please try again."))
            return
        await query.answer()
        data["kind"] = value
        await state.set_data(data)
        await ask(query, state, db, member, "title_ky")
    elif kind in ("edm", "edd", "egm", "egd") and step in ("start_day", "deadline") \
            and (kind[1] == "d") == (step == "start_day"):
        await _on_calendar(query, state, db, member, data, step, kind, value)
    elif kind == "et" and step == "start_time":
        clock = _clock(value[:2] + ":" + value[2:])
        if clock is None or "day" not in data:
            await query.answer(stale)
            return
        moment = _at(date.fromisoformat(data["day"]), clock)
        if moment <= utcnow():
            await query.answer(refusal(ServiceError("event_start_past")), show_alert=True)
            return
        await query.answer()
        _set_start(data, moment)
        await state.set_data(data)
        await ask(query, state, db, member, _next(step, data))
    elif kind == "el" and step == "end" and parse_id(value, 24 * 60) is not None:
        await query.answer()
        start = _moment(data, "starts_at")
        assert start is not None
        data["ends_at"] = (start + timedelta(minutes=int(value))).isoformat()
        await state.set_data(data)
        await ask(query, state, db, member, _next(step, data))
    elif kind == "ehg" and step == "host":
        await _host_page(query, db, member, data, value)
    elif kind in ("ehr", "ehd", "ehm") and step == "host" and parse_id(value) is not None:
        await query.answer()
        if kind == "ehr":
            await _show_host(query, db, member, data, region_id=int(value))
        elif kind == "ehd":
            await _show_host(query, db, member, data, district_id=int(value))
        else:
            data["host"] = int(value)
            await state.set_data(data)
            await ask(query, state, db, member, _next(step, data))
    elif kind == "eu" and step == "deadline":
        await query.answer()
        data["until"] = data.get("starts_at")
        await state.set_data(data)
        await ask(query, state, db, member, "audience")
    elif step in ("audience", "confirm") and (kind in ("ea", "edr", "ec")
                                              or kind[:3] in ("et_", "eg_")):
        await _on_audience(query, state, db, member, data, kind, value)
    elif kind == "ex" and step == "confirm" and data.get("change"):
        await _save_change(query, state, db, member, data)
    else:
        await guard.stale_press(query, state, db, member)  # its prompt, lost to a restart?


async def _on_calendar(query: CallbackQuery, state: FSMContext, db: Database,
                       member: MemberView, data: dict[str, Any], step: str, kind: str,
                       value: str) -> None:
    try:
        parts = [int(p) for p in value.split("-")]
        shown = date(parts[0], parts[1], parts[2] if kind.endswith("d") else 1)
    except (ValueError, IndexError):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    today = _today()
    if kind.endswith("m") or shown < today:
        if (shown.year, shown.month) < (today.year, today.month):
            shown = today
        await ask(query, state, db, member, step, (shown.year, shown.month))
        return
    if step == "start_day":
        data["day"] = shown.isoformat()
        await state.set_data(data)
        await ask(query, state, db, member, "start_time")
        return
    until = _at(shown, time(23, 59))
    start = _moment(data, "starts_at")
    if start is not None and until > start:
        until = start
    data["until"] = until.isoformat()
    await state.set_data(data)
    await ask(query, state, db, member, "audience")


async def _on_audience(query: CallbackQuery, state: FSMContext, db: Database,
                       member: MemberView, data: dict[str, Any], kind: str,
                       value: str) -> None:
    dims = _dimensions(data)
    if await picker.on_button(query, state, db, member, data, kind, value, "e", dims):
        return
    await query.answer()
    if kind == "ea":
        if value == "everyone" and dims == DIMENSIONS:
            data["audience"] = {}
        elif value == "done":
            await remember(state, EventCompose.confirm, data)
            await ask(query, state, db, member, "confirm")
            return
        await state.set_data(data)
        await ask(query, state, db, member, "audience")
    elif kind == "ec":
        await _submit(query, state, db, member, data)


async def _submit(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                  data: dict[str, Any]) -> None:
    try:
        created = await events.create_event(db, member.id, _draft(data))
    except (ServiceError, KeyError, ValueError) as exc:
        await notice(query, refusal(exc) if isinstance(exc, ServiceError)
                     else _("That choice is not available. Please try again."))
        return
    await state.clear()
    code = events.event_code(created.event_id)
    if created.status == "awaiting":
        text = _("The event {code} waits for approval by the Union staff; the invitations go "
                 "once they approve it.").format(code=code)
    else:
        text = _("The event {code} is published; {count} invitations are on their way.").format(
            code=code, count=created.invited)
    await show(query, text, markup([[button("📂 " + _("Open the event"),
                                            Ev(action="open", event_id=created.event_id))]]))


async def _save_change(query: CallbackQuery, state: FSMContext, db: Database,
                       member: MemberView, data: dict[str, Any]) -> None:
    event_id = int(data["change"])
    if data.get("what") == "time":
        change = Change(starts_at=_moment(data, "starts_at"), ends_at=_moment(data, "ends_at"))
    else:
        change = Change(address=data.get("address") or "", online_url=data.get("online_url")
                        or "")
    try:
        told = await events.change_event(db, member.id, event_id, change)
    except PermissionDenied as exc:
        await state.clear()
        await notice(query, refusal(exc))
        return
    except ServiceError as exc:
        await notice(query, refusal(exc))
        return
    await query.answer()
    await state.clear()
    await show(query, _("Saved. {count} registered members get the new calendar file.").format(
        count=told), markup([[button("📂 " + _("Open the event"),
                                     Ev(action="open", event_id=event_id))]]))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is not None and step in ORDER:
        await ask(message, state, db, member, step)


guard.register(EventCompose, __("the event you are creating"), _resume)
steps.track(EventCompose)
