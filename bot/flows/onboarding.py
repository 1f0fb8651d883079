"""Onboarding and profile editing: one guided flow over the same questions.

Joining asks: language → full name → position → region → district → municipality → communities →
consent. `/profile` reuses the same steps for one field at a time ("edit" mode). Answers live in
FSM data (so a restart mid-flow loses nothing) and nothing is written to the member tables until
the newcomer consents. Every step has Back and Cancel; a button from another step is stale and
answered as such; an id that is not among the current choices is refused.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.flows import guard, steps
from bot.flows.cards import show_profile
from bot.flows.ui import Event, notice, remember, show
from bot.i18n import LANGUAGES, _, __, in_locale, language_name
from bot.menu import Menus
from bot.middlewares import remember_visitor_language
from bot.services import invites, members, places, reference
from bot.services.errors import InvalidInput, InvalidState, ServiceError
from bot.services.members import Application, MemberView
from bot.views.buttons import Row, button, grid, markup, nav_row, page_rows
from bot.views.callbacks import MAX_PAGE, Menu, Nav, Pick, parse_id
from bot.views.labels import position_label, refusal
from bot.views.people import people_refusal
from storage.db import Database
from storage.enums import MUNICIPAL_POSITIONS, POSITION_COMMUNITY, Position, RegionKind

router = Router(name="onboarding")


class Onboarding(StatesGroup):
    language = State()
    name = State()
    position = State()
    region = State()
    district = State()
    municipality = State()
    municipality_other = State()
    communities = State()
    consent = State()


JOIN = ["language", "name", "position", "region", "district", "municipality",
        "municipality_other", "communities", "consent"]
EDIT = {
    "name": ["name"],
    "position": ["position"],
    # A position tied to a municipality, chosen by someone without a place (staff, experts).
    "position_place": ["position", "region", "district", "municipality", "municipality_other"],
    "place": ["region", "district", "municipality", "municipality_other"],
    "communities": ["communities"],
}
NONE = "none"
OTHER = "other"


def _state(step: str) -> State:
    state = getattr(Onboarding, step)
    assert isinstance(state, State)
    return state


def _sequence(data: dict[str, Any]) -> list[str]:
    return EDIT[data["edit"]] if data.get("mode") == "edit" else JOIN


def _applies(step: str, data: dict[str, Any]) -> bool:
    municipal = data.get("position") in MUNICIPAL_POSITIONS
    if step == "district":
        return bool(data.get("region_id")) and data.get("region_kind") == RegionKind.OBLAST
    if step == "municipality":
        return bool(data.get("district_id")) and municipal
    if step == "municipality_other":
        return bool(data.get("want_other")) and municipal
    return True


def _neighbour(step: str, data: dict[str, Any], direction: int) -> str | None:
    seq = _sequence(data)
    i = seq.index(step) + direction
    while 0 <= i < len(seq):
        if _applies(seq[i], data):
            return seq[i]
        i += direction
    return None


# The steps the counter numbers: "Not in the list" (municipality_other) shares its number.
COUNTED = ["language", "name", "position", "region", "district", "municipality", "communities",
           "consent"]


def _may_apply(step: str, data: dict[str, Any]) -> bool:
    """Like `_applies`, but a step whose condition is not answered yet counts as coming: the
    counter's total never grows as the newcomer answers (it shrinks only when an answer removes
    a step, e.g. Bishkek has no districts)."""
    if step == "district":
        if "region_kind" not in data:
            return True
        return bool(data.get("region_id")) and data.get("region_kind") == RegionKind.OBLAST
    if step == "municipality":
        if data.get("position") and data["position"] not in MUNICIPAL_POSITIONS:
            return False
        # "The whole region" (no district) is offered only to non-municipal positions.
        return bool(data.get("district_id")) or _may_apply("district", data)
    return True


def _progress(step: str, data: dict[str, Any]) -> str:
    if data.get("mode") == "edit":
        return ""
    counted = "municipality" if step == "municipality_other" else step
    steps = [s for s in COUNTED if s == counted or _may_apply(s, data)]
    return f"({steps.index(counted) + 1}/{len(steps)}) " if counted in steps else ""


async def _answers(data: dict[str, Any], db: Database) -> str:
    """What the newcomer answered, shown before they consent."""
    lang = data["lang"]

    def named(places: list[reference.Place], wanted: object) -> str | None:
        return next((p.name for p in places if p.id == wanted), None)

    region = named(await reference.regions(db, lang), data.get("region_id"))
    district = named(await reference.districts(db, int(data["region_id"]), lang),
                     data.get("district_id")) if data.get("region_id") else None
    municipality = named(await reference.municipalities(db, int(data["district_id"]), lang),
                         data.get("municipality_id")) if data.get("district_id") else None
    if data.get("want_other"):
        municipality = data.get("municipality_other")
    elif municipality is None and data.get("picked_name"):
        municipality = data.get("picked_name")  # a pending name offered as a suggestion
    chosen = set(data.get("community_ids", []))
    communities = [p.name for p in await reference.communities(db, lang) if p.id in chosen]
    place = ", ".join(p for p in (municipality, district, region) if p)
    position = position_label(Position(data["position"])) if data.get("position") else "—"
    return "\n".join([
        _("Please check your answers:"),
        "👤 <b>" + html.escape(data.get("full_name", "")) + "</b>",
        _("Position: {value}").format(value=position),
        _("Place: {value}").format(value=html.escape(place) if place else "—"),
        _("Communities: {value}").format(value=html.escape(", ".join(communities)) or "—"),
        _("Language: {value}").format(value=language_name(lang)),
        _("Something wrong? Press Back to change it."),
    ])


# --- rendering each step ---------------------------------------------------------------------

# The lists that grow with `birge reference import`, and how many choices a page of each holds
# (eight rows: two columns of short names, one of long ones).
PAGED = {"region": 16, "district": 16, "municipality": 8, "communities": 8}


def _paged(step: str, buttons: list[InlineKeyboardButton], data: dict[str, Any],
           columns: int = 1) -> list[Row]:
    """The page of a step's list the member is on ("⬅️ 2/4 ➡️" under it when there are more)."""
    return page_rows(buttons, int(data.get("page", {}).get(step, 0)),
                     lambda n: Pick(step=step, value=f"page{n}"), columns, PAGED[step])


