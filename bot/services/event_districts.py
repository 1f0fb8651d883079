"""Per-district limits of an event that differ by district: what an organiser types
(«20» for every district, lines such as «Талас: 5» for chosen ones) read into numbers, and the
limits named in the reader's language for the card.

A district is found by any of its names (Kyrgyz, Russian, English) compared spelling-blind
(`places.fold`), with or without the word "district"; an unknown name is refused with the name
itself, so the organiser sees which line to fix. The limits themselves are applied by
`events._take_seat` (`events.district_limit`)."""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot.services.errors import InvalidInput
from bot.services.events import DISTRICT_LIMITS_MAX, check_capacity
from bot.services.places import fold
from storage.db import Database
from storage.models import District, Event

TEXT_MAX = 4000
_LINE = re.compile(r"(.*?)[\s:=\-–—]*(\d+)\s*")
_DISTRICT_WORD = re.compile(r"\b(району|районунан|район|district|raion|rayon)\b", re.IGNORECASE)


def _keys(district: District) -> set[str]:
    found = set()
    for name in (district.name_ky, district.name_ru, district.name_en):
        for variant in (name, _DISTRICT_WORD.sub(" ", name)):
            if fold(variant):
                found.add(fold(variant))
    return found


async def read_limits(db: Database, text: str, capacity: int) -> tuple[int | None, dict[int, int]]:
    """(the limit for every district or None, {district id: its own limit}) from what the
    organiser typed; anything unreadable is refused, naming the line."""
    parts = [p.strip() for p in re.split(r"[\n;,]+", text[:TEXT_MAX]) if p.strip()]
    if not parts:
        raise InvalidInput("event_capacity", limit=capacity)
    if len(parts) > DISTRICT_LIMITS_MAX + 1:
        raise InvalidInput("event_district_limits", limit=DISTRICT_LIMITS_MAX)
    async with db.read() as s:
        districts = (await s.exec(select(District).where(col(District.active)))).all()
    by_key = {key: d.id for d in districts for key in _keys(d) if d.id is not None}
    every: int | None = None
    limits: dict[int, int] = {}
    for part in parts:
        m = _LINE.fullmatch(part)
        if m is None:
            raise InvalidInput("event_district_line", line=part[:60])
        name = m.group(1).strip(" :=-–—")
        value = check_capacity(m.group(2))
        assert value is not None
        if value > capacity:
            raise InvalidInput("event_capacity", limit=capacity)
        if not name:
            every = value
            continue
        found = by_key.get(fold(name)) or by_key.get(fold(_DISTRICT_WORD.sub(" ", name)))
        if found is None:
            raise InvalidInput("event_district_name", name=name[:60])
        limits[found] = value
    return every, limits


async def named_limits(db: Database, limits: dict[str, int],
                       language: str) -> list[tuple[str, int]]:
    """The districts' own limits ({"<district id>": limit}) as (name, limit), in the reader's
    language, by name."""
    ids = [int(k) for k in limits if str(k).isdigit()]
    if not ids:
        return []
    async with db.read() as s:
        rows = (await s.exec(select(District).where(col(District.id).in_(ids)))).all()
    return sorted(((d.name(language), int(limits[str(d.id)])) for d in rows),
                  key=lambda pair: pair[0])


async def event_limits(db: Database, event: Event, language: str) -> list[tuple[str, int]]:
    return await named_limits(db, event.district_limits or {}, language)
