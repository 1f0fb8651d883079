"""Events after they start: the organiser marks attendance, shares materials with the
attendees and reads their 1–5 ratings; the participant list (live, for the organiser), the report
by region and district, and the exports (XLSX, CSV). Every function checks, in its own
transaction, that the acting member organises the event (or is the attendee rating it)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, files, groups, library, notify, policy, search
from bot.services.errors import InvalidInput, InvalidState, NotFound, ServiceError
from bot.services.events import (
    ANSWERED,
    BISHKEK,
    ID_LIMIT,
    event_code,
    organised,
    registration_of,
)
from storage.db import Database
from storage.enums import EventStatus, ItemStatus, RegistrationStatus
from storage.models import (
    District,
    Event,
    EventMaterial,
    EventRegistration,
    Member,
    Municipality,
    Region,
    TopicGroup,
)
from storage.types import utcnow

COMMENT_MAX = 1000
MATERIALS_MAX = 20

# --- after the event ---------------------------------------------------------------------------


async def toggle_attendance(db: Database, actor_id: int, event_id: int, member_id: int) -> bool:
    """The organiser marks (or unmarks) that this member came; returns whether they are marked."""
    async with db.transaction() as s:
        _actor, event = await organised(db, s, actor_id, event_id,
                                         policy.Action.MANAGE_EVENT)
        if event.starts_at > utcnow() + timedelta(minutes=30):
            raise InvalidState("event_not_started")
        reg = await registration_of(s, event_id, member_id) if 0 < member_id < ID_LIMIT else None
        if reg is None or reg.status not in (RegistrationStatus.REGISTERED,
                                             RegistrationStatus.WAITLISTED,
                                             RegistrationStatus.MAYBE):
            raise NotFound(what="registration")
        reg.attended = not reg.attended
        s.add(reg)
        audit.record(s, actor_id, "event_attendance", "event", event_id, member=member_id,
                     attended=reg.attended)
        return reg.attended


@dataclass(frozen=True)
class Material:
    file_id: str
    name: str
    mime_type: str | None = None
    size: int = 0


def check_material(file_id: str, name: str | None, mime_type: str | None,
                   size: int | None) -> Material:
    kept = files.check_file(name, mime_type, size)
    return Material(file_id[:200], kept, (mime_type or "")[:100] or None, size or 0)


async def add_material(db: Database, actor_id: int, event_id: int, material: Material) -> int:
    """A file for the attendees; returns how many the event has."""
    async with db.transaction() as s:
        _actor, _event = await organised(db, s, actor_id, event_id,
                                         policy.Action.MANAGE_EVENT)
        count = (await s.exec(select(func.count()).where(
            EventMaterial.event_id == event_id))).one()
        if int(count) >= MATERIALS_MAX:
            raise InvalidInput("event_materials", limit=MATERIALS_MAX)
        s.add(EventMaterial(event_id=event_id, added_by_id=actor_id, file_id=material.file_id,
                            name=material.name, mime_type=material.mime_type,
                            size=material.size))
        return int(count) + 1


@dataclass(frozen=True)
class LibraryPick:
    item_id: int
    title: str


async def find_library_items(db: Database, actor_id: int, event_id: int, query: str,
                             language: str) -> list[LibraryPick]:
    """Published library items the organiser may share: by number (`LIB-12` or `12`) or by a
    search of the library groups they can read that are open to every member (the attendees
    must be able to open the item); at most five."""
    async with db.read() as s:
        await organised(db, s, actor_id, event_id, policy.Action.MANAGE_EVENT)
    query = " ".join(query.split())[:200]
    item_id = library.parse_label(query) or (int(query) if query.isdigit()
                                             and len(query) < 12 else None)
    if item_id is not None and not 0 < item_id < ID_LIMIT:
        return []
    if item_id is not None:
        try:
            card = await library.card(db, actor_id, item_id, language)
        except ServiceError:
            return []
        if card.status != ItemStatus.PUBLISHED or not await _open_to_all(db, card.group_id):
            return []
        return [LibraryPick(item_id, card.texts.get("title") or library.label(item_id))]
    readable = await groups.readable_groups(db, actor_id)
    async with db.read() as s:
        open_groups = [g for g in (await s.exec(select(TopicGroup.id).where(
            col(TopicGroup.id).in_(readable), col(TopicGroup.community_id).is_(None)))).all()
            if g is not None]
    found = await search.everything(db, query, search.Scope(actor_id, open_groups),
                                    kinds=("library",), language=language, per_page=5)
    return [LibraryPick(r.id, r.title) for r in found.results]


async def _open_to_all(db: Database, group_id: int) -> bool:
    """Whether every member may read this group's items (not a practice community's own)."""
    async with db.read() as s:
        group = await s.get(TopicGroup, group_id)
    return group is not None and group.community_id is None


async def add_library_item(db: Database, actor_id: int, event_id: int, item_id: int,
                           language: str) -> int:
    """A published library item the organiser can read, shared as a material: attendees get a
    button to its card. Twice is once. Returns how many materials the event has."""
    async with db.read() as s:
        await organised(db, s, actor_id, event_id, policy.Action.MANAGE_EVENT)
    if not 0 < item_id < ID_LIMIT:
        raise NotFound(what="library_item")
    card = await library.card(db, actor_id, item_id, language)  # refuses what they cannot read
    if card.status != ItemStatus.PUBLISHED or not await _open_to_all(db, card.group_id):
        raise InvalidInput("event_library_item")  # attendees must be able to open it
    title = (card.texts.get("title") or library.label(item_id))[:200]
    async with db.transaction() as s:
        await organised(db, s, actor_id, event_id, policy.Action.MANAGE_EVENT)
        count = int((await s.exec(select(func.count()).where(
            EventMaterial.event_id == event_id))).one())
        if (await s.exec(select(EventMaterial.id).where(
                EventMaterial.event_id == event_id,
                EventMaterial.library_item_id == item_id))).first() is not None:
            return count
        if count >= MATERIALS_MAX:
            raise InvalidInput("event_materials", limit=MATERIALS_MAX)
        s.add(EventMaterial(event_id=event_id, added_by_id=actor_id, file_id="", name=title,
                            library_item_id=item_id))
        audit.record(s, actor_id, "event_library_item", "event", event_id, item=item_id)
        return count + 1


def files_of(materials: list[EventMaterial]) -> list[EventMaterial]:
    """The materials that are files (not library items)."""
    return [m for m in materials if m.library_item_id is None and m.file_id]


def library_items_of(materials: list[EventMaterial]) -> list[EventMaterial]:
    return [m for m in materials if m.library_item_id is not None]


async def send_materials(db: Database, actor_id: int, event_id: int) -> int:
    """The materials to everyone marked as attended, with a 1–5 rating; returns how many."""
    async with db.transaction() as s:
        _actor, event = await organised(db, s, actor_id, event_id,
                                         policy.Action.MANAGE_EVENT)
        if event.status == EventStatus.CANCELLED:
            raise InvalidState("event_cancelled")
        if event.starts_at > utcnow():
            raise InvalidState("event_not_started")
        count = (await s.exec(select(func.count()).where(
            EventMaterial.event_id == event_id))).one()
        if not count:
            raise InvalidState("event_no_materials")
        attendees = (await s.exec(select(EventRegistration.member_id).where(
            EventRegistration.event_id == event_id, col(EventRegistration.attended))
            .order_by(col(EventRegistration.id)))).all()
        if not attendees:
            raise InvalidState("event_no_attendees")
        for member_id in attendees:
            notify.enqueue(s, member_id, "event_materials", event_id=event_id)
        event.materials_at = utcnow()
        s.add(event)
        audit.record(s, actor_id, "event_materials_sent", "event", event_id,
                     attendees=len(attendees))
        return len(attendees)


async def _as_attendee(db: Database, s: AsyncSession, member_id: int,
                       event_id: int) -> EventRegistration:
    actor = await policy.load_actor(s, member_id)
    reg = await registration_of(s, event_id, member_id) if 0 < event_id < ID_LIMIT else None
    if reg is None or not reg.attended or not actor.active:
        await policy.ensure(db, actor, False, policy.Action.RATE_EVENT,
                            event_id if 0 < event_id < ID_LIMIT else None)
    assert reg is not None
    return reg


async def rate_event(db: Database, member_id: int, event_id: int, stars: int) -> None:
    if not 1 <= stars <= 5:
        raise InvalidInput("event_rating")
    async with db.transaction() as s:
        reg = await _as_attendee(db, s, member_id, event_id)
        if reg.rating is not None:
            raise InvalidState("event_rated")
        reg.rating = stars
        reg.rated_at = utcnow()
        s.add(reg)
        audit.record(s, member_id, "event_rated", "event", event_id, stars=stars)


async def comment_rating(db: Database, member_id: int, event_id: int, text: str) -> None:
    cleaned = text.strip()
    if not 2 <= len(cleaned) <= COMMENT_MAX:
        raise InvalidInput("reply_length", limit=COMMENT_MAX)
    async with db.transaction() as s:
        reg = await _as_attendee(db, s, member_id, event_id)
        if reg.rating is None:
            raise InvalidState("event_not_rated")
        reg.rating_comment = cleaned
        s.add(reg)



@dataclass(frozen=True)
class Participant:
    member_id: int
    name: str
    username: str | None
    position: str
    region: str
    district: str
    municipality: str
    status: str
    attended: bool
    rating: int | None
    comment: str | None
    answered_at: datetime


async def participants(db: Database, actor_id: int, event_id: int,
                       lang: str = "ru") -> tuple[Event, list[Participant]]:
    """Everyone who answered (registered first, then the waiting list in order), for the
    organiser: the live list, attendance, the exports."""
    async with db.read() as s:
        _actor, event = await organised(db, s, actor_id, event_id,
                                         policy.Action.VIEW_EVENT_REPORT)
        rows = (await s.exec(
            select(EventRegistration, Member, Region, District, Municipality)  # type: ignore[call-overload]
            .join(Member, col(Member.id) == EventRegistration.member_id)
            .join(Region, col(Region.id) == Member.region_id, isouter=True)
            .join(District, col(District.id) == EventRegistration.district_id, isouter=True)
            .join(Municipality, col(Municipality.id) == Member.municipality_id, isouter=True)
            .where(EventRegistration.event_id == event_id,
                   col(EventRegistration.status).in_(ANSWERED))
            .order_by(col(EventRegistration.status).desc(), col(EventRegistration.status_at),
                      col(EventRegistration.id)))).all()
    order = {RegistrationStatus.REGISTERED: 0, RegistrationStatus.WAITLISTED: 1,
             RegistrationStatus.MAYBE: 2}
    found = [Participant(
        member_id=m.id or 0, name=m.full_name, username=m.username, position=m.position,
        region=region.name(lang) if region else "—",
        district=district.name(lang) if district else "—",
        municipality=muni.name(lang) if muni else (m.municipality_other or "—"),
        status=str(reg.status), attended=reg.attended, rating=reg.rating,
        comment=reg.rating_comment, answered_at=reg.status_at)
        for reg, m, region, district, muni in rows]
    found.sort(key=lambda p: (order.get(RegistrationStatus(p.status), 3), p.answered_at))
    return event, found


@dataclass(frozen=True)
class PlaceFigures:
    registered: int = 0
    waiting: int = 0
    attended: int = 0
    ratings: int = 0
    rating_sum: int = 0

    @property
    def mean(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


@dataclass(frozen=True)
class Report:
    event: Event
    invited: int
    totals: PlaceFigures
    by_place: dict[tuple[str, str], PlaceFigures]


async def report(db: Database, actor_id: int, event_id: int, lang: str = "ru") -> Report:
    """Registrations, attendance and ratings, overall and by region and district."""
    event, people = await participants(db, actor_id, event_id, lang)
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    for p in people:
        for bucket in (sums[(p.region, p.district)], total):
            if p.status == RegistrationStatus.REGISTERED:
                bucket["registered"] += 1
            elif p.status == RegistrationStatus.WAITLISTED:
                bucket["waiting"] += 1
            if p.attended:
                bucket["attended"] += 1
            if p.rating is not None:
                bucket["ratings"] += 1
                bucket["rating_sum"] += p.rating
    return Report(event, event.invitations, PlaceFigures(**total),
                  {k: PlaceFigures(**v) for k, v in sorted(sums.items())})


EXPORT_COLUMNS = ("name", "username", "position", "region", "district", "municipality",
                  "status", "attended", "rating", "comment", "answered_at")


def _export_rows(people: list[Participant]) -> list[list[Any]]:
    return [[p.name, f"@{p.username}" if p.username else "", p.position, p.region, p.district,
             p.municipality, p.status, "yes" if p.attended else "no",
             p.rating if p.rating is not None else "", p.comment or "",
             p.answered_at.astimezone(BISHKEK).strftime("%d.%m.%Y %H:%M")] for p in people]


async def export_csv(db: Database, actor_id: int, event_id: int, lang: str = "ru") -> bytes:
    _event, people = await participants(db, actor_id, event_id, lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(_export_rows(people))
    return out.getvalue().encode("utf-8-sig")


async def export_xlsx(db: Database, actor_id: int, event_id: int, lang: str = "ru") -> bytes:
    """The participant list as XLSX. Permission first; openpyxl is imported and the book built
    in a thread (the first import takes a second, which would stall every other member)."""
    event, people = await participants(db, actor_id, event_id, lang)
    rows = list(_export_rows(people))
    return await asyncio.to_thread(_xlsx, event_code(event.id or 0), rows)


def _xlsx(title: str, rows: list[Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