def _page_press(step: str, value: str, total: int) -> int | None:
    """The page a "page<n>" button of `step` asks for (None: not a page, or no such page)."""
    if step not in PAGED or not value.startswith("page"):
        return None
    number = parse_id(value[4:], MAX_PAGE)
    return number if number is not None and number * PAGED[step] < total else None


async def _list_size(step: str, data: dict[str, Any], db: Database) -> int:
    lang = data["lang"]
    if step == "region":
        return len(await reference.regions(db, lang))
    if step == "district" and data.get("region_id"):
        return len(await reference.districts(db, int(data["region_id"]), lang))
    if step == "municipality" and data.get("district_id"):
        return len(await reference.municipalities(db, int(data["district_id"]), lang))
    if step == "communities":
        return len(await reference.communities(db, lang))
    return 0



async def _render(
    step: str, data: dict[str, Any], db: Database
) -> tuple[str, InlineKeyboardMarkup]:
    lang = data["lang"]
    first = _neighbour(step, data, -1) is None and data.get("mode") != "edit"
    nav = nav_row(back=not first)
    p = _progress(step, data)
    if step == "language":
        buttons = [button(("✅ " if c == lang else "") + language_name(c), Pick(step=step, value=c))
                   for c in LANGUAGES]
        return p + _("Choose your language."), markup([*grid(buttons, 3), nav])
    if step == "name":
        current = data.get("full_name")
        text = p + _("Please send your full name (first name and surname).")
        if current:
            text += "\n" + _("Now: {name}").format(name=html.escape(current))
        return text, markup([nav])
    if step == "position":
        buttons = [button(position_label(pos), Pick(step=step, value=pos.value))
                   for pos in Position]
        return p + _("What is your position?"), markup([*grid(buttons, 2), nav])
    if step == "region":
        places = await reference.regions(db, lang)
        buttons = [button(pl.name, Pick(step=step, value=str(pl.id))) for pl in places]
        rows = _paged(step, buttons, data, 2)
        if data.get("position") not in MUNICIPAL_POSITIONS:
            rows.append([button(_("Not tied to a region"), Pick(step=step, value=NONE))])
        return p + _("Choose your region."), markup([*rows, nav])
    if step == "district":
        places = await reference.districts(db, int(data["region_id"]), lang)
        buttons = [button(pl.name, Pick(step=step, value=str(pl.id))) for pl in places]
        rows = _paged(step, buttons, data, 2)
        if data.get("position") not in MUNICIPAL_POSITIONS:
            rows.append([button(_("The whole region"), Pick(step=step, value=NONE))])
        return p + _("Choose your district."), markup([*rows, nav])
    if step == "municipality":
        places = await reference.municipalities(db, int(data["district_id"]), lang)
        buttons = [button(pl.name, Pick(step=step, value=str(pl.id))) for pl in places]
        rows = [*_paged(step, buttons, data),
                [button(_("Not in the list"), Pick(step=step, value=OTHER))]]
        return p + _("Choose your municipality."), markup([*rows, nav])
    if step == "municipality_other":
        suggestions = data.get("suggestions") or []
        if suggestions:
            typed = html.escape(str(data.get("typed") or ""))
            rows = [[button(str(name)[:60], Pick(step=step, value=str(mid)))]
                    for mid, name in suggestions]
            rows.append([button(_("None of these: add «{name}»").format(name=typed)[:60],
                                Pick(step=step, value=OTHER))])
            return p + _("Is it one of these municipalities of your district? One name for one "
                         "place keeps colleagues' issues counted together."), markup([*rows, nav])
        return p + _("Please send the name of your municipality."), markup([nav])
    if step == "communities":
        chosen = set(data.get("community_ids", []))
        places = await reference.communities(db, lang)
        buttons = [button(("✅ " if pl.id in chosen else "▫️ ") + pl.name,
                          Pick(step=step, value=str(pl.id))) for pl in places]
        done = [button(_("Done") + " ➡️", Nav(action="done"))]
        text = p + _("Which practice communities do you want to join? Tap to choose, then Done.")
        return text, markup([*_paged(step, buttons, data), done, nav])
    if step == "consent":
        text = p + await _answers(data, db) + "\n\n" + _(
            "To take part, Birge keeps your name, position, municipality, chosen communities, "
            "language and Telegram account. They are used only to connect you with colleagues "
            "and to send you what concerns you; the Union of LSGs keeps them and you can ask to "
            "delete them at any time. Do you agree?"
        )
        rows = [[button("✅ " + _("I agree"), Pick(step=step, value="yes")),
                 button(_("I do not agree"), Pick(step=step, value="no"))]]
        return text, markup([*rows, nav])
    raise ValueError(step)


