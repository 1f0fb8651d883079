"""Who may build which survey, for the builder's buttons (the services check again on send)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.services import policy
from storage.db import Database
from storage.enums import Role
from storage.models import GroupModerator, TopicGroup


async def group_choices(db: Database, actor_id: int, lang: str) -> list[tuple[int, str, bool]]:
    """The topic groups this member may survey (all for staff, their own for a moderator):
    (id, name, has a forum thread)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        query = select(TopicGroup).where(col(TopicGroup.archived_at).is_(None)) \
            .order_by(col(TopicGroup.sort), col(TopicGroup.id))
        if not actor.is_staff:
            query = query.where(col(TopicGroup.id).in_(select(GroupModerator.group_id).where(
                GroupModerator.member_id == actor_id)))
        return [(g.id or 0, g.name(lang), g.forum_topic_id is not None)
                for g in (await s.exec(query)).all()]


async def leads(db: Database, actor_id: int) -> bool:
    """A district leader (their surveys go to their district)."""
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        return actor.active and any(g.role == Role.DISTRICT_LEADER for g in actor.grants)


async def is_staff(db: Database, actor_id: int) -> bool:
    async with db.read() as s:
        return (await policy.load_actor(s, actor_id)).is_staff
