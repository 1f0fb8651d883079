"""Topic groups: where members ask and answer, each with moderators appointed by Union staff.

A group is open to every member, or (like the practice communities' own groups) only to one
practice community. Joining a group means following it: its new questions reach you.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CompoundSelect, delete, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, cache, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import MemberStatus, QuestionStatus
from storage.models import (
    Community,
    CommunityMembership,
    GroupMember,
    GroupModerator,
    Member,
    Question,
    TopicGroup,
)
from storage.types import utcnow

NAME_MAX = 120
DESCRIPTION_MAX = 1000


@dataclass(frozen=True)
class GroupLine:
    id: int
    name: str
    joined: bool
    community_only: bool
    members: int


@dataclass(frozen=True)
class QuestionLine:
    id: int
    text: str
    status: QuestionStatus


@dataclass(frozen=True)
class GroupCard:
    id: int
    name: str
    description: str
    community_id: int | None
    archived: bool
    members: int
    moderators: list[tuple[int, str]]
    recent: list[QuestionLine]
    joined: bool
    moderates: bool
    manages: bool


@dataclass(frozen=True)
class Access:
    """What the acting member is to one group."""

    actor: policy.Actor
    group: TopicGroup
    joined: bool
    moderates: bool
    sees: bool


async def _communities(session: AsyncSession, member_id: int) -> frozenset[int]:
    rows = (await session.exec(select(CommunityMembership.community_id).where(
        CommunityMembership.member_id == member_id))).all()
    return frozenset(rows)


def _mine(member_id: int, group_id: int | None = None) -> CompoundSelect:
    """One statement for what a member is to the groups: their practice communities ("c"), the
    groups they moderate ("m") and follow ("j"); only `group_id`'s rows when given."""
    moderated = [col(GroupModerator.member_id) == member_id]
    followed = [col(GroupMember.member_id) == member_id]
    if group_id is not None:
        moderated.append(col(GroupModerator.group_id) == group_id)
        followed.append(col(GroupMember.group_id) == group_id)
    return union_all(
        sa_select(literal("c").label("kind"), col(CommunityMembership.community_id).label("id"))
        .where(col(CommunityMembership.member_id) == member_id),
        sa_select(literal("m"), col(GroupModerator.group_id)).where(*moderated),
        sa_select(literal("j"), col(GroupMember.group_id)).where(*followed))


async def access(session: AsyncSession, actor: policy.Actor, group_id: int) -> Access:
    group = await session.get(TopicGroup, group_id)
    if group is None:
        raise NotFound(what="group")
    rows = (await session.exec(_mine(actor.member_id, group_id))).all()  # type: ignore[call-overload]
    communities = frozenset(i for k, i in rows if k == "c")
    joined = any(k == "j" for k, _i in rows)
    moderates = any(k == "m" for k, _i in rows)
    sees = policy.can_see_group(actor, group.community_id, communities, moderates)
    return Access(actor, group, joined, moderates, sees)


async def visible_group_ids(session: AsyncSession, actor: policy.Actor) -> list[int]:
    """Every group (archived too: its answers stay findable) the member may read."""
    if not actor.active:
        return []
    groups = (await session.exec(select(TopicGroup.id, TopicGroup.community_id))).all()
    if actor.is_staff:
        return [g for g, _ in groups if g is not None]
    communities = await _communities(session, actor.member_id)
    moderated = set((await session.exec(select(GroupModerator.group_id).where(
        GroupModerator.member_id == actor.member_id))).all())
    return [g for g, c in groups if g is not None
            and policy.can_see_group(actor, c, communities, g in moderated)]


async def readable_groups(db: Database, actor_id: int) -> list[int]:
    async with db.read() as s:
        return await visible_group_ids(s, await policy.load_actor(s, actor_id))


# How many follow each group: a count over every follower row (tens of thousands after a year),
# read at most once per TTL by this process and forgotten when a follower joins or leaves.
_follower_counts: cache.ReadCache[dict[int, int]] = cache.ReadCache(30.0, "group_member")


async def _counts(session: AsyncSession) -> dict[int, int]:
    found = _follower_counts.get("all")
    if not cache.missing(found):
        return found  # type: ignore[return-value]
    rows = (await session.exec(select(GroupMember.group_id, func.count())
                               .group_by(col(GroupMember.group_id)))).all()
    return _follower_counts.put("all", {int(g): int(n) for g, n in rows})


