"""The member directory (/people) and "Write to them": one message relayed through Birge.

Members find colleagues by district, municipality, practice community and role, district leaders
first. A card never shows a phone number or Telegram username unless its member chose so in
/settings; a member may hide from the directory, but district leaders and Union staff stay listed
as such, and Union staff see everyone. A relayed message shows the recipient who wrote (and lets
them answer or block that person); a member writes to at most `new_per_day` new people a day.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, files, notify, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.places import fold
from storage.db import Database
from storage.enums import AttachmentKind, MemberStatus, Position, Role
from storage.models import (
    Community,
    CommunityMembership,
    DirectMessage,
    District,
    Member,
    MemberBlock,
    MemberSettings,
    Municipality,
    RoleAssignment,
)
from storage.types import utcnow

QUERY_MAX = 100
MESSAGE_MAX = 2000
NEW_PER_DAY = 10
PER_PAGE = 8
ROLES = (Role.DISTRICT_LEADER, Role.MODERATOR, Role.EXPERT, Role.UNION_STAFF,
         Role.STATE_LIAISON, Role.PARTNER)
# Roles that keep a member listed even when they chose to hide: the people others must find.
LISTED_ANYWAY = frozenset({Role.DISTRICT_LEADER, Role.UNION_STAFF})


@dataclass(frozen=True)
class Filters:
    district_id: int | None = None
    municipality_id: int | None = None
    community_id: int | None = None
    role: Role | None = None
    query: str = ""

    def pack(self) -> str:
        """A short form for a button (the query stays in the conversation state)."""
        parts = [f"d{self.district_id}" if self.district_id else "",
                 f"m{self.municipality_id}" if self.municipality_id else "",
                 f"c{self.community_id}" if self.community_id else "",
                 f"r{ROLES.index(self.role)}" if self.role in ROLES else ""]
        return ".".join(p for p in parts if p)

    @classmethod
    def unpack(cls, value: str, query: str = "") -> Filters:
        """Filters from a button; anything that is not one Birge made is dropped."""
        found: dict[str, Any] = {}
        for part in (value or "").split(".")[:4]:
            if len(part) < 2 or not part[1:].isdigit() or len(part) > 10:
                continue
            number = int(part[1:])
            if part[0] == "d":
                found["district_id"] = number
            elif part[0] == "m":
                found["municipality_id"] = number
            elif part[0] == "c":
                found["community_id"] = number
            elif part[0] == "r" and number < len(ROLES):
                found["role"] = ROLES[number]
        return cls(query=query, **found)


def clean_query(raw: str) -> str:
    """Words to look for in names: any characters are safe, at most QUERY_MAX of them."""
    text = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if len(text) > QUERY_MAX:
        raise InvalidInput("people_query", limit=QUERY_MAX)
    return text


def _words(query: str) -> list[str]:
    return [w for w in (fold(x) for x in re.split(r"\s+", query)) if w]


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    position: Position
    place: str
    leads: bool
    roles: frozenset[Role]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Card:
    id: int
    name: str
    position: Position
    municipality: str | None
    district: str | None
    communities: list[str]
    # (role, community name or None, district name or None)
    roles: list[tuple[Role, str | None, str | None]]
    username: str | None
    phone: str | None
    hidden: bool  # hidden from the directory (shown to staff only)
    is_me: bool
    blocked_by_me: bool
    can_write: bool


async def _actor(db: Database, s: AsyncSession, actor_id: int) -> policy.Actor:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_view_directory(actor),
                        policy.Action.VIEW_DIRECTORY)
    return actor


@functools.lru_cache(maxsize=65_536)
def _folded(name: str) -> str:
    return fold(name)


async def search(db: Database, actor_id: int, filters: Filters, lang: str,
                 page: int = 0, per_page: int = PER_PAGE) -> Page:
    """One page of the directory for these filters: district leaders first, then Union staff,
    then by name. Filters, visibility, order and paging run in SQL; a name query is matched in
    Python on transliterated names (SQLite cannot lower-case Cyrillic)."""
    words = _words(clean_query(filters.query))
    ra = RoleAssignment
    leader = exists().where(col(ra.member_id) == col(Member.id),
                            col(ra.role) == Role.DISTRICT_LEADER)
    if filters.community_id:
        leader = exists().where(col(ra.member_id) == col(Member.id),
                                col(ra.role) == Role.DISTRICT_LEADER,
                                col(ra.community_id) == filters.community_id)
    staff = exists().where(col(ra.member_id) == col(Member.id),
                           col(ra.role) == Role.UNION_STAFF)
    listed = exists().where(col(ra.member_id) == col(Member.id),
                            col(ra.role).in_(list(LISTED_ANYWAY)))
    hidden = exists().where(col(MemberSettings.member_id) == col(Member.id),
                            col(MemberSettings.directory_hidden))
    async with db.read() as s:
        actor = await _actor(db, s, actor_id)
        conditions: list[Any] = [Member.status == MemberStatus.ACTIVE]
        if filters.district_id:
            conditions.append(Member.district_id == filters.district_id)
        if filters.municipality_id:
            conditions.append(Member.municipality_id == filters.municipality_id)
        if filters.community_id:
            conditions.append(exists().where(
                col(CommunityMembership.member_id) == col(Member.id),
                col(CommunityMembership.community_id) == filters.community_id))
        if filters.role:
            conditions.append(exists().where(col(ra.member_id) == col(Member.id),
                                             col(ra.role) == filters.role))
        if not actor.is_staff:  # staff see everyone
            conditions.append(or_(~hidden, listed, col(Member.id) == actor_id))
        order = (leader.desc(), staff.desc(), col(Member.full_name), col(Member.id))
        if words:
            rows = (await s.exec(select(col(Member.id), col(Member.full_name))
                                 .where(*conditions).order_by(*order))).all()
            ids = [mid for mid, name in rows if all(w in _folded(name) for w in words)]
            total = len(ids)
        else:
            total = int((await s.exec(select(func.count()).select_from(Member)
                                      .where(*conditions))).one())
        pages = max(1, -(-total // per_page))
        page = min(max(page, 0), pages - 1)
        if words:
            chosen = ids[page * per_page:(page + 1) * per_page]
        else:
            chosen = list((await s.exec(select(col(Member.id)).where(*conditions)
                                        .order_by(*order).offset(page * per_page)
                                        .limit(per_page))).all())
        found = {m.id: m for m in (await s.exec(select(Member).where(
            col(Member.id).in_(chosen or [0])))).all()}
        roles: dict[int, set[Role]] = {}
        leads: set[int] = set()
        for mid, role, community in (await s.exec(select(ra.member_id, ra.role, ra.community_id)
                                                  .where(col(ra.member_id).in_(chosen or [0])))
                                     ).all():
            roles.setdefault(mid, set()).add(Role(role))
            if role == Role.DISTRICT_LEADER and (
                    not filters.community_id or community == filters.community_id):
                leads.add(mid)
        members = [found[mid] for mid in chosen if mid in found]
        places = await _place_names(s, {(m.district_id, m.municipality_id) for m in members},
                                    lang)
    out = [Row(m.id or 0, m.full_name, Position(m.position),
               places.get((m.district_id, m.municipality_id), ""), m.id in leads,
               frozenset(roles.get(m.id or 0, set()))) for m in members]
    return Page(out, total, page, pages)


async def _place_names(s: AsyncSession, keys: set[tuple[int | None, int | None]],
                       lang: str) -> dict[tuple[int | None, int | None], str]:
    district_ids = {d for d, _m in keys if d}
    municipality_ids = {m for _d, m in keys if m}
    districts = {d.id: d for d in (await s.exec(select(District).where(
        col(District.id).in_(district_ids or {0})))).all()}
    municipalities = {m.id: m for m in (await s.exec(select(Municipality).where(
        col(Municipality.id).in_(municipality_ids or {0})))).all()}
    out = {}
    for district_id, municipality_id in keys:
        found = (municipalities.get(municipality_id), districts.get(district_id))
        out[(district_id, municipality_id)] = ", ".join(
            x.name(lang) for x in found if x is not None)
    return out


async def _visible_to(s: AsyncSession, actor: policy.Actor, member: Member) -> bool:
    if member.status != MemberStatus.ACTIVE:
        return False
    if actor.is_staff or member.id == actor.member_id:
        return True
    prefs = await s.get(MemberSettings, member.id)
    if prefs is None or not prefs.directory_hidden:
        return True
    grants = await policy.load_grants(s, member.id or 0)
    if any(g.role in LISTED_ANYWAY for g in grants):
        return True
    # A hidden member is still reachable by someone they wrote to.
    return await _wrote_to(s, member.id or 0, actor.member_id)


async def _wrote_to(s: AsyncSession, sender_id: int, recipient_id: int) -> bool:
    return (await s.exec(select(DirectMessage.id).where(
        DirectMessage.sender_id == sender_id,
        DirectMessage.recipient_id == recipient_id).limit(1))).first() is not None


async def _blocked(s: AsyncSession, member_id: int, blocked_id: int) -> bool:
    return await s.get(MemberBlock, (member_id, blocked_id)) is not None


async def card(db: Database, actor_id: int, member_id: int, lang: str) -> Card:
    async with db.read() as s:
        actor = await _actor(db, s, actor_id)
        member = await s.get(Member, member_id)
        if member is None or not await _visible_to(s, actor, member):
            raise NotFound(what="member")
        prefs = await s.get(MemberSettings, member_id)
        comms = (await s.exec(select(Community).join(
            CommunityMembership, col(CommunityMembership.community_id) == Community.id).where(
            CommunityMembership.member_id == member_id).order_by(col(Community.sort)))).all()
        roles = []
        for g in sorted(await policy.load_grants(s, member_id), key=lambda g: str(g.role)):
            community = await s.get(Community, g.community_id) if g.community_id else None
            district = await s.get(District, g.district_id) if g.district_id else None
            roles.append((g.role, community.name(lang) if community else None,
                          district.name(lang) if district else None))
        d = await s.get(District, member.district_id) if member.district_id else None
        m = await s.get(Municipality, member.municipality_id) if member.municipality_id else None
        blocked_me = await _blocked(s, member_id, actor_id)
        return Card(
            id=member_id, name=member.full_name, position=Position(member.position),
            municipality=m.name(lang) if m else member.municipality_other,
            district=d.name(lang) if d else None,
            communities=[c.name(lang) for c in comms], roles=roles,
            username=member.username if prefs is not None and prefs.show_username else None,
            phone=member.phone if prefs is not None and prefs.show_phone else None,
            hidden=bool(prefs and prefs.directory_hidden), is_me=member_id == actor_id,
            blocked_by_me=await _blocked(s, actor_id, member_id),
            can_write=member_id != actor_id and not blocked_me and member.reachable)


# --- writing to someone ----------------------------------------------------------------------


@dataclass
class Draft:
    text: str = ""
    attachment: dict[str, Any] = field(default_factory=dict)


def clean_message(text: str | None, attachment: dict[str, Any] | None) -> Draft:
    body = (text or "").strip()
    if len(body) > MESSAGE_MAX:
        raise InvalidInput("people_message", limit=MESSAGE_MAX)
    clean: dict[str, Any] = {}
    if attachment:
        kind = AttachmentKind(attachment.get("kind", "document"))
        name = files.check_file(attachment.get("name"), attachment.get("mime"),
                                attachment.get("size"))
        clean = {"file_id": str(attachment["file_id"])[:200], "kind": kind.value, "name": name,
                 "size": int(attachment.get("size") or 0)}
    if not body and not clean:
        raise InvalidInput("people_message", limit=MESSAGE_MAX)
    return Draft(body, clean)


async def new_people_today(s: AsyncSession, actor_id: int, now: datetime) -> set[int]:
    """The people this member started writing to in the last 24 hours (not answers)."""
    since = now - timedelta(days=1)
    recent = set((await s.exec(select(DirectMessage.recipient_id).where(
        DirectMessage.sender_id == actor_id, col(DirectMessage.created_at) >= since))).all())
    if not recent:
        return set()
    earlier = set((await s.exec(select(DirectMessage.recipient_id).where(
        DirectMessage.sender_id == actor_id, col(DirectMessage.created_at) < since,
        col(DirectMessage.recipient_id).in_(recent)))).all())
    answered = set((await s.exec(select(DirectMessage.sender_id).where(
        DirectMessage.recipient_id == actor_id,
        col(DirectMessage.sender_id).in_(recent)))).all())
    return recent - earlier - answered


async def write(db: Database, actor_id: int, recipient_id: int, draft: Draft, *,
                new_per_day: int = NEW_PER_DAY) -> int:
    """Relay one message to another member; returns its id. The recipient hears of it through
    the outbox with Reply and Block buttons."""
    clean = clean_message(draft.text, draft.attachment)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        recipient = await s.get(Member, recipient_id)
        visible = recipient is not None and await _visible_to(s, actor, recipient)
        blocked = await _blocked(s, recipient_id, actor_id)
        allowed = (visible and recipient_id != actor_id
                   and policy.can_write_member(actor, True, blocked=False))
        await policy.ensure(db, actor, allowed, policy.Action.WRITE_MEMBER, recipient_id)
        assert recipient is not None
        if blocked:
            raise InvalidState("people_blocked")
        if not recipient.reachable:
            raise InvalidState("people_unreachable")
        now = utcnow()
        known = (await _wrote_to(s, actor_id, recipient_id)
                 or await _wrote_to(s, recipient_id, actor_id))
        if not known and len(await new_people_today(s, actor_id, now)) >= new_per_day:
            raise InvalidState("people_limit", limit=new_per_day)
        reply_to = (await s.exec(select(DirectMessage.id).where(
            DirectMessage.sender_id == recipient_id, DirectMessage.recipient_id == actor_id)
            .order_by(col(DirectMessage.id).desc()).limit(1))).first()
        message = DirectMessage(sender_id=actor_id, recipient_id=recipient_id, text=clean.text,
                                attachment=clean.attachment, reply_to_id=reply_to,
                                created_at=now)
        s.add(message)
        await s.flush()
        assert message.id is not None
        notify.enqueue(s, recipient_id, "direct_message", message_id=message.id)
        audit.record(s, actor_id, "member_written", "member", recipient_id,
                     message_id=message.id)
        return message.id


@dataclass(frozen=True)
class Relayed:
    id: int
    sender_id: int
    sender_name: str
    sender_position: Position
    sender_place: str
    text: str
    attachment: dict[str, Any]
    is_reply: bool


async def relayed(db: Database, message_id: int, lang: str) -> Relayed | None:
    """A relayed message as its recipient sees it (None when it or its sender is gone)."""
    async with db.read() as s:
        message = await s.get(DirectMessage, message_id)
        if message is None:
            return None
        sender = await s.get(Member, message.sender_id)
        if sender is None or sender.status != MemberStatus.ACTIVE:
            return None
        place = (await _place_names(s, {(sender.district_id, sender.municipality_id)},
                                    lang))[(sender.district_id, sender.municipality_id)]
    return Relayed(message_id, sender.id or 0, sender.full_name, Position(sender.position),
                   place, message.text, dict(message.attachment), message.reply_to_id is not None)


async def block(db: Database, actor_id: int, member_id: int, blocked: bool = True) -> None:
    """Take no more messages from a member (or take them again)."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        other = await s.get(Member, member_id)
        await policy.ensure(db, actor, actor.active and other is not None
                            and member_id != actor_id, policy.Action.WRITE_MEMBER, member_id)
        row = await s.get(MemberBlock, (actor_id, member_id))
        if blocked and row is None:
            s.add(MemberBlock(member_id=actor_id, blocked_id=member_id))
        elif not blocked and row is not None:
            await s.delete(row)
        audit.record(s, actor_id, "member_blocked" if blocked else "member_unblocked",
                     "member", member_id)


