"""Members: applying, being approved or rejected, editing a profile, choosing a language.

The onboarding flow collects an `Application` in conversation state and writes nothing until the
member consents; `submit_application` then writes the member, their communities, the redeemed
invite and the approval notices in one transaction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import String, bindparam, cast, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Row
from sqlmodel import and_, col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import LANGUAGES
from bot.services import audit, cache, notify, places, policy, reference
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.invites import redeem_invite
from storage.db import Database
from storage.enums import MUNICIPAL_POSITIONS, MemberStatus, Position, RegionKind, Role
from storage.models import (
    CommunityMembership,
    District,
    Member,
    Municipality,
    Region,
    RoleAssignment,
)
from storage.types import utcnow

NAME_MIN, NAME_MAX = 3, 120


@dataclass(frozen=True)
class MemberView:
    """What handlers may know about a member: plain values, detached from the database."""

    id: int
    telegram_id: int | None
    username: str | None
    full_name: str
    language: str
    position: Position
    status: MemberStatus
    region_id: int | None
    district_id: int | None
    municipality_id: int | None
    municipality_other: str | None
    community_ids: frozenset[int]
    roles: frozenset[Role]
    reachable: bool = True

    @property
    def active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


@dataclass
class Application:
    """What a newcomer tells Birge during onboarding (or what /profile changes)."""

    full_name: str
    language: str
    position: Position
    region_id: int | None = None
    district_id: int | None = None
    municipality_id: int | None = None
    municipality_other: str | None = None
    community_ids: list[int] = field(default_factory=list)
    invite_code: str | None = None


@dataclass(frozen=True)
class Submitted:
    member: MemberView
    pre_approved: bool
    notified: int


@dataclass(frozen=True)
class Decision:
    member: MemberView
    changed: bool  # False when the member had already been decided on


# --- reading ---------------------------------------------------------------------------------


async def _view(session: AsyncSession, member: Member) -> MemberView:
    assert member.id is not None
    communities = await session.exec(
        select(CommunityMembership.community_id).where(
            CommunityMembership.member_id == member.id
        )
    )
    grants = await policy.load_grants(session, member.id)
    return _built(member, frozenset(communities.all()), frozenset(g.role for g in grants))


def _built(member: Member | Row[Any], community_ids: frozenset[int],
           granted: frozenset[Role]) -> MemberView:
    assert member.id is not None
    return MemberView(
        id=member.id,
        telegram_id=member.telegram_id,
        username=member.username,
        full_name=member.full_name,
        language=member.language,
        position=Position(member.position),
        status=MemberStatus(member.status),
        region_id=member.region_id,
        district_id=member.district_id,
        municipality_id=member.municipality_id,
        municipality_other=member.municipality_other,
        community_ids=community_ids,
        roles=granted
        | (frozenset({Role.MEMBER}) if member.status == MemberStatus.ACTIVE else frozenset()),
        reachable=member.reachable,
    )


# A member with their communities and roles in one statement (it was three: the member, the
# community ids, the role rows loaded as ORM objects). The statements are built once, with bound
# parameters, so SQLAlchemy finds each one's compiled form without rebuilding its cache key
# (issue 20: Birge's CPU per update).
_VIEW_COLUMNS = (
    *(col(getattr(Member, c)) for c in (
        "id", "telegram_id", "username", "full_name", "language", "position", "status",
        "region_id", "district_id", "municipality_id", "municipality_other", "reachable")),
    sa_select(func.aggregate_strings(cast(col(CommunityMembership.community_id), String), ","))
    .where(col(CommunityMembership.member_id) == col(Member.id))
    .scalar_subquery().label("community_list"),
    sa_select(func.aggregate_strings(cast(col(RoleAssignment.role), String), ","))
    .where(col(RoleAssignment.member_id) == col(Member.id))
    .scalar_subquery().label("role_list"),
)
_BY_TELEGRAM = sa_select(*_VIEW_COLUMNS).where(
    col(Member.telegram_id) == bindparam("telegram_id"))
_BY_ID = sa_select(*_VIEW_COLUMNS).where(col(Member.id) == bindparam("member_id"))
# The profile card: the same with the names of the member's place, one statement per language.
_CARDS = {lang: sa_select(
    *_VIEW_COLUMNS,
    *(col(getattr(t, f"name_{lang}")).label(f"{t.__tablename__}_name")
      for t in (Region, District, Municipality)),
    *(col(t.name_ru).label(f"{t.__tablename__}_name_ru") for t in (Region, District, Municipality)),
).select_from(Member)
    .outerjoin(Region, col(Region.id) == col(Member.region_id))
    .outerjoin(District, col(District.id) == col(Member.district_id))
    .outerjoin(Municipality, col(Municipality.id) == col(Member.municipality_id))
    .where(col(Member.id) == bindparam("member_id")) for lang in LANGUAGES}


def _row_view(row: Row[Any]) -> MemberView:
    communities = frozenset(int(c) for c in (row.community_list or "").split(",") if c)
    granted = frozenset(Role(r) for r in (row.role_list or "").split(",") if r)
    return _built(row, communities, granted)


_by_telegram: cache.ReadCache[MemberView | None] = cache.ReadCache(
    30.0, "member", "role_assignment", "community_membership"
)


async def by_telegram(db: Database, telegram_id: int) -> MemberView | None:
    """The member behind a Telegram account (cached; for permissions, services reload)."""
    found = _by_telegram.get(telegram_id)
    if not cache.missing(found):
        return found  # type: ignore[return-value]
    async with db.read() as s:
        row = (await s.exec(_BY_TELEGRAM, params={"telegram_id": telegram_id})).first()  # type: ignore[call-overload]
    view = _row_view(row) if row is not None else None
    tags = [("telegram", telegram_id)] + ([("member", view.id)] if view else [])
    return _by_telegram.put(telegram_id, view, tags)


async def by_id(db: Database, member_id: int) -> MemberView | None:
    async with db.read() as s:
        row = (await s.exec(_BY_ID, params={"member_id": member_id})).first()  # type: ignore[call-overload]
    return _row_view(row) if row is not None else None


@dataclass(frozen=True)
class ProfileCard:
    member: MemberView
    region: str | None
    district: str | None
    municipality: str | None
    communities: list[str]


async def profile_card(db: Database, member_id: int, lang: str) -> ProfileCard:
    """The member, their communities, roles and the names of their place in one statement
    (it was three, with every row loaded as an ORM object); the communities' names come from
    the cached reference list, in its order."""
    async with db.read() as s:
        found = await s.exec(_CARDS.get(lang, _CARDS["ru"]),  # type: ignore[call-overload]
                             params={"member_id": member_id})
        row = found.first()
    if row is None:
        raise NotFound(what="member")
    view = _row_view(row)
    names = [c.name for c in await reference.communities(db, lang) if c.id in view.community_ids]
    return ProfileCard(
        member=view,
        region=row.region_name or row.region_name_ru,
        district=row.district_name or row.district_name_ru,
        municipality=(row.municipality_name or row.municipality_name_ru
                      or row.municipality_other),
        communities=names,
    )


# --- validation ------------------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """A person's full name: letters, spaces, hyphens, apostrophes and dots, 3–120 characters."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(name) > NAME_MAX:
        raise InvalidInput("name_too_long", limit=NAME_MAX)
    if len(name) < NAME_MIN or not re.fullmatch(r"[^\W\d_]+(?:[ .'’\-][^\W\d_]*)*\.?", name):
        raise InvalidInput("name_invalid")
    return name