async def list_groups(db: Database, actor_id: int, language: str) -> list[GroupLine]:
    """The groups the member may join, joined ones first."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        if not actor.active:
            return []
        groups = (await s.exec(select(TopicGroup).where(col(TopicGroup.archived_at).is_(None))
                               .order_by(col(TopicGroup.sort), col(TopicGroup.id)))).all()
        rows = (await s.exec(_mine(actor_id))).all()  # type: ignore[call-overload]
        counts = await _counts(s)
    communities = frozenset(i for k, i in rows if k == "c")
    moderated = {i for k, i in rows if k == "m"}
    joined = {i for k, i in rows if k == "j"}
    lines = [GroupLine(g.id or 0, g.name(language), g.id in joined, g.community_id is not None,
                       counts.get(g.id or 0, 0)) for g in groups
             if policy.can_see_group(actor, g.community_id, communities, g.id in moderated)]
    return sorted(lines, key=lambda line: not line.joined)


async def may_manage(db: Database, actor_id: int) -> bool:
    """Whether to offer this member the staff's group actions (the actions check again)."""
    async with db.read() as s:
        return policy.can_manage_groups(await policy.load_actor(s, actor_id))


async def group_card(db: Database, actor_id: int, group_id: int, language: str) -> GroupCard:
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        a = await access(s, actor, group_id)
        if not a.sees:
            await policy.ensure(db, actor, False, policy.Action.JOIN_GROUP, group_id)
        members = (await s.exec(select(func.count()).where(
            GroupMember.group_id == group_id))).one()
        moderators = (await s.exec(
            select(Member.id, Member.full_name).join(
                GroupModerator, col(GroupModerator.member_id) == Member.id)
            .where(GroupModerator.group_id == group_id).order_by(col(Member.full_name)))).all()
        recent = (await s.exec(
            select(Question).where(Question.group_id == group_id,
                                   col(Question.status).not_in([QuestionStatus.HIDDEN,
                                                                QuestionStatus.DUPLICATE]))
            .order_by(col(Question.id).desc()).limit(5))).all()
    g = a.group
    return GroupCard(
        id=group_id, name=g.name(language), description=g.description(language),
        community_id=g.community_id, archived=g.archived_at is not None, members=int(members),
        moderators=[(m or 0, str(n)) for m, n in moderators],
        recent=[QuestionLine(q.id or 0, q.text, QuestionStatus(q.status)) for q in recent],
        joined=a.joined, moderates=a.moderates, manages=policy.can_manage_groups(actor),
    )


def _names(names: dict[str, str | None]) -> dict[str, str]:
    clean = {lang: " ".join((names.get(lang) or "").split()) for lang in ("ky", "ru", "en")}
    if not clean["ky"] or not clean["ru"]:
        raise InvalidInput("group_name", limit=NAME_MAX)
    clean["en"] = clean["en"] or clean["ru"]
    if any(not 2 <= len(v) <= NAME_MAX for v in clean.values()):
        raise InvalidInput("group_name", limit=NAME_MAX)
    return clean


async def create_group(db: Database, actor_id: int, names: dict[str, str | None],
                       description: str = "", community_id: int | None = None) -> int:
    clean = _names(names)
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput("group_description", limit=DESCRIPTION_MAX)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_groups(actor),
                            policy.Action.MANAGE_GROUPS)
        sort = (await s.exec(select(func.max(TopicGroup.sort)))).one() or 0
        group = TopicGroup(name_ky=clean["ky"], name_ru=clean["ru"], name_en=clean["en"],
                           description_ky=description, description_ru=description,
                           description_en=description, community_id=community_id,
                           sort=int(sort) + 1, created_by_id=actor_id)
        s.add(group)
        await s.flush()
        assert group.id is not None
        audit.record(s, actor_id, "group_created", "topic_group", group.id)
        return group.id


async def _managed(db: Database, s: AsyncSession, actor_id: int, group_id: int) -> TopicGroup:
    actor = await policy.load_actor(s, actor_id)
    await policy.ensure(db, actor, policy.can_manage_groups(actor), policy.Action.MANAGE_GROUPS,
                        group_id)
    group = await s.get(TopicGroup, group_id)
    if group is None:
        raise NotFound(what="group")
    return group


async def rename_group(db: Database, actor_id: int, group_id: int,
                       names: dict[str, str | None]) -> None:
    clean = _names(names)
    async with db.transaction() as s:
        group = await _managed(db, s, actor_id, group_id)
        group.name_ky, group.name_ru, group.name_en = clean["ky"], clean["ru"], clean["en"]
        audit.record(s, actor_id, "group_renamed", "topic_group", group_id)


