"""Role assignments: bootstrapping the first Union staff member, granting and revoking roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, policy
from bot.services.errors import InvalidInput, InvalidState, NotFound
from storage.db import Database
from storage.enums import MemberStatus, Position, Role
from storage.models import Community, District, Member, RoleAssignment
from storage.types import utcnow


async def staff_ids(s: AsyncSession, *, active_only: bool = False) -> list[int]:
    """Every Union staff member's id, once each, in order (whom staff notices go to)."""
    query = select(RoleAssignment.member_id).where(RoleAssignment.role == Role.UNION_STAFF)
    if active_only:
        query = query.join(Member, col(Member.id) == RoleAssignment.member_id).where(
            Member.status == MemberStatus.ACTIVE)
    return sorted(set((await s.exec(query)).all()))


async def bootstrap_admin(db: Database, telegram_id: int, full_name: str = "Admin") -> int:
    """Make the member with this Telegram id Union staff (creating them if new). Idempotent.

    Used from the command line, where there is no acting member yet.
    """
    async with db.transaction() as s:
        member = (await s.exec(select(Member).where(Member.telegram_id == telegram_id))).first()
        if member is None:
            member = Member(telegram_id=telegram_id, full_name=full_name,
                            position=Position.EXPERT, status=MemberStatus.ACTIVE,
                            consent_at=None, decided_at=utcnow())
            s.add(member)
            await s.flush()
        elif member.status != MemberStatus.ACTIVE:
            member.status = MemberStatus.ACTIVE
            member.decided_at = utcnow()
        assert member.id is not None
        existing = (
            await s.exec(
                select(RoleAssignment).where(
                    RoleAssignment.member_id == member.id,
                    RoleAssignment.role == Role.UNION_STAFF,
                )
            )
        ).first()
        if existing is None:
            s.add(RoleAssignment(member_id=member.id, role=Role.UNION_STAFF))
            audit.record(s, None, "role_granted", "member", member.id, role=Role.UNION_STAFF,
                         via="cli")
        return member.id


async def _check_scope(
    db: Database, role: Role, community_id: int | None, district_id: int | None
) -> None:
    async with db.read() as s:
        if community_id is not None and await s.get(Community, community_id) is None:
            raise InvalidInput("community")
        if district_id is not None and await s.get(District, district_id) is None:
            raise InvalidInput("district")
    if role == Role.DISTRICT_LEADER and (community_id is None or district_id is None):
        raise InvalidInput("leader_scope")


def _scope(column: Any, value: int | None) -> Any:
    return col(column).is_(None) if value is None else col(column) == value


def _matching(member_id: int, role: Role, community_id: int | None,
              district_id: int | None) -> Any:
    """The member's assignments of `role` in exactly this scope (NULL-safe)."""
    return select(RoleAssignment).where(
        RoleAssignment.member_id == member_id, RoleAssignment.role == role,
        _scope(RoleAssignment.community_id, community_id),
        _scope(RoleAssignment.district_id, district_id))


async def grant_role(
    db: Database,
    actor_id: int | None,
    member_id: int,
    role: Role,
    community_id: int | None = None,
    district_id: int | None = None,
) -> None:
    """Give a member a role. `actor_id=None` is the command line (trusted operator)."""
    await _check_scope(db, role, community_id, district_id)
    try:
        async with db.transaction() as s:
            if actor_id is not None:
                actor = await policy.load_actor(s, actor_id)
                await policy.ensure(db, actor, policy.can_manage_roles(actor),
                                    policy.Action.MANAGE_ROLES, member_id)
            if await s.get(Member, member_id) is None:
                raise NotFound(what="member")
            existing = (await s.exec(_matching(member_id, role, community_id,
                                               district_id))).first()
            if existing is not None:
                return
            s.add(RoleAssignment(member_id=member_id, role=role, community_id=community_id,
                                 district_id=district_id, granted_by_id=actor_id))
            audit.record(s, actor_id, "role_granted", "member", member_id, role=str(role),
                         community_id=community_id, district_id=district_id)
            await s.flush()
    except IntegrityError as exc:
        raise InvalidState("leader_taken") from exc


async def revoke_role(
    db: Database,
    actor_id: int | None,
    member_id: int,
    role: Role,
    community_id: int | None = None,
    district_id: int | None = None,
) -> bool:
    async with db.transaction() as s:
        if actor_id is not None:
            actor = await policy.load_actor(s, actor_id)
            await policy.ensure(db, actor, policy.can_manage_roles(actor),
                                policy.Action.MANAGE_ROLES, member_id)
        rows = (await s.exec(_matching(member_id, role, community_id, district_id))).all()
        for row in rows:
            await s.delete(row)
        if rows:
            audit.record(s, actor_id, "role_revoked", "member", member_id, role=str(role))
        return bool(rows)