async def go(event: Event, state: FSMContext, db: Database, step: str,
             data: dict[str, Any] | None = None) -> None:
    """Ask `step`; `data` (the answers so far) is saved with the new state in one write."""
    if data is None:
        data = await state.get_data()
        await state.set_state(_state(step))
    else:
        await remember(state, _state(step), data)
    with in_locale(data["lang"]):
        text, kb = await _render(step, data, db)
        await show(event, text, kb)


async def _advance(event: Event, state: FSMContext, db: Database, step: str,
                   member: MemberView | None, data: dict[str, Any]) -> None:
    nxt = _neighbour(step, data, +1)
    if nxt is not None:
        await go(event, state, db, nxt, data)
    elif data.get("mode") == "edit":
        await state.set_data(data)
        await _save_edit(event, state, db, member)
    else:  # pragma: no cover - consent is always last and handled on its own
        await go(event, state, db, "consent")


# --- entry points ----------------------------------------------------------------------------


async def start_joining(message: Message, state: FSMContext, db: Database, lang: str,
                        invite_code: str | None) -> None:
    data: dict[str, Any] = {"mode": "join", "lang": lang, "community_ids": []}
    if invite_code:
        found = await invites.check_invite(db, invite_code)
        if isinstance(found, invites.InviteView):
            data["invite_code"] = found.code
            if found.position:
                data["position"] = found.position.value
            if found.community_id:
                data["community_ids"] = [found.community_id]
            await message.answer(_("Your invitation is valid: you will be approved at once."))
        else:
            await message.answer({
                invites.InviteProblem.USED: _("This invitation has already been used."),
                invites.InviteProblem.EXPIRED: _("This invitation has expired."),
            }.get(found, _("This invitation code is unknown.")) + " " + _(
                "You can still join: a district leader or the Union staff will approve you."))
    await go(message, state, db, "language", data)


async def start_edit(event: Event, state: FSMContext, db: Database, member: MemberView,
                     field: str) -> None:
    if field not in EDIT:
        return
    region_kind = None
    if member.region_id:
        region_kind = RegionKind.CITY if member.district_id is None else RegionKind.OBLAST
    data: dict[str, Any] = {
        "mode": "edit", "edit": field, "lang": member.language,
        "full_name": member.full_name, "position": member.position.value,
        "region_id": member.region_id, "region_kind": region_kind,
        "district_id": member.district_id, "municipality_id": member.municipality_id,
        "municipality_other": member.municipality_other,
        "want_other": bool(member.municipality_other),
        "community_ids": sorted(member.community_ids),
    }
    await go(event, state, db, EDIT[field][0], data)