async def archive_group(db: Database, actor_id: int, group_id: int) -> bool:
    """No new questions; its answers stay in the knowledge base. False if already archived."""
    async with db.transaction() as s:
        group = await _managed(db, s, actor_id, group_id)
        if group.archived_at is not None:
            return False
        group.archived_at = utcnow()
        audit.record(s, actor_id, "group_archived", "topic_group", group_id)
        return True


async def appoint_moderator(db: Database, actor_id: int, group_id: int, member_id: int) -> bool:
    """False when they already moderate it."""
    async with db.transaction() as s:
        await _managed(db, s, actor_id, group_id)
        member = await s.get(Member, member_id)
        if member is None or member.status != MemberStatus.ACTIVE:
            raise NotFound(what="member")
        if await s.get(GroupModerator, (group_id, member_id)) is not None:
            return False
        s.add(GroupModerator(group_id=group_id, member_id=member_id, appointed_by_id=actor_id))
        if await s.get(GroupMember, (group_id, member_id)) is None:
            s.add(GroupMember(group_id=group_id, member_id=member_id))
        audit.record(s, actor_id, "moderator_appointed", "topic_group", group_id,
                     member_id=member_id)
        return True


async def remove_moderator(db: Database, actor_id: int, group_id: int, member_id: int) -> bool:
    async with db.transaction() as s:
        await _managed(db, s, actor_id, group_id)
        result = await s.exec(delete(GroupModerator).where(
            col(GroupModerator.group_id) == group_id, col(GroupModerator.member_id) == member_id))
        audit.record(s, actor_id, "moderator_removed", "topic_group", group_id,
                     member_id=member_id)
        return bool(result.rowcount)


async def join_group(db: Database, actor_id: int, group_id: int) -> bool:
    """Follow a group; False when already in it."""
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        a = await access(s, actor, group_id)
        await policy.ensure(db, actor, a.sees, policy.Action.JOIN_GROUP, group_id)
        if a.group.archived_at is not None:
            raise InvalidState("group_archived")
        if a.joined:
            return False
        s.add(GroupMember(group_id=group_id, member_id=actor_id))
        return True


async def leave_group(db: Database, actor_id: int, group_id: int) -> bool:
    async with db.transaction() as s:
        cache.touch(s.sync_session, "group_member")
        result = await s.exec(delete(GroupMember).where(
            col(GroupMember.group_id) == group_id, col(GroupMember.member_id) == actor_id))
        return bool(result.rowcount)


async def set_forum_topic(db: Database, group_id: int, topic_id: int | None,
                          chat_id: int | None = None) -> None:
    """Record the group's thread and the forum chat it is in (done by `bot.forum`)."""
    async with db.transaction() as s:
        group = await s.get(TopicGroup, group_id)
        if group is not None:
            group.forum_topic_id = topic_id
            group.forum_chat_id = chat_id if topic_id is not None else None


async def forget_forum_topics(db: Database) -> None:
    """The forum was replaced (a new supergroup, or the sandbox's fresh emulator): every group
    gets a new thread at the next start."""
    async with db.transaction() as s:
        await s.exec(update(TopicGroup).values(forum_topic_id=None, forum_chat_id=None))


async def groups_needing_topics(db: Database) -> list[TopicGroup]:
    async with db.read() as s:
        return list((await s.exec(select(TopicGroup).where(
            col(TopicGroup.forum_topic_id).is_(None),
            col(TopicGroup.archived_at).is_(None)).order_by(col(TopicGroup.sort)))).all())


async def groups_for_forums(db: Database) -> list[tuple[TopicGroup, str | None]]:
    """Every group with its practice community's code (None: open to all members)."""
    async with db.read() as s:
        rows = (await s.exec(select(TopicGroup, Community.code).outerjoin(
            Community, col(Community.id) == TopicGroup.community_id)
            .order_by(col(TopicGroup.sort), col(TopicGroup.id)))).all()
    return [(g, code) for g, code in rows]


async def forum_topic(db: Database, group_id: int,
                      language: str = "ky") -> tuple[int, str, int | None] | None:
    """The group's forum thread, its name and the chat it is in, if it has one."""
    async with db.read() as s:
        group = await s.get(TopicGroup, group_id)
    if group is None or group.forum_topic_id is None:
        return None
    return group.forum_topic_id, group.name(language), group.forum_chat_id