async def _validate(db: Database, app: Application) -> Application:
    """Check the answers against the (cached) reference lists; ids must belong together."""
    app = replace(app, full_name=clean_name(app.full_name), community_ids=list(app.community_ids))
    if app.language not in LANGUAGES:
        raise InvalidInput("language")
    if app.region_id is not None:
        region = next((r for r in await reference.regions(db, "en") if r.id == app.region_id),
                      None)
        if region is None:
            raise InvalidInput("region")
        if region.kind == RegionKind.CITY:
            app.district_id = None
            app.municipality_id = None
    if app.district_id is not None:
        if app.region_id is None or app.district_id not in {
            d.id for d in await reference.districts(db, app.region_id, "en")
        }:
            raise InvalidInput("district")
    if app.municipality_id is not None:
        # A listed municipality, or a pending name someone typed (offered as a suggestion).
        if app.district_id is None or not await places.is_usable(
                db, app.district_id, app.municipality_id):
            raise InvalidInput("municipality")
        app.municipality_other = None
    if app.municipality_other is not None:
        app.municipality_other = places.clean_name(app.municipality_other)
    if app.position in MUNICIPAL_POSITIONS and app.region_id is None:
        raise InvalidInput("region")
    known = {c.id for c in await reference.communities(db, "en")}
    if not set(app.community_ids) <= known:
        raise InvalidInput("community")
    return app


