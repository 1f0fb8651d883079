"""Choosing an audience inside a guided flow: one picker for the broadcast, event and survey
compose flows (the view is `bot/views/audience.py`).

The chosen audience lives in the flow's FSM data as `data["audience"]` (`Audience.to_json`
shape); the service that finally takes the draft checks it again for the acting member.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.flows.ui import Event, show
from bot.i18n import LANGUAGES, _, language_name
from bot.services import reference
from bot.services.broadcasts import Audience
from bot.services.members import MemberView
from bot.views.audience import (
    DIMENSIONS,
    choices_keyboard,
    dimension_label,
    page_of,
    pages,
    regions_keyboard,
)
from bot.views.callbacks import MAX_PAGE, parse_id
from bot.views.labels import role_label
from storage.db import Database
from storage.enums import Role

Options = list[tuple[str, str]]


async def options(db: Database, dimension: str, lang: str,
                  region_id: int | None = None) -> Options:
    """The choices of one dimension (value, label); districts are listed by region."""
    if dimension == "roles":
        return [(r.value, role_label(r)) for r in Role]
    if dimension == "languages":
        return [(c, language_name(c)) for c in LANGUAGES]
    if dimension == "communities":
        return [(str(p.id), p.name) for p in await reference.communities(db, lang)]
    if dimension == "regions":
        return [(str(p.id), p.name) for p in await reference.regions(db, lang)]
    if dimension == "districts" and region_id is not None:
        return [(str(p.id), p.name) for p in await reference.districts(db, region_id, lang)]
    return []


async def _oblasts(db: Database, lang: str) -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in await reference.regions(db, lang) if p.kind == "oblast"]


async def chosen_names(db: Database, dimension: str, values: Sequence[Any],
                       lang: str) -> list[str]:
    """The names of the chosen roles, communities, regions, districts or languages."""
    if dimension == "districts":
        found: Options = []
        for region in await reference.regions(db, lang):
            found += await options(db, dimension, lang, region.id)
    else:
        found = await options(db, dimension, lang)
    wanted = {str(v) for v in values}
    return [label for value, label in found if value in wanted] or [str(len(values))]


async def summary(db: Database, audience: Audience, lang: str) -> str:
    """"Everyone", or each chosen dimension with the names: "Regions: Talas Region"."""
    if audience.everyone:
        return _("Everyone")
    if audience.members:
        return _("A pasted list of {count} members").format(count=len(audience.members))
    parts = []
    for d in DIMENSIONS:
        if getattr(audience, d):
            names = await chosen_names(db, d, getattr(audience, d), lang)
            parts.append(f"{dimension_label(d)}: " + html.escape(", ".join(names)))
    return "; ".join(parts)


async def show_dimension(event: Event, db: Database, member: MemberView, data: dict[str, Any],
                         dimension: str, region_id: int | None = None, prefix: str = "b",
                         page: int = 0) -> None:
    """One dimension's choices (a page of them); for districts, first the region."""
    if dimension == "districts" and region_id is None:
        await show(event, _("Districts of which region?"),
                   regions_keyboard(prefix, await _oblasts(db, member.language)))
        return
    chosen = {str(v) for v in data.get("audience", {}).get(dimension, [])}
    found = await options(db, dimension, member.language, region_id)
    await show(event, _("Tap to choose, then go back to the audience."),
               choices_keyboard(prefix, dimension, region_id, found, chosen, page))


def _list_of(rest: str, dims: Sequence[str]) -> tuple[str, int | None] | None:
    """The dimension and region a "<dim>[_<region>]" key names (None: not one of ours)."""
    parts = rest.split("_")
    if not parts[0] or len(parts) > 2:
        return None
    dimension = next((d for d in dims if d.startswith(parts[0])), None)
    if dimension is None:
        return None
    if len(parts) == 1:
        return (dimension, None) if dimension != "districts" else None
    region_id = parse_id(parts[1])
    if dimension != "districts" or region_id is None:
        return None
    return dimension, region_id


def toggle(data: dict[str, Any], dimension: str, value: str) -> None:
    """Flips `value` in `data["audience"][dimension]` (a pasted list gives way to the choice)."""
    audience = dict(data.get("audience", {}))
    current = {str(v) for v in audience.get(dimension, [])} ^ {value}
    audience[dimension] = [v if dimension in ("roles", "languages") else int(v)
                           for v in sorted(current)]
    audience.pop("members", None)
    data["audience"] = {k: v for k, v in audience.items() if v}


async def on_button(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                    data: dict[str, Any], kind: str, value: str, prefix: str,
                    dims: Sequence[str] = DIMENSIONS) -> bool:
    """A press inside the picker: a dimension from the menu, a region of the districts, a choice,
    a page. Answers the press (a forged or stale one quietly, as no longer active). False: not
    one of these (the flow's own menu buttons: everyone, done, menu …), nothing answered."""
    if not kind.startswith(prefix):
        return False
    rest = kind[len(prefix):]
    stale = _("This button is no longer active.")
    if rest == "a":
        if value not in dims:
            return False
        await query.answer()
        await show_dimension(query, db, member, data, value, prefix=prefix)
        return True
    if rest == "dr":
        region_id = parse_id(value)
        if "districts" not in dims or region_id not in {
                rid for rid, _name in await _oblasts(db, member.language)}:
            await query.answer(stale)
            return True
        await query.answer()
        await show_dimension(query, db, member, data, "districts", region_id, prefix)
        return True
    if rest[:2] not in ("t_", "g_"):
        return False
    listed = _list_of(rest[2:], dims)
    found = await options(db, listed[0], member.language, listed[1]) if listed else []
    if listed is None or not found:
        await query.answer(stale)
        return True
    dimension, region_id = listed
    if rest.startswith("g_"):
        page = parse_id(value, MAX_PAGE)
        if page is None or page >= pages(found):
            await query.answer(stale)
            return True
    elif value not in {v for v, _label in found}:
        await query.answer(stale)
        return True
    else:
        toggle(data, dimension, value)
        await state.set_data(data)
        page = page_of(found, value)
    await query.answer()
    await show_dimension(query, db, member, data, dimension, region_id, prefix, page)
    return True