async def set_listing(db: Database, actor_id: int, *, hidden: bool | None = None,
                      show_username: bool | None = None, show_phone: bool | None = None) -> None:
    """A member's own directory choices (from /settings)."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_change_settings(actor),
                            policy.Action.CHANGE_SETTINGS, actor_id)
        row = await s.get(MemberSettings, actor_id)
        if row is None:
            row = MemberSettings(member_id=actor_id)
            s.add(row)
        if hidden is not None:
            row.directory_hidden = hidden
        if show_username is not None:
            row.show_username = show_username
        if show_phone is not None:
            row.show_phone = show_phone
        row.updated_at = utcnow()
        audit.record(s, actor_id, "directory_listing_changed", "member", actor_id,
                     hidden=hidden, show_username=show_username, show_phone=show_phone)


@dataclass(frozen=True)
class Listing:
    hidden: bool
    show_username: bool
    show_phone: bool
    has_username: bool
    has_phone: bool


async def listing(db: Database, member_id: int) -> Listing:
    async with db.read() as s:
        row = await s.get(MemberSettings, member_id)
        member = await s.get(Member, member_id)
    return Listing(bool(row and row.directory_hidden), bool(row and row.show_username),
                   bool(row and row.show_phone), bool(member and member.username),
                   bool(member and member.phone))


async def set_phone(db: Database, actor_id: int, phone: str | None) -> None:
    """The member's own phone number (shared as a contact), shown only if they choose."""
    cleaned = None
    if phone:
        cleaned = re.sub(r"[^\d+]", "", phone)[:32]
        if not re.fullmatch(r"\+?\d{6,15}", cleaned):
            raise InvalidInput("people_phone")
    async with db.transaction() as s:
        member = await s.get(Member, actor_id)
        if member is None or member.status != MemberStatus.ACTIVE:
            raise NotFound(what="member")
        member.phone = cleaned
        audit.record(s, actor_id, "phone_changed", "member", actor_id)


async def districts_with_members(db: Database) -> set[int]:
    async with db.read() as s:
        return {d for d in (await s.exec(select(Member.district_id).where(
            Member.status == MemberStatus.ACTIVE, col(Member.district_id).is_not(None))
            .distinct())).all() if d is not None}