async def _set_communities(session: AsyncSession, member_id: int, ids: list[int]) -> None:
    cache.touch(session.sync_session, "community_membership", member_id)
    await session.exec(
        delete(CommunityMembership).where(col(CommunityMembership.member_id) == member_id)
    )
    for community_id in sorted(set(ids)):
        session.add(CommunityMembership(member_id=member_id, community_id=community_id))


async def deciders(session: AsyncSession, district_id: int | None) -> list[int]:
    """Who is asked to approve a newcomer: their district's leaders and every Union staff member."""
    query = (
        select(RoleAssignment.member_id)
        .join(Member, col(Member.id) == RoleAssignment.member_id)
        .where(Member.status == MemberStatus.ACTIVE)
        # Named roles first: without it SQLite walks every active member (10,000 in a year,
        # 1.2 ms each newcomer) instead of the few role rows.
        .where(col(RoleAssignment.role).in_([Role.UNION_STAFF, Role.DISTRICT_LEADER]))
        .where(
            (RoleAssignment.role == Role.UNION_STAFF)
            | (
                (RoleAssignment.role == Role.DISTRICT_LEADER)
                & (RoleAssignment.district_id == district_id)
            )
        )
    )
    return sorted(set((await session.exec(query)).all()))


# --- changes ---------------------------------------------------------------------------------


async def _resolve_typed(s: AsyncSession, member: Member) -> None:
    """A municipality typed by hand becomes a known or pending municipality (one name each)."""
    if member.municipality_other and member.district_id is not None:
        member.municipality_id = await places.resolve_typed(
            s, member.district_id, member.municipality_other, member.id)
        member.municipality_other = None


async def submit_application(
    db: Database, telegram_id: int, username: str | None, app: Application
) -> Submitted:
    """A newcomer who consented becomes a pending member (or an active one, through an invite)."""
    app = await _validate(db, app)
    async with db.transaction() as s:
        # The Telegram account, or a member staff imported by username who now opens the bot.
        match = col(Member.telegram_id) == telegram_id
        if username:
            match = or_(match, and_(col(Member.telegram_id).is_(None),
                                    col(Member.username) == username.lower()))
        found = (await s.exec(select(Member).where(match))).all()
        member = next((m for m in found if m.telegram_id == telegram_id), None) or next(
            iter(found), None)
        if member is not None and member.status in (MemberStatus.ACTIVE, MemberStatus.PENDING):
            raise InvalidState("already_registered")
        # Staff imported this person from the leaders' spreadsheet: they are expected.
        pre_approved = member is not None and member.status == MemberStatus.INVITED
        new = member is None
        if app.municipality_other and app.district_id is not None:
            # A name already known (the usual case: colleagues type the same one) is set with
            # the member's row; only a new name waits for the member's id to be proposed.
            known = await places.known_typed(s, app.district_id, app.municipality_other)
            if known is not None:
                app = replace(app, municipality_id=known, municipality_other=None)
        if member is None:
            member = Member(full_name=app.full_name, position=app.position,
                            status=MemberStatus.PENDING)
            s.add(member)
        member.telegram_id = telegram_id
        member.username = username.lower() if username else None
        member.full_name = app.full_name
        member.language = app.language
        member.position = app.position
        member.region_id = app.region_id
        member.district_id = app.district_id
        member.municipality_id = app.municipality_id
        member.municipality_other = app.municipality_other
        member.consent_at = utcnow()
        member.decided_at = None
        member.decided_by_id = None
        await s.flush()
        assert member.id is not None
        await _resolve_typed(s, member)

        if app.invite_code:
            invite = await redeem_invite(s, app.invite_code, member.id)
            if invite is not None:
                pre_approved = True
                if invite.role != Role.MEMBER:
                    s.add(RoleAssignment(member_id=member.id, role=invite.role,
                                         community_id=invite.community_id,
                                         district_id=invite.district_id,
                                         granted_by_id=invite.created_by_id))
        member.status = MemberStatus.ACTIVE if pre_approved else MemberStatus.PENDING
        if pre_approved:
            member.decided_at = utcnow()
        if new:
            s.add_all(CommunityMembership(member_id=member.id, community_id=c)
                      for c in sorted(set(app.community_ids)))
        else:
            await _set_communities(s, member.id, app.community_ids)

        notified = 0
        if not pre_approved:
            for decider in await deciders(s, member.district_id):
                if decider != member.id:
                    notify.enqueue(s, decider, "applicant_pending", applicant_id=member.id)
                    notified += 1
        audit.record(s, member.id, "member_applied", "member", member.id,
                     pre_approved=pre_approved, invite=bool(app.invite_code))
        await s.flush()
        view = await _view(s, member) if not new or pre_approved else _new_view(member, app)
        return Submitted(view, pre_approved, notified)


