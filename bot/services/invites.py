"""Invite links: `t.me/<bot>?start=<code>` made by staff or district leaders.

An invite pre-approves whoever redeems it and pre-fills their role, district and community.
A code is good for one person; an unknown, used or expired code is reported and onboarding goes on
normally.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, policy
from bot.services.errors import InvalidInput
from storage.db import Database
from storage.enums import Position, Role
from storage.models import Community, District, Invite
from storage.types import utcnow

CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10
VALID_FOR = timedelta(days=30)


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class InviteView:
    code: str
    role: Role
    position: Position | None
    district_id: int | None
    community_id: int | None
    created_by_id: int


def _view(invite: Invite) -> InviteView:
    return InviteView(
        code=invite.code,
        role=Role(invite.role),
        position=Position(invite.position) if invite.position else None,
        district_id=invite.district_id,
        community_id=invite.community_id,
        created_by_id=invite.created_by_id,
    )


def _problem(invite: Invite | None) -> InviteProblem | None:
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.used_by_id is not None:
        return InviteProblem.USED
    if invite.expires_at is not None and invite.expires_at < utcnow():
        return InviteProblem.EXPIRED
    return None


def _looks_like_code(code: str) -> bool:
    return 4 <= len(code) <= 40 and all(c.isalnum() or c in "-_" for c in code)


async def create_invite(
    db: Database,
    actor_id: int,
    role: Role = Role.MEMBER,
    position: Position | None = None,
    district_id: int | None = None,
    community_id: int | None = None,
) -> InviteView:
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        if not actor.is_staff and district_id is None:
            district_id = actor.district_id
        await policy.ensure(db, actor, policy.can_create_invite(actor, role, district_id),
                            policy.Action.CREATE_INVITE)
        if district_id is not None and await s.get(District, district_id) is None:
            raise InvalidInput("district")
        if community_id is not None and await s.get(Community, community_id) is None:
            raise InvalidInput("community")
        if role == Role.DISTRICT_LEADER and (district_id is None or community_id is None):
            raise InvalidInput("leader_scope")
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        invite = Invite(code=code, created_by_id=actor_id, role=role,
                        position=position, district_id=district_id, community_id=community_id,
                        expires_at=utcnow() + VALID_FOR)
        s.add(invite)
        audit.record(s, actor_id, "invite_created", "invite", None, code=code, role=str(role))
        await s.flush()
        return _view(invite)


async def check_invite(db: Database, code: str) -> InviteView | InviteProblem:
    """What a start code promises, or why it cannot be used."""
    if not _looks_like_code(code):
        return InviteProblem.UNKNOWN
    async with db.read() as s:
        invite = (await s.exec(select(Invite).where(Invite.code == code))).first()
        problem = _problem(invite)
        if problem is not None:
            return problem
        assert invite is not None
        return _view(invite)


async def redeem_invite(session: AsyncSession, code: str, member_id: int) -> InviteView | None:
    """Mark the invite used by `member_id` inside the caller's transaction; None if unusable."""
    if not _looks_like_code(code):
        return None
    invite = (await session.exec(select(Invite).where(Invite.code == code))).first()
    if _problem(invite) is not None:
        return None
    assert invite is not None
    invite.used_by_id = member_id
    invite.used_at = utcnow()
    audit.record(session, member_id, "invite_redeemed", "invite", invite.id)
    return _view(invite)
