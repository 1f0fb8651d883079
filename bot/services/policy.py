"""Who may do what: the one place where Birge's permission rules live.

Services load an `Actor` inside their transaction (so a role revoked a second ago already counts)
and ask the predicates below. Buttons and commands are never trusted: every id they carry goes
through a predicate here, in the service that acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audit import record_denied
from bot.services.errors import PermissionDenied
from storage.db import Database
from storage.enums import MemberStatus, Role
from storage.models import Member, RoleAssignment


@dataclass(frozen=True)
class Grant:
    role: Role
    community_id: int | None = None
    district_id: int | None = None


@dataclass(frozen=True)
class Actor:
    member_id: int
    status: MemberStatus
    district_id: int | None
    grants: frozenset[Grant]

    @property
    def active(self) -> bool:
        return self.status == MemberStatus.ACTIVE

    def has(self, role: Role) -> bool:
        return self.active and any(g.role == role for g in self.grants)

    @property
    def is_staff(self) -> bool:
        return self.has(Role.UNION_STAFF)

    def leads_district(self, district_id: int | None) -> bool:
        return (
            self.active
            and district_id is not None
            and any(
                g.role == Role.DISTRICT_LEADER and g.district_id == district_id
                for g in self.grants
            )
        )


    @property
    def roles(self) -> set[Role]:
        found = {g.role for g in self.grants}
        if self.active:
            found.add(Role.MEMBER)
        return found


async def load_grants(session: AsyncSession, member_id: int) -> frozenset[Grant]:
    rows = await session.exec(select(RoleAssignment).where(RoleAssignment.member_id == member_id))
    return frozenset(
        Grant(Role(r.role), r.community_id, r.district_id) for r in rows.all()
    )


async def load_actor(session: AsyncSession, member_id: int) -> Actor:
    member = await session.get(Member, member_id)
    if member is None:
        return Actor(member_id, MemberStatus.REJECTED, None, frozenset())
    return Actor(
        member_id=member_id,
        status=MemberStatus(member.status),
        district_id=member.district_id,
        grants=await load_grants(session, member_id),
    )


# --- the rules -------------------------------------------------------------------------------


class Action(StrEnum):
    DECIDE_APPLICANT = "decide_applicant"
    CREATE_INVITE = "create_invite"
    MANAGE_ROLES = "manage_roles"
    COMPOSE_BROADCAST = "compose_broadcast"
    APPROVE_BROADCAST = "approve_broadcast"
    CANCEL_BROADCAST = "cancel_broadcast"
    VIEW_BROADCAST_REPORT = "view_broadcast_report"
    CHANGE_SETTINGS = "change_settings"
    COMPILE_BULLETIN = "compile_bulletin"


def can_decide_applicant(actor: Actor, applicant_district_id: int | None) -> bool:
    """Union staff decide on anyone; a district leader on newcomers of their own district."""
    return actor.is_staff or actor.leads_district(applicant_district_id)


def can_create_invite(actor: Actor, role: Role, district_id: int | None) -> bool:
    """Staff invite anyone to any role; a leader invites plain members to their own district."""
    if actor.is_staff:
        return True
    return role == Role.MEMBER and actor.leads_district(district_id)


def can_manage_roles(actor: Actor) -> bool:
    return actor.is_staff


def can_compose_broadcast(actor: Actor) -> bool:
    """Union staff, and state-body liaisons (whose broadcasts staff approve)."""
    return actor.is_staff or actor.has(Role.STATE_LIAISON)


def can_approve_broadcast(actor: Actor) -> bool:
    return actor.is_staff


def can_manage_broadcast(actor: Actor, author_id: int) -> bool:
    """Follow, report on and cancel a broadcast: staff, or its author while still a composer."""
    return actor.is_staff or (actor.member_id == author_id and can_compose_broadcast(actor))


def can_change_settings(actor: Actor) -> bool:
    """A member's own digest, quiet hours and notification kinds: any active member."""
    return actor.active


def can_compile_bulletin(actor: Actor) -> bool:
    """The monthly bulletin is the Union's: staff compile, edit and send it."""
    return actor.is_staff


class Capability(StrEnum):
    """What /help lists for a member, by role."""

    PROFILE = "profile"
    LANGUAGE = "language"
    HELP = "help"
    INVITE = "invite"
    APPROVE = "approve"
    ADMIN = "admin"
    BROADCAST = "broadcast"
    SETTINGS = "settings"
    BULLETIN = "bulletin"


def capabilities(roles: frozenset[Role] | set[Role], active: bool) -> list[Capability]:
    """What a member with these roles can do; shown by /help and the home menu."""
    caps = [Capability.PROFILE, Capability.LANGUAGE, Capability.HELP]
    if not active:
        return caps
    if Role.UNION_STAFF in roles or Role.DISTRICT_LEADER in roles:
        caps += [Capability.INVITE, Capability.APPROVE]
    if Role.UNION_STAFF in roles:
        caps.append(Capability.ADMIN)
    if Role.UNION_STAFF in roles or Role.STATE_LIAISON in roles:
        caps.append(Capability.BROADCAST)
    caps.append(Capability.SETTINGS)
    if Role.UNION_STAFF in roles:
        caps.append(Capability.BULLETIN)
    return caps


async def ensure(
    db: Database, actor: Actor, allowed: bool, action: Action, target_id: int | None = None
) -> None:
    """Raise `PermissionDenied` (and log it) unless `allowed`."""
    if not allowed:
        await record_denied(db, actor.member_id, str(action), target_id)
        raise PermissionDenied(action=str(action))