def _new_view(member: Member, app: Application) -> MemberView:
    """The view of a member just created: nothing to read back."""
    assert member.id is not None
    return MemberView(
        id=member.id, telegram_id=member.telegram_id, username=member.username,
        full_name=member.full_name, language=member.language,
        position=Position(member.position), status=MemberStatus(member.status),
        region_id=member.region_id, district_id=member.district_id,
        municipality_id=member.municipality_id, municipality_other=member.municipality_other,
        community_ids=frozenset(app.community_ids), roles=frozenset(), reachable=True,
    )


async def _decide(db: Database, actor_id: int, member_id: int, approve: bool) -> Decision:
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        member = await s.get(Member, member_id)
        if member is None:
            raise NotFound(what="member")
        await policy.ensure(db, actor, policy.can_decide_applicant(actor, member.district_id),
                            policy.Action.DECIDE_APPLICANT, member_id)
        if member.status != MemberStatus.PENDING:
            return Decision(await _view(s, member), changed=False)
        member.status = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
        member.decided_at = utcnow()
        member.decided_by_id = actor_id
        notify.enqueue(s, member_id, "member_approved" if approve else "member_rejected")
        decider = await s.get(Member, actor_id)
        await notify.settle(s, "applicant_pending", "applicant_id", member_id,
                            verdict="member_approved" if approve else "member_rejected",
                            actor_id=actor_id, name=member.full_name,
                            by=decider.full_name if decider else "")
        audit.record(s, actor_id, "member_approved" if approve else "member_rejected",
                     "member", member_id)
        await s.flush()
        return Decision(await _view(s, member), changed=True)


async def approve_member(db: Database, actor_id: int, member_id: int) -> Decision:
    """A district leader or Union staff lets a newcomer in; a second approval changes nothing."""
    return await _decide(db, actor_id, member_id, approve=True)


async def reject_member(db: Database, actor_id: int, member_id: int) -> Decision:
    return await _decide(db, actor_id, member_id, approve=False)


async def update_profile(db: Database, member_id: int, app: Application) -> MemberView:
    """A member changes their own name, position, place or communities."""
    app = await _validate(db, app)
    async with db.transaction() as s:
        member = await s.get(Member, member_id)
        if member is None or member.status in (MemberStatus.REJECTED, MemberStatus.DELETED):
            raise NotFound(what="member")
        before = {"full_name": member.full_name, "position": member.position,
                  "district_id": member.district_id, "municipality_id": member.municipality_id}
        member.full_name = app.full_name
        member.position = app.position
        member.region_id = app.region_id
        member.district_id = app.district_id
        member.municipality_id = app.municipality_id
        member.municipality_other = app.municipality_other
        await _resolve_typed(s, member)
        await _set_communities(s, member_id, app.community_ids)
        audit.record(s, member_id, "profile_updated", "member", member_id, before=before)
        await s.flush()
        return await _view(s, member)


async def set_language(db: Database, member_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput("language")
    async with db.transaction() as s:
        member = await s.get(Member, member_id)
        if member is None:
            raise NotFound(what="member")
        member.language = language


async def mark_unreachable(db: Database, member_id: int, reachable: bool = False) -> None:
    """The member blocked the bot (or unblocked it by writing again)."""
    async with db.transaction() as s:
        member = await s.get(Member, member_id)
        if member is not None and member.reachable != reachable:
            member.reachable = reachable
            audit.record(s, None, "member_reachable" if reachable else "member_unreachable",
                         "member", member_id)


async def pending_for(db: Database, actor_id: int) -> list[int]:
    """The newcomers this member may decide on, oldest first."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        if not actor.active:
            return []
        query = select(Member.id, Member.district_id).where(
            Member.status == MemberStatus.PENDING
        ).order_by(col(Member.created_at))
        rows = (await s.exec(query)).all()
    return [mid for mid, district in rows
            if mid is not None and policy.can_decide_applicant(actor, district)]


async def applicant_summary(db: Database, member_id: int, lang: str) -> ProfileCard | None:
    """The card shown to deciders in an approval notice."""
    try:
        return await profile_card(db, member_id, lang)
    except NotFound:
        return None