def _application(data: dict[str, Any]) -> Application:
    return Application(
        full_name=data.get("full_name", ""),
        language=data["lang"],
        position=Position(data["position"]),
        region_id=data.get("region_id"),
        district_id=data.get("district_id"),
        municipality_id=data.get("municipality_id"),
        municipality_other=data.get("municipality_other") if data.get("want_other") else None,
        community_ids=list(data.get("community_ids", [])),
        invite_code=data.get("invite_code"),
    )


async def _save_edit(event: Event, state: FSMContext, db: Database,
                     member: MemberView | None) -> None:
    data = await state.get_data()
    if member is None:
        await state.clear()
        return
    try:
        await members.update_profile(db, member.id, _application(data))
    except ServiceError as exc:
        await notice(event, refusal(exc))
        return
    await state.clear()
    await show_profile(event, db, member.id, member.language, saved=True)


# --- answers ---------------------------------------------------------------------------------


def _current_step(raw_state: str | None) -> str | None:
    if raw_state and raw_state.startswith("Onboarding:"):
        return raw_state.split(":", 1)[1]
    return None


@router.callback_query(Pick.filter(), StateFilter(Onboarding))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  member: MemberView | None, menus: Menus) -> None:
    step = _current_step(await state.get_state())
    data = await state.get_data()
    if step != callback_data.step:
        await query.answer(_("This button is no longer active."))
        if step:
            await go(query, state, db, step)
        return
    value = callback_data.value
    lang = data["lang"]
    if step in PAGED and value.startswith("page"):
        page = _page_press(step, value, await _list_size(step, data, db))
        if page is None:
            await query.answer(_("This button is no longer active."))
            return
        data["page"] = {**data.get("page", {}), step: page}
        await go(query, state, db, step, data)
        await query.answer()
        return
    if step != "communities":
        data.pop("page", None)  # a choice made: the next list starts at its first page
    if step == "language":
        if value not in LANGUAGES:
            await query.answer(_("That choice is not available. Please try again."))
            return
        data["lang"] = value
        if data.get("mode") == "join":
            await remember_visitor_language(state, value)
            if query.bot is not None:
                await menus.sync(query.bot, query.from_user.id, None, value)
    elif step == "position":
        try:
            position = Position(value)
        except ValueError:
            await query.answer(_("That choice is not available. Please try again."))
            return
        data["position"] = position.value
        default = POSITION_COMMUNITY.get(position)
        if default and not data.get("community_ids") and data.get("mode") == "join":
            ids = {pl.code: pl.id for pl in await reference.communities(db, lang)}
            data["community_ids"] = [ids[default]] if default in ids else []
        if position not in MUNICIPAL_POSITIONS:
            data.update(municipality_id=None, want_other=False, municipality_other=None)
        elif data.get("mode") == "edit" and data.get("edit") == "position" and not (
                data.get("region_id") and (data.get("region_kind") == RegionKind.CITY
                                           or data.get("district_id"))):
            data["edit"] = "position_place"  # ask where, as onboarding would
    elif step == "region":
        if value == NONE and data.get("position") not in MUNICIPAL_POSITIONS:
            data.update(region_id=None, region_kind=None, district_id=None, municipality_id=None)
        else:
            regions = await reference.regions(db, lang)
            chosen = next((r for r in regions if str(r.id) == value), None)
            if chosen is None:
                await query.answer(_("That choice is not available. Please try again."))
                return
            kind = RegionKind(chosen.kind)
            if data.get("region_id") != chosen.id:
                data.update(district_id=None, municipality_id=None, want_other=False)
            data.update(region_id=chosen.id, region_kind=kind)
    elif step == "district":
        if value == NONE and data.get("position") not in MUNICIPAL_POSITIONS:
            data.update(district_id=None, municipality_id=None)
        else:
            places = await reference.districts(db, int(data["region_id"]), lang)
            if value not in {str(pl.id) for pl in places}:
                await query.answer(_("That choice is not available. Please try again."))
                return
            if data.get("district_id") != int(value):
                data.update(municipality_id=None, want_other=False)
            data["district_id"] = int(value)
    elif step == "municipality":
        if value == OTHER:
            data.update(municipality_id=None, want_other=True)
        else:
            places = await reference.municipalities(db, int(data["district_id"]), lang)
            if value not in {str(pl.id) for pl in places}:
                await query.answer(_("That choice is not available. Please try again."))
                return
            data.update(municipality_id=int(value), want_other=False, municipality_other=None)
    elif step == "municipality_other":
        offered = {str(mid) for mid, _name in data.get("suggestions") or []}
        if value == OTHER and data.get("typed"):
            data.update(municipality_other=data["typed"], municipality_id=None, want_other=True)
        elif value in offered:
            data.update(municipality_id=int(value), want_other=False, municipality_other=None,
                        picked_name=dict(map(tuple, data.get("suggestions") or [])).get(
                            int(value)))
        else:
            await query.answer(_("That choice is not available. Please try again."))
            return
        data.update(suggestions=[], typed=None)
    elif step == "communities":
        ids = {str(pl.id): pl.id for pl in await reference.communities(db, lang)}
        if value not in ids:
            await query.answer(_("That choice is not available. Please try again."))
            return
        picked = set(data.get("community_ids", []))
        picked ^= {ids[value]}
        data["community_ids"] = sorted(picked)
        await go(query, state, db, "communities", data)
        await query.answer()
        return
    elif step == "consent":
        await _consent(query, state, db, data, value == "yes")
        return
    await query.answer()
    await _advance(query, state, db, step, member, data)


async def _consent(query: CallbackQuery, state: FSMContext, db: Database,
                   data: dict[str, Any], agreed: bool) -> None:
    with in_locale(data["lang"]):
        if not agreed:
            await state.clear()
            await query.answer()
            await show(query, _("Nothing about you has been kept. If you change your mind, "
                                "send /start."))
            return
        user = query.from_user
        try:
            result = await members.submit_application(db, user.id, user.username,
                                                      _application(data))
        except InvalidState:
            await state.clear()
            await query.answer()
            await show(query, _("You are already registered. /profile shows your profile."))
            return
        except InvalidInput as exc:
            await query.answer(refusal(exc), show_alert=True)
            return
        await state.clear()
        await query.answer()
        if result.pre_approved:
            await show(query, _("Welcome to Birge! Your invitation approved you at once.") +
                       "\n" + _("Send /help to see what you can do."),
                       markup([[button(_("Menu"), Menu(item="home"))]]))
        else:
            await show(query, _("Thank you! Your application is waiting for approval by your "
                                "district leader or the Union staff. You will get a message "
                                "here when it is decided."))


@router.callback_query(Nav.filter(), StateFilter(Onboarding))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    step = _current_step(await state.get_state())
    data = await state.get_data()
    await query.answer()
    if step is None:
        return
    if callback_data.action == "cancel":
        await state.clear()
        with in_locale(data["lang"]):
            if data.get("mode") == "edit" and member is not None:
                await show_profile(query, db, member.id, member.language)
            else:
                await show(query, _("Cancelled. Nothing about you has been kept. Send /start "
                                    "to begin again."))
        return
    if callback_data.action == "back":
        prev = _neighbour(step, data, -1)
        if prev is not None:
            await go(query, state, db, prev)
        elif data.get("mode") == "edit" and member is not None:
            await state.clear()
            await show_profile(query, db, member.id, member.language)
        return
    if callback_data.action == "done" and step == "communities":
        await _advance(query, state, db, step, member, data)


@router.message(StateFilter(Onboarding.name, Onboarding.municipality_other), F.text)
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _current_step(await state.get_state())
    assert step is not None and message.text is not None
    data = await state.get_data()
    text = message.text.strip()
    with in_locale(data["lang"]):
        try:
            if step == "name":
                data["full_name"] = members.clean_name(text)
            else:
                other = places.clean_name(text)
                close = (await places.suggest(db, int(data["district_id"]), other, data["lang"])
                         if data.get("district_id") else [])
                if close:
                    # Offer the known spellings before a new name is accepted.
                    data.update(typed=other, suggestions=[(c.id, c.name) for c in close])
                    await go(message, state, db, step, data)
                    return
                data["municipality_other"] = other
        except InvalidInput as exc:
            await message.answer(people_refusal(exc))
            return
        await _advance(message, state, db, step, member, data)


@router.message(StateFilter(Onboarding.name, Onboarding.municipality_other))
async def on_not_text(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    with in_locale(data["lang"]):
        await message.answer(_("Please send text, not a file, sticker or voice message."))


@router.message(StateFilter(Onboarding))
async def on_message_at_button_step(message: Message, state: FSMContext, db: Database) -> None:
    step = _current_step(await state.get_state())
    if step is None:
        return
    data = await state.get_data()
    with in_locale(data["lang"]):
        await message.answer(_("Please use the buttons."))
    await go(message, state, db, step)


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    await go(message, state, db, step)


guard.register(Onboarding, __("joining Birge"), _resume)
steps.track(Onboarding)
